import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { timing } from "../src/view.js";
import widget, { newViewId } from "../src/widget.js";
import {
  button,
  buttonTexts,
  connected,
  dl,
  fakeModel,
  frame,
  GB,
  local,
  mount,
  row,
  shown,
  specEnum,
  traits,
} from "./helpers.js";

/** @type {(() => void)[]} */
let cleanups = [];
/** @param {Parameters<typeof mount>[0]} [state] */
function view(state) {
  const v = mount(state);
  cleanups.push(v.cleanup);
  return v;
}
const PROGRESS_MS = timing.progressMs;
beforeEach(() => {
  timing.progressMs = 0; // every tick draws on the next frame (the throttle has its own test)
});
afterEach(() => {
  timing.progressMs = PROGRESS_MS;
  for (const c of cleanups) c();
  cleanups = [];
  document.body.replaceChildren();
  vi.useRealTimers();
});

/** @param {Element} target @param {string} type */
const mouse = (target, type) =>
  target.dispatchEvent(new MouseEvent(type, { bubbles: true, cancelable: true, button: 0 }));
/** A full mouse click the way a person makes it. */
const press = (/** @type {Element} */ target) => {
  mouse(target, "mousedown");
  mouse(target, "mouseup");
  mouse(target, "click");
};
const bar = (/** @type {ParentNode} */ node) => node.querySelector('[role="progressbar"]');
const statusOf = (/** @type {ParentNode} */ node) =>
  node.querySelector('[role="status"]')?.textContent;
/** Type into the filter box. @param {ParentNode} host @param {string} text */
const typeFilter = (host, text) => {
  const filter = /** @type {HTMLInputElement} */ (host.querySelector(".pw-filter"));
  filter.value = text;
  filter.dispatchEvent(new Event("input", { bubbles: true }));
};

