import { afterEach, describe, expect, it, vi } from "vitest";
import widget, {
  connectionText,
  formatBytes,
  formatDuration,
  progressText,
  renderRow,
  rowState,
} from "../src/widget.js";

/** A fake anywidget model: get/set/on/off/send, like the real one. */
function fakeModel(state) {
  const handlers = new Map();
  return {
    sent: [],
    get: (k) => state[k],
    set(k, v) {
      state[k] = v;
      for (const h of handlers.get(`change:${k}`) || []) h();
    },
    on: (e, h) => handlers.set(e, [...(handlers.get(e) || []), h]),
    off: (e, h) =>
      handlers.set(
        e,
        (handlers.get(e) || []).filter((x) => x !== h),
      ),
    send(msg) {
      this.sent.push(msg);
    },
    handlers,
  };
}

const local = { id: "m1", name: "Model One", bytes: { value: 33554432 }, version: "1.0" };
const dl = (over = {}) => ({
  status: "IN-PROGRESS",
  percentage: 42.5,
  bytes_done: 14260633,
  bytes_total: 33554432,
  speed: 6291456,
  eta: 3.1,
  stalled: false,
  error: null,
  ...over,
});
const buttons = (row) => [...row.querySelectorAll("button")].map((b) => b.textContent);

describe("formatting", () => {
  it("formats bytes, durations and progress", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(33554432)).toBe("33.6 MB");
    expect(formatBytes(null)).toBe("?");
    expect(formatDuration(3.1)).toBe("3 s");
    expect(formatDuration(125)).toBe("2 min 5 s");
    expect(formatDuration(7300)).toBe("2 h 1 min");
    expect(progressText(dl())).toBe("42.5 % · 14.3 MB / 33.6 MB · 6.3 MB/s · 3 s left");
    expect(progressText(dl({ stalled: true, stalled_for: 20 }))).toBe(
      "42.5 % · 14.3 MB / 33.6 MB · stalled for 20 s",
    );
  });

  it("says what the connection is", () => {
    expect(connectionText({ state: "connected", version: "11.0.0", base_url: "http://x" })).toBe(
      "Connected to Pieces OS 11.0.0 at http://x",
    );
    expect(connectionText({ state: "unreachable", message: "down" })).toContain(
      "unreachable: down",
    );
  });
});

describe("rows per state", () => {
  const send = () => {};
  const edit = () => {};
  it("offers the actions that fit the state", () => {
    expect(buttons(renderRow(local, {}, send, edit))).toEqual(["Download", "Details"]);
    expect(buttons(renderRow({ ...local, downloaded: true }, {}, send, edit))).toEqual([
      "Load",
      "Details",
    ]);
    expect(
      buttons(renderRow({ ...local, downloaded: true, loaded: true }, {}, send, edit)),
    ).toEqual(["Unload", "Details"]);
    expect(buttons(renderRow({ ...local, cloud: true }, {}, send, edit))).toEqual(["Details"]);
    expect(buttons(renderRow({ ...local, custom: true }, {}, send, edit))).toEqual([
      "Download",
      "Edit",
      "Details",
    ]);
  });

  it("shows a progress bar while downloading", () => {
    const row = renderRow(local, { download: dl() }, send, edit);
    expect(buttons(row)).toEqual(["Cancel", "Details"]);
    const bar = row.querySelector('[role="progressbar"]');
    expect(bar.getAttribute("aria-valuenow")).toBe("42.5");
    expect(bar.getAttribute("aria-valuemin")).toBe("0");
    expect(bar.getAttribute("aria-valuemax")).toBe("100");
    expect(row.querySelector('[role="status"]').textContent).toBe("Downloading");
    expect(rowState(local, { download: dl() }).badges).toContain("Downloading");
  });

  it("returns to Download after a cancel and says so", () => {
    const row = renderRow(local, { download: dl({ status: "CANCELED" }) }, send, edit);
    expect(buttons(row)).toEqual(["Download", "Details"]);
    expect(row.querySelector('[role="progressbar"]')).toBeNull();
    expect(row.querySelector('[role="status"]').textContent).toBe("Download canceled");
  });

  it("shows errors in an alert with a Retry", () => {
    const row = renderRow(local, { error: "model is not downloaded" }, send, edit);
    const alert = row.querySelector('[role="alert"]');
    expect(alert.textContent).toContain("model is not downloaded");
    expect(buttons(alert)).toEqual(["Retry"]);
  });

  it("names the model in every action's aria-label", () => {
    const row = renderRow({ ...local, downloaded: true }, {}, send, edit);
    for (const b of row.querySelectorAll("button"))
      expect(b.getAttribute("aria-label")).toContain("Model One");
  });

  it("inserts server strings as text, never as HTML", () => {
    const evil = { id: "x", name: '<img src=x onerror="alert(1)">', description: "<b>b</b>" };
    const row = renderRow(evil, { error: "<script>bad()</script>", details: evil }, send, edit);
    expect(row.querySelector("img")).toBeNull();
    expect(row.querySelector("script")).toBeNull();
    expect(row.querySelector("b")).toBeNull();
    expect(row.querySelector(".pw-name").textContent).toBe(evil.name);
  });
});

describe("render", () => {
  afterEach(() => vi.useRealTimers());

  it("renders rows, sends commands, filters, and cleans up", async () => {
    const model = fakeModel({
      models: [local, { id: "c", name: "Cloud", cloud: true, foundation: "GPT_4" }],
      downloads: {},
      connection: { state: "connected", base_url: "http://h", version: "11.0.0" },
      error: "",
    });
    const host = document.createElement("div");
    document.body.append(host);
    const cleanup = widget.render({ model, el: host });
    expect(host.querySelectorAll("[data-model-id]").length).toBe(2);
    expect(host.querySelector(".pieces-connection").dataset.state).toBe("connected");
    host.querySelector('[data-model-id="m1"] button').click();
    expect(model.sent).toEqual([{ action: "download", id: "m1" }]);

    model.set("downloads", { m1: dl() });
    await new Promise((r) => requestAnimationFrame(r));
    expect(host.querySelector('[role="progressbar"]').getAttribute("aria-valuenow")).toBe("42.5");

    const filter = host.querySelector(".pw-filter");
    filter.value = "gpt";
    filter.dispatchEvent(new Event("input"));
    await new Promise((r) => requestAnimationFrame(r));
    expect([...host.querySelectorAll("[data-model-id]")].map((r) => r.dataset.modelId)).toEqual([
      "c",
    ]);

    cleanup();
    expect(host.querySelector(".pieces-widget")).toBeNull();
    expect([...model.handlers.values()].every((hs) => hs.length === 0)).toBe(true);
  });

  it("keeps two views of one model consistent", async () => {
    const model = fakeModel({ models: [local], downloads: {}, connection: {}, error: "" });
    const a = document.createElement("div");
    const b = document.createElement("div");
    const cleanups = [widget.render({ model, el: a }), widget.render({ model, el: b })];
    model.set("models", [{ ...local, downloaded: true, loaded: true }]);
    await new Promise((r) => requestAnimationFrame(r));
    for (const host of [a, b])
      expect(buttons(host.querySelector("[data-model-id]"))).toEqual(["Unload", "Details"]);
    for (const c of cleanups) c();
  });
});
