// Working in the widget (issue 17): rows that stay put while the user works on them, a steady
// progress area, key presses that land once, and the focus that never falls to <body>.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { keyGuard } from "../src/events.js";
import { keepPlaces } from "../src/order.js";
import { timing } from "../src/view.js";
import { button, dl, frame, local, mount, row, shown, traits } from "./helpers.js";

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
  timing.progressMs = 0;
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
const press = (/** @type {Element} */ target) => {
  mouse(target, "mousedown");
  mouse(target, "mouseup");
  mouse(target, "click");
};
/** A key on `target`; returns whether the page let it act (not default-prevented). */
const key = (/** @type {Element} */ target, /** @type {string} */ name, repeat = false) =>
  target.dispatchEvent(
    new KeyboardEvent("keydown", { key: name, bubbles: true, cancelable: true, repeat }),
  );
const order = (/** @type {ParentNode} */ host) =>
  [...host.querySelectorAll("[data-model-id]")].map((r) => r.getAttribute("data-model-id"));
const list = (/** @type {ParentNode} */ host) =>
  /** @type {HTMLElement} */ (host.querySelector(".pw-list"));
const sortNow = (/** @type {ParentNode} */ host) =>
  /** @type {HTMLButtonElement} */ (host.querySelector('button[data-action="resort"]'));

const three = [
  local({ id: "a", name: "Alpha", downloaded: true }),
  local({ id: "b", name: "Beta" }),
  local({ id: "c", name: "Gamma" }),
];

describe("rows stay where they are while the user works on them", () => {
  it("keeps the order under the pointer when a download starts in Sort by state", async () => {
    const { host, model } = view(traits({ models: three, _view: { sort: "state", group: false } }));
    expect(order(host)).toEqual(["a", "b", "c"]);
    list(host).dispatchEvent(new Event("pointerenter"));
    press(button(row(host, "c"), "download"));
    model.set("downloads", { c: dl() });
    await frame();
    // today Gamma (downloading ranks before available) jumps above Beta, under the pointer
    expect(order(host)).toEqual(["a", "b", "c"]);
    expect(sortNow(host).hidden).toBe(false);
    list(host).dispatchEvent(new Event("pointerleave"));
    await frame();
    expect(order(host)).toEqual(["a", "b", "c"]); // a download runs: still held
    press(sortNow(host)); // the user asks
    await frame();
    expect(order(host)).toEqual(["c", "a", "b"]); // downloading, on device, available
    expect(sortNow(host).hidden).toBe(true);
  });

  it("re-sorts by itself once the list is idle", async () => {
    const { host, model } = view(traits({ models: three, _view: { sort: "state", group: true } }));
    list(host).dispatchEvent(new Event("pointerenter"));
    model.set("models", [three[0], { ...three[1], downloaded: true }, three[2]]);
    await frame();
    expect(order(host)).toEqual(["a", "b", "c"]);
    const title = host.querySelector(".pw-section-title");
    expect(title?.textContent).toMatch(/^On device/);
    list(host).dispatchEvent(new Event("pointerleave"));
    await frame();
    await frame();
    // Beta went to the On device group only now
    const groups = [...host.querySelectorAll(".pw-section")].map((s) =>
      [...s.querySelectorAll("[data-model-id]")].map((r) => r.getAttribute("data-model-id")),
    );
    expect(groups).toEqual([["a", "b"], ["c"]]);
  });

  it("puts a new row among held rows after the row it follows", () => {
    const before = [{ title: null, ids: ["a", "c", "b"] }];
    const next = [{ title: null, ids: ["a", "b", "n", "c"] }];
    expect(keepPlaces(before, next)).toEqual([{ title: null, ids: ["a", "c", "b", "n"] }]);
  });
});

describe("a steady progress area", () => {
  it("says Download complete in the bar's line, not in a new line under it", async () => {
    const { host, model } = view(traits({ models: [local()], downloads: { m1: dl() } }));
    const r = row(host, "m1");
    model.set("downloads", { m1: dl({ status: "COMPLETED", percentage: 100 }) });
    model.set("models", [local({ downloaded: true })]);
    await frame();
    const status = /** @type {HTMLElement} */ (r.querySelector('[role="status"]'));
    expect(status.textContent).toBe("Download complete"); // for screen readers
    expect(status.classList.contains("pw-sr-only")).toBe(true);
    expect(shown(r.querySelector(".pw-progress-text"))).toBe("Download complete · 100 % · 33.6 MB");
  });
});