describe("rows built once and patched in place", () => {
  it("keeps the row, its buttons, bar and status elements across 50 ticks", async () => {
    const { host, model } = view(
      traits({ models: [local()], downloads: { m1: dl({ percentage: 0 }) } }),
    );
    const r = row(host, "m1");
    const cancel = button(r, "cancel");
    const details = button(r, "details");
    const status = r.querySelector('[role="status"]');
    const progressbar = bar(r);
    expect(cancel.textContent).toBe("Cancel");
    for (let i = 1; i <= 50; i += 1) {
      model.set("downloads", { m1: dl({ percentage: i, bytes_done: i * 1000, speed: 1000 + i }) });
      await frame();
      expect(row(host, "m1")).toBe(r);
      expect(button(r, "cancel")).toBe(cancel);
    }
    expect(button(r, "details")).toBe(details);
    expect(r.querySelector('[role="status"]')).toBe(status);
    expect(bar(r)).toBe(progressbar);
    expect(progressbar?.getAttribute("aria-valuenow")).toBe("50");
    const fill = /** @type {HTMLElement} */ (progressbar?.firstElementChild);
    expect(fill.style.width).toBe("50%");
    expect(shown(r.querySelector(".pw-progress-text"))).toContain("50 %");
  });

  it("lands a mouse press that spans a tick on the same button, once", async () => {
    const { host, model } = view(traits({ models: [local()], downloads: { m1: dl() } }));
    const cancel = button(row(host, "m1"), "cancel");
    mouse(cancel, "mousedown");
    model.set("downloads", { m1: dl({ percentage: 43 }) });
    await frame();
    model.set("downloads", { m1: dl({ percentage: 44 }) });
    await frame();
    expect(cancel.isConnected).toBe(true);
    expect(button(row(host, "m1"), "cancel")).toBe(cancel);
    mouse(cancel, "mouseup");
    mouse(cancel, "click");
    expect(model.sent).toEqual([{ action: "cancel", id: "m1" }]);
  });

  it("does nothing when the button turned into another action under the press", async () => {
    const { host, model } = view(traits({ models: [local()], downloads: { m1: dl() } }));
    const main = button(row(host, "m1"), "cancel");
    mouse(main, "mousedown");
    model.set("models", [local({ downloaded: true })]);
    model.set("downloads", { m1: dl({ status: "COMPLETED", percentage: 100 }) });
    await frame();
    expect(main.dataset.action).toBe("load"); // same element, now Load
    mouse(main, "mouseup");
    mouse(main, "click");
    expect(model.sent).toEqual([]);
    press(main); // a fresh click works
    expect(model.sent).toEqual([{ action: "load", id: "m1" }]);
  });

  it("never moves focus: it stays on the button through ticks and state changes", async () => {
    const { host, model } = view(traits({ models: [local()] }));
    const main = button(row(host, "m1"), "download");
    main.focus();
    main.click(); // keyboard activation: no mousedown
    expect(model.sent).toEqual([{ action: "download", id: "m1" }]);
    for (let i = 0; i < 10; i += 1) {
      model.set("downloads", { m1: dl({ percentage: i * 10 }) });
      await frame();
      expect(document.activeElement).toBe(main);
    }
    expect(main.textContent).toBe("Cancel");
    expect(main.getAttribute("aria-label")).toBe("Cancel Model One");
    /** @type {HTMLElement} */ (row(host, "m1").querySelector("button.pw-more")).click();
    const details = button(row(host, "m1"), "details");
    expect(document.activeElement).toBe(details); // the menu's first item
    model.set("models", [local({ name: "Renamed" })]);
    await frame();
    expect(document.activeElement).toBe(details);
  });

  it("keeps an open Edit form's text, caret and focus whatever arrives", async () => {
    const custom = local({ custom: true, description: "old" });
    const { host, model } = view(traits({ models: [custom], downloads: { m1: dl() } }));
    press(button(row(host, "m1"), "edit"));
    await frame();
    const form = /** @type {HTMLFormElement} */ (row(host, "m1").querySelector("form.pw-edit"));
    const name = /** @type {HTMLInputElement} */ (form.elements.namedItem("name"));
    expect(name.value).toBe("Model One");
    name.focus();
    name.value = "My own na";
    name.setSelectionRange(3, 3);
    for (let i = 0; i < 20; i += 1) {
      model.set("downloads", { m1: dl({ percentage: 40 + i }) });
      model.set("models", [{ ...custom, name: `Server name ${i}` }]);
      model.set("_busy", i % 2 ? { m1: "saving" } : {});
      await frame();
    }
    expect(row(host, "m1").querySelector("form.pw-edit")).toBe(form);
    expect(name.value).toBe("My own na");
    expect(document.activeElement).toBe(name);
    expect([name.selectionStart, name.selectionEnd]).toEqual([3, 3]);
    model.set("_busy", {}); // the row's last save answered: Save takes a submit again
    await frame();
    name.value = "My own name";
    form.requestSubmit();
    expect(model.sent.at(-1)).toEqual({
      action: "update",
      id: "m1",
      fields: { name: "My own name", description: "old" },
    });
    await frame();
    expect(row(host, "m1").querySelector("form.pw-edit")).toBe(form); // open until answered
    model.set("models", [{ ...custom, name: "My own name" }]);
    model.set("_busy", {});
    await frame();
    expect(row(host, "m1").querySelector("form.pw-edit")).toBeNull();
  });

  /** A custom model's row with its Edit form open. */
  async function openEdit() {
    const custom = local({ custom: true, description: "old" });
    const { host, model } = view(traits({ models: [custom] }));
    const r = row(host, "m1");
    press(button(r, "edit"));
    await frame();
    const form = /** @type {HTMLFormElement} */ (r.querySelector("form.pw-edit"));
    return { custom, model, r, form };
  }

  it("saves on Enter in the Name field, once; Shift+Enter and Enter in Description do not", async () => {
    const { model, form } = await openEdit();
    const name = /** @type {HTMLInputElement} */ (form.elements.namedItem("name"));
    const desc = /** @type {HTMLTextAreaElement} */ (form.elements.namedItem("description"));
    const enter = (/** @type {Element} */ t, over = {}) =>
      t.dispatchEvent(
        new KeyboardEvent("keydown", { key: "Enter", bubbles: true, cancelable: true, ...over }),
      );
    name.value = "By Enter";
    const sent = model.sent.length;
    expect(enter(desc)).toBe(true); // a new line in the description
    expect(enter(name, { shiftKey: true })).toBe(true);
    expect(model.sent.length).toBe(sent);
    expect(enter(name)).toBe(false); // taken: the browser's own submit would not come in JupyterLab
    expect(model.sent.slice(sent)).toEqual([
      { action: "update", id: "m1", fields: { name: "By Enter", description: "old" } },
    ]);
  });

  it("keeps a refused save's form open with what was typed, beside the reason", async () => {
    const { custom, model, r, form } = await openEdit();
    const name = /** @type {HTMLInputElement} */ (form.elements.namedItem("name"));
    const save = /** @type {HTMLButtonElement} */ (form.querySelector('button[type="submit"]'));
    name.value = "Taken name";
    form.requestSubmit();
    await frame();
    expect(r.querySelector("form.pw-edit")).toBe(form);
    model.set("_busy", { m1: "saving" });
    await frame();
    expect(r.querySelector("form.pw-edit")).toBe(form);
    // on its way: aria-disabled (a focused Save keeps the focus), a second submit sends nothing
    expect(save.getAttribute("aria-disabled")).toBe("true");
    const sent = model.sent.length;
    form.requestSubmit();
    expect(model.sent.length).toBe(sent);
    expect(statusOf(r)).toBe("Saving…");
    model.set("_row_errors", { m1: "Pieces OS refused the change (HTTP 400): name taken" });
    model.set("models", [{ ...custom }]); // what the server has now
    model.set("_busy", {});
    await frame();
    expect(r.querySelector("form.pw-edit")).toBe(form);
    expect(name.value).toBe("Taken name");
    expect(save.getAttribute("aria-disabled")).toBe(null);
    expect(save.disabled).toBe(false);
    const alert = /** @type {HTMLElement} */ (r.querySelector('[role="alert"]'));
    expect(alert.textContent).toContain("HTTP 400): name taken");
    expect(button(alert, "download").hidden).toBe(true); // Save is the retry, not Download
    // fixed and saved again: the old error goes, the form closes on the answer
    name.value = "Free name";
    form.requestSubmit();
    await frame();
    expect(r.querySelector("form.pw-edit")).toBe(form); // the old error is not this answer
    model.set("_row_errors", {});
    model.set("models", [{ ...custom, name: "Free name" }]); // busy came and went unseen
    await frame();
    expect(r.querySelector("form.pw-edit")).toBeNull();
    expect(r.querySelector('[role="alert"]')).toBeNull();
    expect(model.sent.filter((m) => m.action === "update").length).toBe(2);
  });

  it("closes the Edit form when the save went through, and not before", async () => {
    const { custom, model, r, form } = await openEdit();
    const desc = /** @type {HTMLTextAreaElement} */ (form.elements.namedItem("description"));
    desc.value = "  new words  ";
    form.requestSubmit();
    expect(model.sent).toEqual([
      { action: "update", id: "m1", fields: { name: "Model One", description: "  new words  " } },
    ]);
    model.set("downloads", { m1: dl() }); // unrelated news
    await frame();
    expect(r.querySelector("form.pw-edit")).toBe(form);
    model.set("_busy", { m1: "saving" });
    model.set("_busy", {}); // within one frame; the server trimmed the text
    model.set("models", [{ ...custom, description: "new words" }]);
    await frame();
    expect(r.querySelector("form.pw-edit")).toBeNull();
    expect(button(r, "edit").getAttribute("aria-expanded")).toBe("false");
    press(button(r, "edit"));
    await frame();
    const again = /** @type {HTMLFormElement} */ (r.querySelector("form.pw-edit"));
    expect(again).not.toBe(form);
    expect(/** @type {HTMLTextAreaElement} */ (again.elements.namedItem("description")).value).toBe(
      "new words",
    );
  });

  it("shows no raw UPPER_CASE enum token in any row", async () => {
    const foundations = specEnum("ModelFoundationEnum");
    const providers = specEnum("ExternalMLProviderEnum");
    const models = foundations.map((f, i) =>
      local({
        id: `m${i}`,
        name: `Model ${i}`,
        foundation: f,
        provider: providers[i % providers.length],
        type: "BALANCED",
        usage: "CODE_GENERATION",
      }),
    );
    const { host } = view(traits({ models }));
    for (let i = 0; i < 5; i += 1) press(button(row(host, `m${i}`), "details"));
    await frame();
    const rows = [...host.querySelectorAll("[data-model-id]")];
    expect(rows.length).toBe(foundations.length);
    for (const r of rows) expect(r.textContent).not.toMatch(/[A-Z]{2,}_[A-Z]/);
    expect(row(host, "m0").querySelector(".pw-details")?.textContent).toContain("Code generation");
  });

  it("inserts server strings as text, never as HTML", async () => {
    const evil = '<img src=x onerror="alert(1)"><b>b</b>';
    const { host } = view(
      traits({
        models: [local({ name: evil, description: evil })],
        _row_errors: { m1: "<script>bad()</script>" },
      }),
    );
    press(button(row(host, "m1"), "details"));
    await frame();
    expect(host.querySelector("img, b, script")).toBeNull();
    expect(row(host, "m1").querySelector(".pw-name")?.textContent).toBe(evil);
  });
});

