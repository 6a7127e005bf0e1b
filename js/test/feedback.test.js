// What a click shows before the kernel answers (a cell may be running: Jupyter hands the widget's
// messages to the kernel only between cells), and multi-clicks that must count once.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { timing } from "../src/view.js";
import { button, dl, frame, local, mount, row, traits } from "./helpers.js";

/** @type {(() => void)[]} */
let cleanups = [];
/** @param {Parameters<typeof mount>[0]} [state] */
function view(state) {
  const v = mount(state);
  cleanups.push(v.cleanup);
  return v;
}
const saved = { ...timing };
beforeEach(() => {
  timing.progressMs = 0;
});
afterEach(() => {
  Object.assign(timing, saved);
  for (const c of cleanups) c();
  cleanups = [];
  document.body.replaceChildren();
  vi.useRealTimers();
});

/** A mouse click as a person's n-th click in a row (`detail` 2 is a double-click's second). */
const click = (/** @type {Element} */ target, detail = 1) => {
  for (const type of ["mousedown", "mouseup", "click"])
    target.dispatchEvent(new MouseEvent(type, { bubbles: true, cancelable: true, detail }));
};
/** Keyboard activation (Enter or Space on a focused button): a click with detail 0. */
const key = (/** @type {Element} */ target) => {
  target.dispatchEvent(new KeyboardEvent("keydown", { bubbles: true, key: "Enter" }));
  target.dispatchEvent(new MouseEvent("click", { bubbles: true, cancelable: true, detail: 0 }));
};
const statusOf = (/** @type {ParentNode} */ node) =>
  node.querySelector('[role="status"]')?.textContent;
const WAITING = "Waiting for the kernel (a cell is running)…";