describe("keys land once", () => {
  it("ignores Enter on a button that just changed its action, and a held key's repeats", async () => {
    const { host, model } = view(traits({ models: [local()] }));
    const main = button(row(host, "m1"), "download");
    expect(key(main, "Enter")).toBe(true);
    model.set("downloads", { m1: dl() });
    await frame();
    expect(main.getAttribute("data-action")).toBe("cancel");
    expect(key(main, "Enter")).toBe(false); // the second Enter of a double press
    expect(key(main, " ")).toBe(false);
    keyGuard.ms = 0;
    try {
      expect(key(main, "Enter")).toBe(true);
      expect(key(main, "Enter", true)).toBe(false);
    } finally {
      keyGuard.ms = 700;
    }
  });
});

describe("the keyboard and the focus", () => {
  it("focuses a confirmation's Keep; Escape closes it and the focus goes to the main button", async () => {
    const { host, model } = view(traits({ models: [local({ downloaded: true })] }));
    const r = row(host, "m1");
    button(r, "delete").focus();
    press(button(r, "delete"));
    await frame();
    const keep = /** @type {HTMLElement} */ (r.querySelector('.pw-confirm [data-action="keep"]'));
    expect(document.activeElement).toBe(keep);
    key(keep, "Escape");
    await frame();
    expect(r.querySelector(".pw-confirm")).toBeNull();
    expect(document.activeElement).toBe(button(r, "load"));
    expect(model.sent).toEqual([]);
  });

  it("after Keep or Delete, the focus is on the row's main button", async () => {
    const { host, model } = view(traits({ models: [local({ downloaded: true })] }));
    const r = row(host, "m1");
    press(button(r, "delete"));
    await frame();
    const keep = /** @type {HTMLElement} */ (r.querySelector('.pw-confirm [data-action="keep"]'));
    press(keep);
    await frame();
    expect(document.activeElement).toBe(button(r, "load"));
    press(button(r, "delete"));
    await frame();
    const yes = /** @type {HTMLElement} */ (r.querySelector('.pw-confirm [data-action="delete"]'));
    yes.focus();
    press(yes);
    model.set("models", [local({ downloaded: false })]);
    await frame();
    expect(document.activeElement).toBe(button(r, "download"));
  });

  it("after Remove, the focus is on the next row's main button", async () => {
    const models = [local({ id: "a", name: "A", custom: true }), local({ id: "b", name: "B" })];
    const { host, model } = view(traits({ models }));
    press(button(row(host, "a"), "remove"));
    await frame();
    const yes = /** @type {HTMLElement} */ (
      row(host, "a").querySelector('.pw-confirm [data-action="remove"]')
    );
    yes.focus();
    press(yes);
    model.set("models", [models[1]]);
    await frame();
    expect(document.activeElement).toBe(button(row(host, "b"), "download"));
  });

  it("focuses the Edit form's first field, and says Saved", async () => {
    const custom = local({ custom: true, description: "old" });
    const { host, model } = view(traits({ models: [custom] }));
    const r = row(host, "m1");
    press(button(r, "edit"));
    await frame();
    const form = /** @type {HTMLFormElement} */ (r.querySelector("form.pw-edit"));
    expect(document.activeElement).toBe(form.elements.namedItem("name"));
    form.requestSubmit();
    model.set("_busy", { m1: "saving" });
    model.set("_busy", {});
    model.set("models", [{ ...custom, name: "Model One" }]);
    await frame();
    expect(r.querySelector("form.pw-edit")).toBeNull();
    expect(r.querySelector('[role="status"]')?.textContent).toBe("Saved");
    expect(document.activeElement).toBe(button(r, "download"));
  });

  it("puts the focus on the first row's main button after Clear filter", async () => {
    const { host } = view(traits({ models: three }));
    const filter = /** @type {HTMLInputElement} */ (host.querySelector(".pw-filter"));
    filter.value = "xyz";
    filter.dispatchEvent(new Event("input", { bubbles: true }));
    await frame();
    const clear = button(host, "clear-filter");
    clear.focus();
    press(clear);
    await frame();
    const first = /** @type {HTMLElement} */ (host.querySelector("[data-model-id]"));
    expect(document.activeElement).toBe(first.querySelector(".pw-primary"));
  });
});