describe("the runtime notice", () => {
  it("offers what Pieces OS can do: install, update, retry; nothing where the user must act", async () => {
    const { host, model } = view(traits());
    const notice = /** @type {HTMLElement} */ (host.querySelector(".pw-runtime"));
    const offer = /** @type {HTMLButtonElement} */ (
      notice.querySelector('button[data-action="install_runtime"]')
    );
    const shows = async (/** @type {Record<string, unknown>} */ runtime) => {
      model.set("runtime", { version: "", percentage: null, message: "", ...runtime });
      await frame();
      return offer.hidden ? null : offer.textContent;
    };
    expect(await shows({ state: "installed", offer: "" })).toBeNull();
    expect(notice.hidden).toBe(true);
    expect(await shows({ state: "missing", offer: "install" })).toBe("Install Ollama");
    const needs = "Ollama 0.6.2 needs an update to 0.7.0: Pieces OS can update it.";
    expect(await shows({ state: "update-required", offer: "update", message: needs })).toBe(
      "Update Ollama",
    );
    expect(offer.getAttribute("aria-label")).toBe("Update Ollama through Pieces OS");
    const mine = "Ollama 0.6.2 needs an update to 0.7.0: update it yourself (Pieces OS cannot).";
    expect(await shows({ state: "update-required", offer: "", message: mine })).toBeNull();
    expect(notice.textContent).toContain("update it yourself");
    expect(
      await shows({ state: "failed", offer: "update", message: "The Ollama update failed: x." }),
    ).toBe("Retry update");
    expect(
      await shows({ state: "failed", offer: "install", message: "The Ollama install failed: x." }),
    ).toBe("Retry install");
    expect(await shows({ state: "installing", offer: "", percentage: 40 })).toBeNull();
  });
});

describe("connection, one place", () => {
  it("shows the Python side's words in the banner with Retry, and dims and disables rows", async () => {
    const { host, model } = view(
      traits({ models: [local({ downloaded: true })], error: "some error for code" }),
    );
    const banner = /** @type {HTMLElement} */ (host.querySelector(".pieces-connection"));
    expect(banner.getAttribute("role")).toBe("status");
    expect(banner.dataset.state).toBe("connected");
    expect(banner.textContent).toContain("Connected to Pieces OS 11.0.0 at http://127.0.0.1:39300");
    expect(button(banner, "refresh").hidden).toBe(true);
    const message = "Can't reach Pieces OS at 127.0.0.1:39300. Is it running?";
    model.set("connection", { ...connected, state: "unreachable", message });
    await frame();
    expect(banner.dataset.state).toBe("unreachable");
    expect(banner.textContent).toContain(message);
    const retry = button(banner, "refresh");
    expect(retry.hidden).toBe(false);
    expect(retry.getAttribute("aria-label")).toBe("Retry connecting to Pieces OS");
    press(retry);
    expect(model.sent).toEqual([{ action: "refresh" }]);
    const root = /** @type {HTMLElement} */ (host.querySelector(".pieces-widget"));
    expect(root.classList.contains("pw-unreachable")).toBe(true);
    const r = row(host, "m1");
    expect(button(r, "load").disabled).toBe(true);
    expect(button(r, "delete").disabled).toBe(true);
    expect(button(r, "details").disabled).toBe(false);
    // errors show once: never a third, global alert for the `error` trait
    expect(host.textContent).not.toContain("some error for code");
    expect(host.querySelectorAll('[role="alert"]:not([hidden])').length).toBe(0);
    model.set("connection", connected);
    await frame();
    expect(root.classList.contains("pw-unreachable")).toBe(false);
    expect(button(r, "load").disabled).toBe(false);
  });

  it("says a running download waits for Pieces OS as soon as the banner goes red", async () => {
    const { host, model } = view(traits({ models: [local()], downloads: { m1: dl() } }));
    const r = row(host, "m1");
    const text = () => shown(r.querySelector(".pw-progress-text"));
    expect(text()).toContain("/s");
    model.set("connection", { ...connected, state: "unreachable", message: "gone" });
    await frame();
    expect(statusOf(r)).toBe("Waiting for Pieces OS…");
    expect(r.querySelector(".pw-badge")).toBeNull();
    expect(text()).toBe("Waiting for Pieces OS… · 42.5 % · 14.3 MB / 33.6 MB");
    // the kernel's job keeps ticking with a decaying speed and a growing ETA: none of it shows
    model.set("downloads", { m1: dl({ speed: 100, eta: 9000, stalled: true, stalled_for: 11 }) });
    await frame();
    expect(text()).toBe("Waiting for Pieces OS… · 42.5 % · 14.3 MB / 33.6 MB");
    expect(bar(r)?.getAttribute("aria-valuenow")).toBe("42.5");
    expect(bar(r)?.classList.contains("pw-stalled")).toBe(false);
    model.set("connection", connected);
    model.set("downloads", { m1: dl() });
    await frame();
    expect(statusOf(r)).toBe("");
    expect(r.querySelector(".pw-badge")?.textContent).toBe("Downloading");
    expect(text()).toContain("ETA");
  });
});

