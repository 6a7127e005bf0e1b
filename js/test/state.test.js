import { describe, expect, it } from "vitest";
import { confirmStands, needsConfirm } from "../src/confirm.js";
import { detailFields } from "../src/details.js";
import { fitCheck, resumePercent } from "../src/fit.js";
import { rowState } from "../src/state.js";
import { summarize } from "../src/summary.js";
import { dl, GB, local } from "./helpers.js";

const labels = (/** @type {{ actions: { label: string }[] }} */ v) => v.actions.map((a) => a.label);
const roomy = { total_memory: 32 * GB, available_memory: 16 * GB, free_disk: 180 * GB };

describe("rowState", () => {
  it("offers the actions that fit the model's state", () => {
    expect(labels(rowState(local(), {}))).toEqual(["Download", "Details"]);
    expect(labels(rowState(local({ downloaded: true }), {}))).toEqual([
      "Load",
      "Details",
      "Delete",
    ]);
    expect(labels(rowState(local({ downloaded: true, loaded: true }), {}))).toEqual([
      "Unload",
      "Details",
      "Delete",
    ]);
    expect(labels(rowState(local({ cloud: true }), {}))).toEqual(["Details"]);
    expect(labels(rowState(local({ custom: true }), {}))).toEqual([
      "Download",
      "Edit",
      "Details",
      "Remove",
    ]);
    expect(labels(rowState(local(), { download: dl() }))).toEqual(["Cancel", "Details"]);
    expect(labels(rowState(local(), { details: true }))).toEqual(["Download", "Hide details"]);
  });

  it("keeps one slot for the main action so its element survives state changes", () => {
    const slots = (/** @type {any} */ v) => v.actions[0].slot;
    expect(slots(rowState(local(), {}))).toBe("main");
    expect(slots(rowState(local(), { download: dl() }))).toBe("main");
    expect(slots(rowState(local({ downloaded: true }), {}))).toBe("main");
  });

  it("disables actions while unreachable, holds them while busy (focusable), never Details", () => {
    const busy = rowState(local({ downloaded: true }), { busy: "loading" });
    expect(busy.status).toBe("Loading…");
    expect(busy.actions.map((a) => [a.disabled, Boolean(a.pending)])).toEqual([
      [false, true],
      [false, false],
      [false, true],
    ]);
    const off = rowState(local(), { offline: true, download: dl() });
    expect(off.actions.map((a) => [a.label, a.disabled])).toEqual([
      ["Cancel", true],
      ["Details", false],
    ]);
  });

  it("shows a bar only while downloading or just finished", () => {
    expect(rowState(local(), { download: dl() }).bar).toMatchObject({ pct: 42.5 });
    const done = dl({ status: "COMPLETED", percentage: 100 });
    expect(rowState(local({ downloaded: true }), { download: done }).bar).toBeNull();
    expect(rowState(local({ downloaded: true }), { download: done, finishing: true }).bar).toEqual({
      pct: 100,
      stalled: false,
      text: "100 % · 33.6 MB",
    });
    expect(rowState(local({ downloaded: true }), { download: done, finishing: true }).status).toBe(
      "Download complete",
    );
    const canceled = rowState(local(), { download: dl({ status: "CANCELED" }) });
    expect(canceled.bar).toBeNull();
    expect(canceled.status).toBe("Download canceled");
    expect(rowState(local(), { download: dl({ status: "FAILED" }) }).bar).toBeNull();
  });

  it("says Downloading or Stalled once: in the badge, not again in the status line", () => {
    const v = rowState(local(), { download: dl({ stalled: true, stalled_for: 12, eta: null }) });
    expect(v.badges).toEqual(["Stalled"]);
    expect(v.status).toBe("");
    expect(v.bar?.stalled).toBe(true);
    expect(v.bar?.text).toContain("stalled for 12 s");
    const slow = rowState(local(), { download: dl({ eta: null }) });
    expect(slow.badges).toEqual(["Downloading"]);
    expect(slow.status).toBe("");
    expect(slow.bar?.text).toContain("ETA —");
  });

  it("says a running download waits for Pieces OS while it is unreachable", () => {
    const d = dl({ speed: 1200, eta: 95, stalled: true, stalled_for: 11 });
    const v = rowState(local(), { offline: true, download: d });
    expect(v.status).toBe("Waiting for Pieces OS…");
    expect(v.badges).toEqual([]);
    expect(v.bar).toEqual({ pct: 42.5, stalled: false, text: "42.5 % · 14.3 MB / 33.6 MB" });
    expect(v.actions[0]).toMatchObject({ action: "cancel", disabled: true });
  });

  it("alerts a failed download with its reason; the main button is its one retry", () => {
    const v = rowState(local(), { download: dl({ status: "FAILED", error: "disk full" }) });
    expect(v.alert).toEqual({ text: "disk full", retry: null });
    expect(labels(v)[0]).toBe("Download");
    // interrupted with a partial on disk: Resume (46 %) and no second button in the alert
    const cut = rowState(local({ partialBytes: 0.466 * 4.9 * GB, error: "stopped" }), {});
    expect(labels(cut)[0]).toBe("Resume (46 %)");
    expect(cut.alert).toEqual({ text: "stopped", retry: null });
    // the row's own error wins, shown once; the main button (Load) retries it
    const load = rowState(local({ downloaded: true }), {
      rowError: "not enough memory",
      lastAction: "load",
    });
    expect(load.alert).toEqual({ text: "not enough memory", retry: null });
    const gone = rowState(local(), { rowError: "model is not downloaded", lastAction: "load" });
    expect(gone.alert).toEqual({ text: "model is not downloaded", retry: null });
    // an action that is not the main one keeps its Retry in the alert
    const del = rowState(local({ downloaded: true }), { rowError: "busy", lastAction: "delete" });
    expect(del.alert).toEqual({ text: "busy", retry: "delete" });
    // the reference server's reason in the Model JSON, when this session saw no download
    expect(rowState(local({ error: "checksum mismatch" }), {}).alert?.text).toBe(
      "checksum mismatch",
    );
    expect(rowState(local({ downloaded: true, error: "old" }), {}).alert).toBeNull();
  });

  it("offers Resume (NN %) for a partial download", () => {
    expect(resumePercent(local({ partialBytes: 0.37 * 4.9 * GB + 1 }), undefined)).toBe(37);
    // a canceled download's percentage promises nothing (issue 15): Resume only from partialBytes
    expect(resumePercent(local(), dl({ status: "CANCELED", percentage: 37.9 }))).toBeNull();
    expect(resumePercent(local({ partialBytes: 0 }), undefined)).toBeNull();
    expect(resumePercent(local({ downloaded: true, partialBytes: 10 }), undefined)).toBeNull();
    expect(labels(rowState(local({ partialBytes: 1.813 * GB }), {}))[0]).toBe("Resume (37 %)");
  });

  it("hints and asks when a model does not fit", () => {
    const tight = { total_memory: 16 * GB, available_memory: 4.2 * GB, free_disk: 2 * GB };
    const m = local();
    expect(fitCheck(m, tight).hint).toBe(
      "needs 6.1 GB RAM, 4.2 GB free · needs 4.9 GB disk, 2 GB free: free some space first",
    );
    expect(fitCheck(m, roomy).hint).toBe("");
    expect(fitCheck(local({ partialBytes: 3 * GB }), tight).diskShort).toBe(false); // 1.9 GB left
    expect(fitCheck(local({ loaded: true, downloaded: true }), tight).hint).toBe("");
    expect(needsConfirm("load", m, tight)).toBe(true);
    expect(needsConfirm("load", m, roomy)).toBe(false);
    expect(needsConfirm("download", m, tight)).toBe(false); // not offered at all:
    expect(rowState(m, { resources: tight }).actions[0]).toMatchObject({ disabled: true });
    expect(needsConfirm("delete", m, roomy)).toBe(true);
    expect(needsConfirm("cancel", m, tight)).toBe(false);
    const v = rowState(local({ downloaded: true }), { resources: tight, confirm: "load" });
    expect(v.hint).toBe("needs 6.1 GB RAM, 4.2 GB free");
    expect(v.confirm?.text).toBe("needs 6.1 GB RAM, 4.2 GB free. Load anyway?");
  });

  it("names the size in the delete confirmation, and drops a moot one", () => {
    const v = rowState(local({ downloaded: true }), { confirm: "delete" });
    expect(v.confirm).toMatchObject({ text: "Delete 4.9 GB from disk?", label: "Delete" });
    expect(v.confirm?.aria).not.toMatch(/delete model one/i); // one button answers to that name
    expect(rowState(local(), { confirm: "delete" }).confirm).toBeNull();
  });

  it("says a loaded model is unloaded before its weights are deleted", () => {
    const v = rowState(local({ downloaded: true, loaded: true }), { confirm: "delete" });
    expect(v.confirm).toMatchObject({
      text: "Unload and delete 4.9 GB from disk?",
      label: "Delete",
      aria: "Unload and delete 4.9 GB of Model One from disk",
    });
  });

  it("keeps a confirmation only while its action is offered and still asks first", () => {
    const onDisk = local({ downloaded: true });
    expect(confirmStands("delete", onDisk, {})).toBe(true);
    expect(confirmStands("delete", onDisk, { busy: "deleting" })).toBe(true); // disabled, not gone
    expect(confirmStands("delete", local(), {})).toBe(false);
    const again = local({ downloaded: true, downloading: true });
    expect(confirmStands("delete", again, { download: dl() })).toBe(false); // downloading again
    expect(confirmStands("remove", local({ custom: true }), {})).toBe(true);
    const tight = { ...roomy, available_memory: 4.2 * GB };
    expect(confirmStands("load", onDisk, { resources: tight })).toBe(true);
    expect(confirmStands("load", onDisk, { resources: roomy })).toBe(false);
    expect(confirmStands("load", { ...onDisk, loaded: true }, { resources: tight })).toBe(false);
  });

  it("offers no Retry for a refused save: the open Edit form is the retry", () => {
    const m = local({ custom: true, downloaded: true });
    const refused = rowState(m, { rowError: "HTTP 400: bad name", lastAction: "update" });
    expect(refused.alert).toEqual({ text: "HTTP 400: bad name", retry: null });
    expect(rowState(m, { rowError: "HTTP 500", lastAction: "remove" }).alert?.retry).toBe("remove");
  });

  it("writes the meta line with human labels", () => {
    expect(rowState(local(), {}).meta).toBe(
      "v1.0 · Phi-3 Mini · Microsoft · 4-bit (q4f16_1) · 3.8 B params · 4K context · size 4.9 GB · RAM 6.1 GB",
    );
  });
});

