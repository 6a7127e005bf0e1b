// The view's smaller parts on their own: frames.js, transient.js, list.js, header-draw.js.
import { afterEach, describe, expect, it, vi } from "vitest";
import { createFrames } from "../src/frames.js";
import { createHeader } from "../src/header.js";
import { drawHeader } from "../src/header-draw.js";
import { CHUNK, createFooter, createPlacer } from "../src/list.js";
import { FINISHED_BAR_MS } from "../src/state.js";
import { createTransient, NOTICE_MS } from "../src/transient.js";
import { createUi } from "../src/ui.js";
import { dl, fakeModel, traits } from "./helpers.js";

afterEach(() => vi.useRealTimers());

describe("frames", () => {
  it("collects what changed until a draw takes it, one draw per frame", async () => {
    let draws = 0;
    const frames = createFrames(
      () => {
        draws += 1;
      },
      { progressMs: 0 },
    );
    expect(frames.take()).toEqual({
      traits: new Set(["*"]),
      rows: new Set(),
      order: true,
      asked: true,
    });
    frames.trait("models");
    frames.row("m1");
    frames.order();
    await new Promise((r) => requestAnimationFrame(r));
    expect(draws).toBe(1);
    expect(frames.take()).toEqual({
      traits: new Set(["models"]),
      rows: new Set(["m1"]),
      order: true,
      asked: false,
    });
    frames.userOrder();
    expect(frames.take().asked).toBe(true);
    frames.stop();
  });

  it("draws progress ticks at most every progressMs", () => {
    vi.useFakeTimers();
    const raf = vi.spyOn(globalThis, "requestAnimationFrame").mockImplementation(() => 1);
    const frames = createFrames(() => {}, { progressMs: 200 });
    frames.take();
    frames.trait("downloads");
    expect(raf).not.toHaveBeenCalled();
    vi.advanceTimersByTime(200);
    expect(raf).toHaveBeenCalledTimes(1);
    raf.mockRestore();
    frames.stop();
  });
});

describe("transient bars and notices", () => {
  it("keeps a finished bar it saw running, for FINISHED_BAR_MS; none for one first seen done", () => {
    vi.useFakeTimers();
    const ui = createUi();
    const touched = /** @type {string[]} */ ([]);
    const t = createTransient(ui, (id) => touched.push(id));
    t.follow({ a: dl(), b: dl({ status: "COMPLETED" }) });
    t.follow({ a: dl({ status: "COMPLETED" }), b: dl({ status: "COMPLETED" }) });
    expect([ui.finishing.has("a"), ui.finishing.has("b")]).toEqual([true, false]);
    vi.advanceTimersByTime(FINISHED_BAR_MS);
    expect([ui.finishing.has("a"), touched]).toEqual([false, ["a"]]);
    t.notice("a", "Saved");
    expect(ui.notice.get("a")).toBe("Saved");
    vi.advanceTimersByTime(NOTICE_MS);
    expect(ui.notice.has("a")).toBe(false);
    t.clear();
  });
});

describe("list placement and footer", () => {
  it("puts rows in titled sections, in chunks of CHUNK rows", () => {
    const list = document.createElement("div");
    const els = new Map();
    const place = createPlacer(list, (id) => {
      if (!els.has(id)) els.set(id, document.createElement("p"));
      return els.get(id);
    });
    const ids = Array.from({ length: CHUNK + 1 }, (_, i) => `m${i}`);
    place([{ title: "On device", ids }]);
    expect(list.querySelectorAll(".pw-chunk").length).toBe(2);
    expect(list.querySelector(".pw-section-count")?.textContent).toBe(`(${CHUNK + 1})`);
    place([{ title: null, ids: ["m1"] }]);
    expect(list.querySelectorAll("p").length).toBe(1);
    expect(list.querySelector(".pw-section-title")).toBe(null);
  });

  it("counts the shown rows and says why none show", () => {
    const footer = createFooter();
    const [empty, count] = footer.els;
    footer.counts(0, 3, { query: " phi ", localOnly: false });
    expect(count.textContent).toContain("0 of 3 models");
    expect(empty.hidden).toBe(false);
    expect(empty.textContent).toContain("No model matches 'phi'");
    footer.held(true);
    expect(/** @type {HTMLElement} */ (count.querySelector("[data-action=resort]")).hidden).toBe(
      false,
    );
  });
});

describe("header draw", () => {
  it("closes and clears the Add form when the add is answered, and names the new row", () => {
    const model = fakeModel(traits({ _add: { busy: false, error: "", added: "new" } }));
    const header = createHeader();
    const ui = createUi();
    ui.addOpen = true;
    ui.addPending = true;
    const now = { model: /** @type {any} */ (model), root: document.createElement("div"), ui };
    const args = { ...now, view: /** @type {any} */ ({ sort: "name", group: false }) };
    drawHeader(header, new Set(["add"]), { ...args, offline: false, kernelGone: false });
    expect(ui.addPending).toBe(true); // a toggle of the form is no answer
    const block = drawHeader(header, new Set(["added", "add"]), {
      ...args,
      offline: false,
      kernelGone: false,
    });
    expect([ui.addPending, ui.addOpen, ui.added, block]).toEqual([false, false, "new", ""]);
  });
});