describe("states that read right", () => {
  it("alerts a failed download with its reason; Download (or Resume) is its one retry", async () => {
    const { host, model } = view(traits({ models: [local()], downloads: { m1: dl() } }));
    model.set("downloads", { m1: dl({ status: "FAILED", error: "not enough disk space" }) });
    model.set("_row_errors", { m1: "not enough disk space" });
    await frame();
    const r = row(host, "m1");
    const alerts = r.querySelectorAll('[role="alert"]');
    expect(alerts.length).toBe(1);
    expect(alerts[0].textContent).toContain("not enough disk space");
    expect(bar(r)).toBeNull();
    expect(alerts[0].querySelectorAll("button:not([hidden])").length).toBe(0);
    const downloads = [...r.querySelectorAll('button[data-action="download"]:not([hidden])')];
    expect(downloads.map((b) => b.textContent)).toEqual(["Download"]);
    model.set("models", [local({ partialBytes: 0.466 * 4.9 * GB })]); // interrupted, resumable
    await frame();
    expect(
      [...r.querySelectorAll('button[data-action="download"]:not([hidden])')].map(
        (b) => b.textContent,
      ),
    ).toEqual(["Resume (46 %)"]);
    press(downloads[0]);
    expect(model.sent).toEqual([{ action: "download", id: "m1" }]);
    model.set("_row_errors", {});
    model.set("downloads", { m1: dl({ percentage: 1 }) });
    await frame();
    expect(r.querySelector('[role="alert"]')).toBeNull();
  });

  it("collapses a finished bar 2 s after this view saw it finish, leaving On device", () => {
    vi.useFakeTimers();
    const { host, model } = view(traits({ models: [local()], downloads: { m1: dl() } }));
    const r = row(host, "m1");
    model.set("downloads", { m1: dl({ status: "COMPLETED", percentage: 100 }) });
    model.set("models", [local({ downloaded: true })]);
    vi.advanceTimersByTime(20);
    expect(bar(r)?.getAttribute("aria-valuenow")).toBe("100");
    expect(statusOf(r)).toBe("Download complete");
    vi.advanceTimersByTime(1500);
    expect(bar(r)).not.toBeNull();
    vi.advanceTimersByTime(600);
    expect(bar(r)).toBeNull();
    expect(statusOf(r)).toBe("");
    expect(r.querySelector(".pw-badge")?.textContent).toBe("On device");
    expect(buttonTexts(r)).toEqual(["Load", "Details", "Delete"]);
  });

  it("shows no bar for an entry first seen finished, nor after the weights are gone", async () => {
    const done = { m1: dl({ status: "COMPLETED", percentage: 100 }) };
    const { host, model } = view(
      traits({ models: [local({ downloaded: true })], downloads: done }),
    );
    const r = row(host, "m1");
    expect(bar(r)).toBeNull();
    expect(statusOf(r)).toBe("");
    model.set("models", [local({ downloaded: false })]);
    await frame();
    expect(bar(r)).toBeNull();
    expect(buttonTexts(r)).toEqual(["Download", "Details"]);
  });

  it("says a canceled download was canceled, without a bar", async () => {
    const { host, model } = view(traits({ models: [local()], downloads: { m1: dl() } }));
    model.set("downloads", { m1: dl({ status: "CANCELED", percentage: 37.2 }) });
    await frame();
    const r = row(host, "m1");
    expect(statusOf(r)).toBe("Download canceled");
    expect(bar(r)).toBeNull();
    // no partialBytes from the server: nothing is promised to be kept, so plain Download
    expect(buttonTexts(r)).toEqual(["Download", "Details"]);
    model.set("models", [local({ partialBytes: 1.813 * GB })]); // the server keeps 1.8 GB
    await frame();
    expect(buttonTexts(r)).toEqual(["Resume (37 %)", "Details", "Discard partial (1.8 GB)"]);
    const discard = button(r, "discard");
    expect(discard.title).toBe("Throw away the partial download and free its 1.8 GB");
    press(discard);
    await frame();
    expect(r.querySelector(".pw-confirm")?.textContent).toContain(
      "Discard the 1.8 GB partial download?",
    );
    press(/** @type {Element} */ (r.querySelector('.pw-confirm button[data-action="discard"]')));
    expect(model.sent).toEqual([{ action: "delete", id: "m1" }]);
  });

  it("shows an unknown ETA as — and a stall in the badge, status, text and bar colour", async () => {
    const { host, model } = view(traits({ models: [local()], downloads: { m1: dl() } }));
    const r = row(host, "m1");
    expect(r.querySelector(".pw-badge")?.textContent).toBe("Downloading");
    model.set("downloads", { m1: dl({ eta: null, speed: 0 }) });
    await frame();
    expect(shown(r.querySelector(".pw-progress-text"))).toContain("ETA —");
    expect(r.querySelector(".pw-badge")?.textContent).toBe("Downloading");
    model.set("downloads", { m1: dl({ eta: null, speed: 0, stalled: true, stalled_for: 12 }) });
    await frame();
    expect(r.querySelector(".pw-badge")?.textContent).toBe("Stalled");
    expect(statusOf(r)).toBe(""); // said once, in the badge
    expect(shown(r.querySelector(".pw-progress-text"))).toContain("stalled for 12 s");
    expect(bar(r)?.classList.contains("pw-stalled")).toBe(true);
    model.set("downloads", { m1: dl() });
    await frame();
    expect(bar(r)?.classList.contains("pw-stalled")).toBe(false);
  });

  it("opens Details as a labelled panel that follows the model live and closes", async () => {
    const { host, model } = view(traits({ models: [local({ downloaded: true })] }));
    const r = row(host, "m1");
    const toggle = button(r, "details");
    press(toggle);
    expect(model.sent).toEqual([{ action: "snapshot", id: "m1" }]);
    await frame();
    const panel = /** @type {HTMLElement} */ (r.querySelector(".pw-details"));
    const field = (/** @type {string} */ label) => {
      const dt = [...panel.querySelectorAll("dt")].find((d) => d.textContent === label);
      return dt?.nextElementSibling?.textContent;
    };
    expect(toggle.textContent).toBe("Hide details");
    expect(toggle.getAttribute("aria-expanded")).toBe("true");
    expect(field("Foundation")).toBe("Phi-3 Mini");
    expect(field("Provider")).toBe("Microsoft");
    expect(field("Context")).toBe("4K tokens");
    expect(field("Parameters")).toBe("3.8 billion");
    expect(field("State")).toBe("On device");
    model.set("models", [local({ downloaded: true, loaded: true, ram: { value: 7.2 * GB } })]);
    await frame();
    expect(r.querySelector(".pw-details")).toBe(panel);
    expect(field("State")).toBe("On device · Loaded");
    expect(field("RAM")).toBe("7.2 GB");
    press(toggle);
    await frame();
    expect(r.querySelector(".pw-details")).toBeNull();
    expect(toggle.textContent).toBe("Details");
    expect(model.sent.length).toBe(1);
  });
});