describe("details and summary", () => {
  it("lists labelled fields in words", () => {
    const fields = Object.fromEntries(
      detailFields(
        local({ downloaded: true, loaded: true, type: "BALANCED", usage: "CODE_GENERATION" }),
      ),
    );
    expect(fields).toMatchObject({
      Name: "Model One",
      State: "On device · Loaded",
      Foundation: "Phi-3 Mini",
      Provider: "Microsoft",
      Parameters: "3.8 billion",
      Context: "4K tokens",
      Size: "4.9 GB",
      RAM: "6.1 GB",
      Type: "Balanced",
      Usage: "Code generation",
      Id: "m1",
    });
    expect(Object.keys(fields)).not.toContain("Description");
  });

  it("states a partial download as such, not as Not downloaded", () => {
    const state = (/** @type {any} */ m) => Object.fromEntries(detailFields(m)).State;
    const partial = local({ partialBytes: 0.466 * 4.9 * GB });
    expect(state(partial)).toBe("Partly downloaded (46 %)");
    expect(Object.fromEntries(detailFields(partial))["Partial download"]).toBe("2.3 GB");
    expect(state(local({ partialBytes: 5, bytes: undefined }))).toBe("Partly downloaded");
    expect(state(local({ downloading: true, partialBytes: 1e9 }))).toBe("Downloading");
    expect(state(local())).toBe("Not downloaded");
  });

  it("sums disk and memory for the header", () => {
    const models = [
      local({
        id: "a",
        downloaded: true,
        loaded: true,
        bytes: { value: 4.9 * GB },
        ram: { value: 3.05 * GB },
      }),
      local({
        id: "b",
        downloaded: true,
        loaded: true,
        bytes: { value: 4.9 * GB },
        ram: { value: 3.05 * GB },
      }),
      local({ id: "c", downloaded: true, bytes: { value: 2.5 * GB } }),
      local({ id: "d" }),
      local({ id: "e", cloud: true, loaded: true, ram: undefined }),
    ];
    expect(summarize(models, roomy).text).toBe(
      "Disk: 3 models, 12.3 GB · 180 GB free · Memory: 3 models loaded, 6.1 GB of 32 GB",
    );
    expect(summarize([local()], null)).toEqual({
      text: "No models on this device yet · Memory: no model loaded",
      loaded: 0,
    });
    const downloads = {
      a: dl({ bytes_done: 30, bytes_total: 100 }),
      b: dl({ bytes_done: 60, bytes_total: 100 }),
      c: dl({ status: "COMPLETED" }),
    };
    expect(summarize([], null, downloads).text).toBe(
      "No models on this device yet · Memory: no model loaded · 2 downloading, 45 %",
    );
  });
});