describe("a click shows at once that it was sent", () => {
  it("marks Cancel at once, says after 1.5 s that the kernel is busy, then shows the answer", () => {
    vi.useFakeTimers();
    const { host, model } = view(traits({ models: [local()], downloads: { m1: dl() } }));
    const r = row(host, "m1");
    const cancel = button(r, "cancel");
    cancel.focus();
    click(cancel);
    expect(model.sent).toEqual([{ action: "cancel", id: "m1" }]);
    vi.advanceTimersByTime(20);
    expect(cancel.textContent).toBe("Canceling…");
    expect(cancel.getAttribute("aria-disabled")).toBe("true");
    expect(cancel.disabled).toBe(false); // aria-disabled: the focus stays
    expect(document.activeElement).toBe(cancel);
    // progress still comes from the kernel's threads while its main thread runs a cell
    for (let i = 0; i < 10; i += 1) {
      model.set("downloads", { m1: dl({ percentage: 50 + i }) });
      model.set("models", [local({ partialBytes: (i + 1) * 1e6, downloading: true })]);
      vi.advanceTimersByTime(100);
    }
    expect(cancel.textContent).toBe("Canceling…");
    expect(statusOf(r)).toBe("");
    vi.advanceTimersByTime(600);
    expect(statusOf(r)).toBe(WAITING);
    click(cancel); // pending: a second click sends nothing
    key(cancel);
    expect(model.sent.length).toBe(1);
    // the cell ends, the kernel handles the cancel
    model.set("downloads", { m1: dl({ status: "CANCELED", percentage: 60 }) });
    model.set("models", [local({ partialBytes: 2.94e9 })]);
    vi.advanceTimersByTime(20);
    expect(cancel.textContent).toBe("Resume (60 %)");
    expect(cancel.hasAttribute("aria-disabled")).toBe(false);
    expect(statusOf(r)).toBe("Download canceled");
    expect(document.activeElement).toBe(cancel);
  });

  it("shows the true state when the answer is 'nothing to cancel, it completed'", () => {
    vi.useFakeTimers();
    const { host, model } = view(traits({ models: [local()], downloads: { m1: dl() } }));
    const main = button(row(host, "m1"), "cancel");
    click(main);
    vi.advanceTimersByTime(2000);
    expect(statusOf(row(host, "m1"))).toBe(WAITING);
    model.set("downloads", { m1: dl({ status: "COMPLETED", percentage: 100 }) });
    model.set("models", [local({ downloaded: true })]);
    vi.advanceTimersByTime(20);
    expect(main.textContent).toBe("Load");
    expect(main.hasAttribute("aria-disabled")).toBe(false);
    expect(statusOf(row(host, "m1"))).toBe("Download complete");
  });

  it("ends when the kernel handled the message and nothing changed", () => {
    vi.useFakeTimers();
    const { host, model } = view(traits({ models: [local({ downloaded: true })] }));
    const r = row(host, "m1");
    const load = button(r, "load");
    click(load);
    vi.advanceTimersByTime(20);
    expect(load.textContent).toBe("Loading…");
    model.handled(0); // the kernel went idle after it: its answer, if any, is on its way
    vi.advanceTimersByTime(timing.graceMs - 100);
    expect(load.textContent).toBe("Loading…");
    expect(statusOf(r)).toBe(""); // handled: no "waiting for the kernel"
    vi.advanceTimersByTime(200);
    expect(load.textContent).toBe("Load");
    expect(load.hasAttribute("aria-disabled")).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("never sticks on a host that does not report handled messages", () => {
    vi.useFakeTimers();
    const { host } = view(traits({ models: [local()] }));
    const main = button(row(host, "m1"), "download");
    click(main);
    vi.advanceTimersByTime(20);
    expect(main.textContent).toBe("Starting…");
    vi.advanceTimersByTime(timing.maxMs);
    expect(main.textContent).toBe("Download");
    expect(statusOf(row(host, "m1"))).toBe("");
  });

  it("sends callbacks that ipywidgets reads (iopub.status) and marimo calls (a function)", () => {
    vi.useFakeTimers();
    const { host, model } = view(traits({ models: [local({ downloaded: true })] }));
    click(button(row(host, "m1"), "load"));
    const callbacks = model.callbacks[0];
    expect(typeof callbacks).toBe("function");
    expect(() => callbacks()).not.toThrow(); // marimo: sent, which is not handled
    vi.advanceTimersByTime(timing.noticeMs + 20);
    expect(statusOf(row(host, "m1"))).toBe(WAITING);
    expect(typeof callbacks.iopub.status).toBe("function");
  });

  it("clears its timers when the view closes", () => {
    vi.useFakeTimers();
    const v = mount(traits({ models: [local()], downloads: { m1: dl() } }));
    click(button(row(v.host, "m1"), "cancel"));
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    v.cleanup();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("marks the row's Delete after the confirmation, and Resume as Resuming…", async () => {
    const { host, model } = view(
      traits({ models: [local({ downloaded: true }), local({ id: "m2", partialBytes: 1e9 })] }),
    );
    const r = row(host, "m1");
    click(button(r, "delete"));
    await frame();
    click(/** @type {Element} */ (r.querySelector('.pw-confirm button[data-action="delete"]')));
    await frame();
    expect(r.querySelector(".pw-confirm")).toBeNull();
    expect(button(r, "delete").textContent).toBe("Deleting…");
    expect(button(r, "delete").getAttribute("aria-disabled")).toBe("true");
    const resume = button(row(host, "m2"), "download");
    click(resume);
    await frame();
    expect(resume.textContent).toBe("Resuming…");
    expect(model.sent).toEqual([
      { action: "delete", id: "m1" },
      { action: "download", id: "m2" },
    ]);
  });
});

describe("multi-clicks count once", () => {
  it("a double-click on Download downloads, and does not cancel", async () => {
    const { host, model } = view(traits({ models: [local()] }));
    const main = button(row(host, "m1"), "download");
    click(main, 1);
    model.set("downloads", { m1: dl({ percentage: 1 }) }); // the kernel answered between clicks
    await frame();
    expect(main.dataset.action).toBe("cancel");
    click(main, 2);
    expect(model.sent).toEqual([{ action: "download", id: "m1" }]);
  });

  it("a double-click on Resume resumes, and does not cancel", async () => {
    const { host, model } = view(traits({ models: [local({ partialBytes: 1e9 })] }));
    const main = button(row(host, "m1"), "download");
    click(main, 1);
    await frame();
    click(main, 2); // still pending
    model.set("downloads", { m1: dl({ percentage: 21 }) });
    await frame();
    click(main, 3);
    expect(model.sent).toEqual([{ action: "download", id: "m1" }]);
  });

  it("a triple-click on Load loads once; single clicks and keys still act at once", async () => {
    const { host, model } = view(traits({ models: [local({ downloaded: true })] }));
    const main = button(row(host, "m1"), "load");
    click(main, 1);
    model.set("models", [local({ downloaded: true, loaded: true })]);
    await frame();
    expect(main.textContent).toBe("Unload");
    click(main, 2);
    click(main, 3);
    expect(model.sent).toEqual([{ action: "load", id: "m1" }]);
    click(main, 1); // a new, deliberate click: no wait imposed after a change
    model.set("models", [local({ downloaded: true })]);
    await frame();
    main.focus();
    key(main); // keyboard activation is detail 0
    expect(model.sent).toEqual([
      { action: "load", id: "m1" },
      { action: "unload", id: "m1" },
      { action: "load", id: "m1" },
    ]);
    expect(document.activeElement).toBe(main);
  });
});