describe("disk and memory", () => {
  it("summarizes the header and offers Unload all while anything is loaded", async () => {
    const { host, model } = view(
      traits({
        models: [
          local({
            id: "a",
            downloaded: true,
            loaded: true,
            bytes: { value: 6.15 * GB },
            ram: { value: 6.1 * GB },
          }),
          local({ id: "b", downloaded: true, bytes: { value: 6.15 * GB } }),
          local({ id: "c" }),
        ],
      }),
    );
    const summary = host.querySelector(".pw-summary");
    expect(shown(summary)).toBe(
      "Disk: 2 models, 12.3 GB · 180 GB free · Memory: 1 model loaded, 6.1 GB of 32 GB",
    );
    const unloadAll = button(host, "unload_all");
    expect(unloadAll.hidden).toBe(false);
    expect(unloadAll.hasAttribute("aria-disabled")).toBe(false);
    expect(unloadAll.textContent).toBe("Unload all");
    unloadAll.focus();
    press(unloadAll);
    expect(model.sent).toEqual([{ action: "unload_all" }]);
    model.set("models", [local({ id: "a", downloaded: true })]);
    model.set("_resources", { total_memory: null, available_memory: null, free_disk: null });
    await frame();
    expect(shown(summary)).toBe("Disk: 1 model, 4.9 GB · Memory: no model loaded");
    // it stays in place (no jump in the header, the focus stays on it), marked unavailable
    expect(unloadAll.isConnected).toBe(true);
    expect(unloadAll.hidden).toBe(false);
    expect(unloadAll.getAttribute("aria-disabled")).toBe("true");
    expect(document.activeElement).toBe(unloadAll);
    press(unloadAll);
    expect(model.sent).toEqual([{ action: "unload_all" }]);
    model.set("models", [local({ id: "a", downloaded: true, loaded: true })]);
    await frame();
    expect(unloadAll.hasAttribute("aria-disabled")).toBe(false);
  });

  it("asks in the row before deleting, naming the size; Keep keeps", async () => {
    const { host, model } = view(traits({ models: [local({ downloaded: true })] }));
    const r = row(host, "m1");
    press(button(r, "delete"));
    await frame();
    const box = /** @type {HTMLElement} */ (r.querySelector(".pw-confirm"));
    expect(box.textContent).toContain("Delete 4.9 GB from disk?");
    expect(box.textContent).not.toContain("Unload");
    expect([...box.querySelectorAll("button")].map((b) => b.textContent)).toEqual([
      "Delete",
      "Keep",
    ]);
    expect(model.sent).toEqual([]);
    press(button(box, "keep"));
    await frame();
    expect(r.querySelector(".pw-confirm")).toBeNull();
    expect(model.sent).toEqual([]);
    press(button(r, "delete"));
    await frame();
    press(/** @type {Element} */ (r.querySelector('.pw-confirm button[data-action="delete"]')));
    expect(model.sent).toEqual([{ action: "delete", id: "m1" }]);
    await frame();
    expect(r.querySelector(".pw-confirm")).toBeNull();
  });

  it("drops a Delete confirmation whose action went away: it does not come back by itself", async () => {
    const { host, model } = view(traits({ models: [local({ downloaded: true })] }));
    const r = row(host, "m1");
    press(button(r, "delete"));
    await frame();
    expect(r.querySelector(".pw-confirm")?.textContent).toContain("Delete 4.9 GB from disk?");
    model.set("models", [local({ downloaded: false })]); // deleted elsewhere (another view, code)
    await frame();
    expect(r.querySelector(".pw-confirm")).toBeNull();
    model.set("downloads", { m1: dl() });
    await frame();
    model.set("downloads", { m1: dl({ status: "COMPLETED", percentage: 100 }) });
    model.set("models", [local({ downloaded: true })]); // downloaded again
    await frame();
    expect(button(r, "delete").textContent).toBe("Delete");
    expect(r.querySelector(".pw-confirm")).toBeNull();
    expect(model.sent).toEqual([]);
  });

  it("drops a confirmation of a row filtered out of view when its action goes away", async () => {
    const { host, model } = view(
      traits({ models: [local({ downloaded: true }), local({ id: "m2", name: "Other" })] }),
    );
    press(button(row(host, "m1"), "delete"));
    await frame();
    typeFilter(host, "Other");
    await frame();
    expect(row(host, "m1")).toBeNull();
    model.set("models", [local({ downloaded: false }), local({ id: "m2", name: "Other" })]);
    await frame();
    model.set("models", [local({ downloaded: true }), local({ id: "m2", name: "Other" })]);
    await frame();
    typeFilter(host, "");
    await frame();
    expect(row(host, "m1").querySelector(".pw-confirm")).toBeNull();
  });

  it("drops a Load anyway question once the model fits", async () => {
    const { host, model } = view(
      traits({
        models: [local({ downloaded: true })],
        _resources: { total_memory: 32 * GB, available_memory: 2 * GB, free_disk: 180 * GB },
      }),
    );
    const r = row(host, "m1");
    press(button(r, "load"));
    await frame();
    expect(r.querySelector(".pw-confirm")?.textContent).toContain("Load anyway?");
    model.set("_resources", { total_memory: 32 * GB, available_memory: 16 * GB, free_disk: 0 });
    await frame();
    expect(r.querySelector(".pw-confirm")).toBeNull();
    model.set("_resources", { total_memory: 32 * GB, available_memory: 2 * GB, free_disk: 0 });
    await frame();
    expect(r.querySelector(".pw-confirm")).toBeNull();
  });

  it("asks before removing a custom model", async () => {
    const { host, model } = view(traits({ models: [local({ custom: true })] }));
    const r = row(host, "m1");
    press(button(r, "remove"));
    await frame();
    expect(r.querySelector(".pw-confirm")?.textContent).toContain("Remove Model One?");
    press(/** @type {Element} */ (r.querySelector('.pw-confirm button[data-action="remove"]')));
    expect(model.sent).toEqual([{ action: "remove", id: "m1" }]);
  });

  it("offers Resume (NN %) when a partial download is on disk", () => {
    const { host, model } = view(traits({ models: [local({ partialBytes: 1.813 * GB })] }));
    const resume = button(row(host, "m1"), "download");
    expect(resume.textContent).toBe("Resume (37 %)");
    press(resume);
    expect(model.sent).toEqual([{ action: "download", id: "m1" }]);
  });

  it("hints when a model does not fit, asks before Load, and offers no Download that would fail", async () => {
    const tight = { total_memory: 16 * GB, available_memory: 4.2 * GB, free_disk: 2 * GB };
    const { host, model } = view(
      traits({
        models: [local({ downloaded: true }), local({ id: "m2", name: "Two" })],
        _resources: tight,
      }),
    );
    const one = row(host, "m1");
    expect(one.querySelector(".pw-hint")?.textContent).toBe("needs 6.1 GB RAM, 4.2 GB free");
    press(button(one, "load"));
    await frame();
    expect(model.sent).toEqual([]);
    expect(one.querySelector(".pw-confirm")?.textContent).toContain("Load anyway?");
    press(/** @type {Element} */ (one.querySelector('.pw-confirm button[data-action="load"]')));
    expect(model.sent).toEqual([{ action: "load", id: "m1" }]);
    const two = row(host, "m2");
    expect(two.querySelector(".pw-hint")?.textContent).toContain(
      "needs 4.9 GB disk, 2 GB free: free some space first",
    );
    expect(button(two, "download").disabled).toBe(true);
    press(button(two, "download"));
    await frame();
    expect(model.sent.length).toBe(1);
    expect(two.querySelector(".pw-confirm")).toBeNull(); // no "Download anyway": it would fail
    model.set("_resources", { ...tight, free_disk: 20 * GB }); // space freed
    await frame();
    expect(button(two, "download").disabled).toBe(false);
    // memory freed elsewhere: the hint goes, Load no longer asks
    model.set("_resources", { ...tight, available_memory: 20 * GB });
    await frame();
    expect(one.querySelector(".pw-hint")?.hidden).toBe(true);
  });
});