describe("a restarted kernel", () => {
  it("says so in the banner, greys the rows, disables them and stops their clocks", async () => {
    const { host, model } = view(traits({ models: [local()], downloads: { m1: dl() } }));
    const r = row(host, "m1");
    expect(shown(r.querySelector(".pw-progress-text"))).toContain("ETA");
    for (const h of model.handlers.get("comm_live_update") ?? []) h(); // ipywidgets on a restart
    await frame();
    const banner = /** @type {HTMLElement} */ (host.querySelector(".pieces-connection"));
    expect(banner.querySelector(".pw-banner-text")?.textContent).toBe(
      "This widget's kernel restarted: run the cell again",
    );
    expect(banner.getAttribute("data-kernel")).toBe("gone");
    expect(host.querySelector(".pieces-widget")?.classList.contains("pw-unreachable")).toBe(true);
    expect(button(r, "cancel").disabled).toBe(true);
    expect(shown(r.querySelector(".pw-progress-text"))).toBe("42.5 % · 14.3 MB / 33.6 MB");
    expect(r.querySelector('[role="status"]')?.textContent).toBe("");
  });
});

describe("fewer, clearer actions", () => {
  it("styles one primary button per row; Delete and Remove say what they take away", async () => {
    const { host } = view(traits({ models: [local({ downloaded: true, custom: true })] }));
    const r = row(host, "m1");
    expect([...r.querySelectorAll(".pw-actions .pw-primary")].map((b) => b.textContent)).toEqual([
      "Load",
    ]);
    expect(button(r, "delete").title).toBe(
      "Delete the downloaded weights (4.9 GB) from this device; the model stays in the list",
    );
    expect(button(r, "remove").title).toContain("Remove this custom model from the list");
  });

  it("shows, marks and focuses the row the Add form just added", async () => {
    const { host, model } = view(traits({ _capabilities: { sources: true } }));
    press(button(host, "toggle-add"));
    await frame();
    const form = /** @type {HTMLFormElement} */ (host.querySelector("form.pw-add"));
    /** @type {HTMLInputElement} */ (form.elements.namedItem("name")).value = "New";
    /** @type {HTMLInputElement} */ (form.elements.namedItem("url")).value = "https://x/m.gguf";
    /** @type {HTMLElement} */ (form.querySelector('button[type="submit"]')).focus();
    form.requestSubmit();
    model.set("_add", { busy: true, error: "", added: "" });
    model.set("models", [local({ id: "new", name: "New", custom: true })]);
    model.set("_add", { busy: false, error: "", added: "new" });
    await frame();
    const r = row(host, "new");
    expect(r.classList.contains("pw-flash")).toBe(true);
    expect(document.activeElement).toBe(button(r, "download"));
  });
});

describe("finding a model in a long list", () => {
  const models = [
    local({ id: "l", name: "Llama", foundation: "LLAMA_3_8B", downloaded: true, loaded: true }),
    local({ id: "p", name: "Phi", quantization: "q8f16_1", provider: "MICROSOFT" }),
    local({ id: "g", name: "Gemma", foundation: "GEMMA_1_1_2B", provider: "GOOGLE" }),
  ];
  /** @param {ParentNode} host @param {string} text */
  const typeFilter = async (host, text) => {
    const filter = /** @type {HTMLInputElement} */ (host.querySelector(".pw-filter"));
    filter.value = text;
    filter.dispatchEvent(new Event("input", { bubbles: true }));
    await frame();
    return order(host);
  };
  it("matches quantization, family, provider and state words, every word", async () => {
    const { host, model } = view(traits({ models, downloads: { g: dl() } }));
    expect(await typeFilter(host, "loaded")).toEqual(["l"]);
    expect(await typeFilter(host, "downloading")).toEqual(["g"]);
    expect(await typeFilter(host, "8-bit")).toEqual(["p"]);
    expect(await typeFilter(host, "google")).toEqual(["g"]);
    expect(await typeFilter(host, "llama on device")).toEqual(["l"]);
    expect(await typeFilter(host, "gemma loaded")).toEqual([]);
    model.set("downloads", {});
    expect(await typeFilter(host, "downloading")).toEqual([]);
  });

  it("shows only what is on this device with one toggle; group headings count", async () => {
    const { host } = view(traits({ models, _view: { sort: "name", group: true } }));
    const heads = () => [...host.querySelectorAll(".pw-section-title")].map((h) => h.textContent);
    expect(heads()).toEqual(["On device (1)", "Available (2)"]);
    const local = /** @type {HTMLInputElement} */ (host.querySelector('[data-control="local"]'));
    expect(local.parentElement?.textContent).toBe("On this device only");
    expect(host.querySelector('[data-control="group"]')?.parentElement?.textContent).toBe(
      "Group by state",
    );
    local.checked = true;
    local.dispatchEvent(new Event("change", { bubbles: true }));
    await frame();
    expect(order(host)).toEqual(["l"]);
    expect(heads()).toEqual(["On device (1)"]);
  });
});