describe("a download as Pieces OS runs it", () => {
  it("is Starting until the server shows it running, and says it still waits after a minute", () => {
    const m = local();
    const start = rowState(m, { download: dl({ status: "INITIALIZED", percentage: null }) });
    expect(start.badges).toContain("Starting");
    expect(start.status).toBe("Starting…");
    expect(start.actions[0].label).toBe("Cancel");
    const slow = rowState(m, {
      download: dl({ status: "INITIALIZED", percentage: null, slow_start: true, waiting_for: 75 }),
    });
    expect(slow.status).toMatch(/has not started this download after 1 min 15 s; still waiting/);
    expect(slow.actions[0].label).toBe("Cancel");
  });

  it("reads UNKNOWN as Working and RESET as starting over, never as an end", () => {
    const m = local();
    const unknown = rowState(m, { download: dl({ status: "UNKNOWN" }) });
    expect(unknown.status).toBe("Working…");
    expect(unknown.bar?.pct).toBe(42.5);
    const reset = rowState(m, { download: dl({ status: "RESET", percentage: 0 }) });
    expect(reset.status).toBe("Starting over…");
    expect(reset.bar?.pct).toBe(0);
    expect(reset.actions[0].label).toBe("Cancel");
  });

  it("never shows On device with a running bar and Cancel", () => {
    const done = rowState(local({ downloaded: true }), { download: dl() });
    expect(done.bar).toBeNull();
    expect(done.badges).toContain("On device");
    expect(done.actions.map((a) => a.label)).not.toContain("Cancel");
  });

  it("disables a local model's Download and Load while the runtime is missing, with the reason", () => {
    const why = "Local models run on Ollama, which is not installed.";
    const download = rowState(local(), { runtime: why }).actions[0];
    expect(download).toMatchObject({ label: "Download", disabled: true, why });
    const load = rowState(local({ downloaded: true }), { runtime: why }).actions[0];
    expect(load).toMatchObject({ label: "Load", disabled: true, why });
    const unload = rowState(local({ downloaded: true, loaded: true }), { runtime: why });
    expect(unload.actions[0]).toMatchObject({ label: "Unload", disabled: false });
    const cloud = rowState({ id: "c", name: "C", cloud: true }, { runtime: why });
    expect(cloud.actions.every((a) => !a.why)).toBe(true);
  });
});