describe("sort, group, filter, add", () => {
  const models = [
    local({ id: "s", name: "Small", bytes: { value: 1 * GB }, downloaded: true }),
    local({ id: "b", name: "Big", bytes: { value: 9 * GB } }),
    local({ id: "c", name: "Cloudy", cloud: true, bytes: undefined }),
  ];
  const order = (/** @type {ParentNode} */ host) =>
    [...host.querySelectorAll("[data-model-id]")].map(
      (r) => /** @type {HTMLElement} */ (r).dataset.modelId,
    );

  it("sorts and groups through the _view trait, remembered per widget", async () => {
    const { host, model } = view(traits({ models }));
    expect(order(host)).toEqual(["b", "c", "s"]);
    const sort = /** @type {HTMLSelectElement} */ (host.querySelector("select.pw-sort"));
    expect([...sort.options].map((o) => o.textContent)).toEqual([
      "Name",
      "Size (largest first)",
      "RAM (largest first)",
      "State",
    ]);
    sort.value = "size";
    sort.dispatchEvent(new Event("input", { bubbles: true })); // a browser fires both
    sort.dispatchEvent(new Event("change", { bubbles: true }));
    expect(model.get("_view")).toEqual({ sort: "size", group: false });
    expect(model.saved).toBe(1);
    await frame();
    expect(order(host)).toEqual(["b", "s", "c"]);
    const group = /** @type {HTMLInputElement} */ (
      host.querySelector('input[data-control="group"]')
    );
    group.checked = true;
    group.dispatchEvent(new Event("change", { bubbles: true }));
    await frame();
    expect(model.get("_view")).toEqual({ sort: "size", group: true });
    expect([...host.querySelectorAll(".pw-section-title")].map((h) => h.textContent)).toEqual([
      "On device (1)",
      "Available (1)",
      "Cloud (1)",
    ]);
    expect(order(host)).toEqual(["s", "b", "c"]);
    // another view (or Python) changes _view: this view follows
    model.set("_view", { sort: "name", group: false });
    await frame();
    expect(sort.value).toBe("name");
    expect(group.checked).toBe(false);
    expect(order(host)).toEqual(["b", "c", "s"]);
  });

  it("says when nothing matches the filter and clears it", async () => {
    const { host } = view(traits({ models }));
    const filter = /** @type {HTMLInputElement} */ (host.querySelector(".pw-filter"));
    filter.value = "xyz";
    filter.dispatchEvent(new Event("input", { bubbles: true }));
    await frame();
    expect(order(host)).toEqual([]);
    const empty = /** @type {HTMLElement} */ (host.querySelector(".pw-empty"));
    expect(empty.hidden).toBe(false);
    expect(empty.textContent).toContain("No model matches 'xyz'");
    press(button(empty, "clear-filter"));
    await frame();
    expect(filter.value).toBe("");
    expect(order(host)).toEqual(["b", "c", "s"]);
    expect(empty.hidden).toBe(true);
    expect(host.querySelector(".pw-count span")?.textContent).toBe("3 of 3 models");
  });

  it("shows the Add model form only where the server accepts sources", async () => {
    const { host, model } = view(traits({ models }));
    const toggle = button(host, "toggle-add");
    const form = /** @type {HTMLFormElement} */ (host.querySelector("form.pw-add"));
    expect(toggle.hidden).toBe(true);
    expect(form.hidden).toBe(true);
    model.set("_capabilities", { sources: true });
    await frame();
    expect(toggle.hidden).toBe(false);
    press(toggle);
    await frame();
    expect(form.hidden).toBe(false);
    const input = (/** @type {string} */ name) =>
      /** @type {HTMLInputElement} */ (form.elements.namedItem(name));
    input("name").value = "Tiny GGUF";
    input("url").value = "http://127.0.0.1:39300/hub/tiny.gguf";
    input("url").focus();
    form.requestSubmit();
    expect(model.sent).toEqual([
      { action: "add", fields: { name: "Tiny GGUF", url: "http://127.0.0.1:39300/hub/tiny.gguf" } },
    ]);
    model.set("_add", { busy: true, error: "" });
    model.set("models", [...models]); // other updates keep what was typed
    await frame();
    expect(input("name").value).toBe("Tiny GGUF");
    expect(document.activeElement).toBe(input("url"));
    expect(
      /** @type {HTMLButtonElement} */ (form.querySelector('button[type="submit"]')).disabled,
    ).toBe(true);
    model.set("_add", { busy: false, error: "the URL answered 404" });
    await frame();
    expect(form.querySelector('[role="alert"]')?.textContent).toBe("the URL answered 404");
    expect(input("name").value).toBe("Tiny GGUF");
    input("sha256").value = "a".repeat(64);
    form.requestSubmit();
    expect(model.sent.at(-1)).toEqual({
      action: "add",
      fields: {
        name: "Tiny GGUF",
        url: "http://127.0.0.1:39300/hub/tiny.gguf",
        sha256: "a".repeat(64),
      },
    });
    model.set("_add", { busy: true, error: "" });
    await frame();
    model.set("_add", { busy: false, error: "" });
    await frame();
    expect(input("name").value).toBe("");
    expect(form.hidden).toBe(true);
  });
});

describe("views and cost", () => {
  it("draws progress ticks at most every timing.progressMs, other changes at once", () => {
    vi.useFakeTimers();
    timing.progressMs = 200;
    const { host, model } = view(traits({ models: [local(), local({ id: "m2", name: "Two" })] }));
    const now = () => bar(row(host, "m1"))?.getAttribute("aria-valuenow");
    vi.advanceTimersByTime(300); // the first draw is a while ago
    model.set("downloads", { m1: dl({ percentage: 10 }) });
    vi.advanceTimersByTime(20);
    expect(now()).toBe("10");
    for (let p = 11; p <= 15; p += 1) {
      model.set("downloads", { m1: dl({ percentage: p }) });
      vi.advanceTimersByTime(20); // 10 Hz would be every 100 ms; these come faster still
    }
    expect(now()).toBe("10");
    vi.advanceTimersByTime(120);
    expect(now()).toBe("15"); // the latest values, no later than 200 ms after the last draw
    model.set("downloads", { m1: dl({ percentage: 16 }) });
    press(button(row(host, "m2"), "details")); // a click draws on the next frame, ticks included
    vi.advanceTimersByTime(20);
    expect(now()).toBe("16");
    expect(row(host, "m2").querySelector(".pw-details")).not.toBeNull();
  });

  it("keeps two views consistent, each with its own panels, and cleans up", async () => {
    vi.useFakeTimers();
    const model = fakeModel(traits({ models: [local()], downloads: { m1: dl() } }));
    const init = /** @type {() => void} */ (/** @type {any} */ (widget).initialize({ model }));
    const [a, b] = [document.createElement("div"), document.createElement("div")];
    document.body.append(a, b);
    const stops = [a, b].map(
      (el) => /** @type {() => void} */ (/** @type {any} */ (widget).render({ model, el })),
    );
    press(button(row(a, "m1"), "details"));
    vi.advanceTimersByTime(20);
    expect(row(a, "m1").querySelector(".pw-details")).not.toBeNull();
    expect(row(b, "m1").querySelector(".pw-details")).toBeNull();
    model.set("downloads", { m1: dl({ status: "COMPLETED", percentage: 100 }) });
    model.set("models", [local({ downloaded: true, loaded: true })]);
    vi.advanceTimersByTime(20);
    for (const host of [a, b]) expect(buttonTexts(row(host, "m1"))).toContain("Unload");
    expect(vi.getTimerCount()).toBeGreaterThan(0); // the finished bars' timers
    for (const stop of stops) stop();
    init();
    expect(a.querySelector(".pieces-widget")).toBeNull();
    expect(b.querySelector(".pieces-widget")).toBeNull();
    expect([...model.handlers.values()].every((hs) => hs.length === 0)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("tells the kernel when each view opens and closes, one id per view", () => {
    const model = fakeModel(traits({ models: [local()] }));
    const [a, b] = [document.createElement("div"), document.createElement("div")];
    const [stopA, stopB] = [a, b].map(
      (el) => /** @type {() => void} */ (/** @type {any} */ (widget).render({ model, el })),
    );
    const [openA, openB] = /** @type {{ view: string }[]} */ (model.sent);
    expect(typeof openA.view).toBe("string");
    expect(openA.view).not.toBe(openB.view);
    expect(model.sent).toEqual([
      { action: "view", open: true, view: openA.view },
      { action: "view", open: true, view: openB.view },
    ]);
    stopB();
    stopA();
    expect(model.sent.slice(2)).toEqual([
      { action: "view", open: false, view: openB.view },
      { action: "view", open: false, view: openA.view },
    ]);
    // a model already closed throws on send: the cleanup still finishes quietly
    const closed = fakeModel(traits());
    const host = document.createElement("div");
    const stop = /** @type {() => void} */ (
      /** @type {any} */ (widget).render({ model: closed, el: host })
    );
    closed.send = () => {
      throw new Error("Model is closed");
    };
    expect(stop).not.toThrow();
    expect(host.querySelector(".pieces-widget")).toBeNull();
  });

  it("makes view ids without crypto.randomUUID (plain http pages)", () => {
    vi.stubGlobal("crypto", undefined);
    try {
      const ids = new Set(Array.from({ length: 100 }, () => newViewId()));
      expect(ids.size).toBe(100);
      for (const id of ids) expect(id).toMatch(/^[0-9a-z]+-[0-9a-z]+$/);
    } finally {
      vi.unstubAllGlobals();
    }
    expect(newViewId()).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("patches only the downloading rows when 10 downloads tick among 1,000 models", () => {
    // fake the frame clock, not performance.now: the test times real work
    vi.useFakeTimers({
      toFake: ["setTimeout", "clearTimeout", "requestAnimationFrame", "cancelAnimationFrame"],
    });
    const models = Array.from({ length: 1000 }, (_, i) =>
      local({ id: `m${i}`, name: `Bench Model ${i}`, foundation: "LLAMA_3_8B", provider: "META" }),
    );
    const ticking = Array.from({ length: 10 }, (_, i) => `m${i * 97}`);
    const downloads = (/** @type {number} */ t) =>
      Object.fromEntries(
        ticking.map((id) => [id, dl({ percentage: t / 10, bytes_done: t * 1000 })]),
      );
    const started = performance.now();
    const { host, model } = view(traits({ models, downloads: downloads(0) }));
    const firstRender = performance.now() - started;
    expect(host.querySelectorAll("[data-model-id]").length).toBe(1000);
    const tickStart = performance.now();
    for (let t = 1; t <= 100; t += 1) {
      model.set("downloads", downloads(t));
      vi.advanceTimersByTime(16);
    }
    const perTick = (performance.now() - tickStart) / 100;
    /** @type {Set<string>} */
    const touched = new Set();
    /** @param {MutationRecord[]} records */
    const note = (records) => {
      for (const rec of records) {
        const r = /** @type {HTMLElement | null} */ (
          (rec.target instanceof Element ? rec.target : rec.target.parentElement)?.closest(
            "[data-model-id]",
          )
        );
        const node = rec.target instanceof Element ? rec.target : rec.target.parentElement;
        // the summary's "10 downloading, 0.3 %" follows the ticks too; nothing else outside rows
        if (!r && node?.closest(".pw-summary")) continue;
        touched.add(r?.dataset.modelId ?? "outside rows");
      }
    };
    const observer = new MutationObserver(note);
    observer.observe(host, {
      subtree: true,
      childList: true,
      attributes: true,
      characterData: true,
    });
    for (let t = 101; t <= 110; t += 1) {
      model.set("downloads", downloads(t));
      vi.advanceTimersByTime(16);
    }
    note(observer.takeRecords());
    observer.disconnect();
    expect([...touched].sort()).toEqual([...ticking].sort());
    expect(
      row(host, "m97").querySelector('[role="progressbar"]')?.getAttribute("aria-valuenow"),
    ).toBe("11");
    // Figures only: a shared machine makes time bounds flaky here; `make bench` measures the
    // real cost in Chromium against a baseline in the same run.
    console.log(
      `jsdom: first render of 1,000 rows ${firstRender.toFixed(0)} ms, ${perTick.toFixed(2)} ms per tick of 10 downloads`,
    );
  });
});
