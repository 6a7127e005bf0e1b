// The command sending (commands.js) on its own: what each click, submit and control sends to
// Python and changes in the view's own state.
import { afterEach, describe, expect, it, vi } from "vitest";
import { createCommands } from "../src/commands.js";
import { createHeader } from "../src/header.js";
import { createPending } from "../src/pending.js";
import { createUi } from "../src/ui.js";
import { fakeModel, local, traits } from "./helpers.js";

const timing = { noticeMs: 1500, graceMs: 1500, maxMs: 60_000 };

/** @param {Record<string, unknown>} [over] @param {boolean} [isOffline] */
function setup(over = {}, isOffline = false) {
  const model = fakeModel(
    traits({ models: [local(), local({ id: "m2", downloaded: true })], ...over }),
  );
  const ui = createUi();
  const touched = { rows: /** @type {string[]} */ ([]), order: 0, add: 0 };
  const touchRow = (/** @type {string} */ id) => touched.rows.push(id);
  const pending = createPending(/** @type {any} */ (model), timing, touchRow);
  const header = createHeader();
  const on = createCommands({
    model: /** @type {any} */ (model),
    ui,
    pending,
    header,
    offline: () => isOffline,
    prefs: () => ({ sort: "name", group: false }),
    touchRow,
    touchOrder: () => {
      touched.order += 1;
    },
    touchAdd: () => {
      touched.add += 1;
    },
  });
  return { model, ui, pending, header, on, touched };
}

afterEach(() => vi.useRealTimers());

describe("row commands", () => {
  it("sends a download at once, marked pending on its row", () => {
    vi.useFakeTimers();
    const { model, on, pending, touched, ui } = setup();
    on.row("m1", "download", false);
    expect(model.sent).toEqual([{ action: "download", id: "m1" }]);
    expect(pending.get("m1")?.action).toBe("download");
    expect(ui.lastAction.get("m1")).toBe("download");
    expect(touched.rows).toContain("m1");
    pending.clear();
  });

  it("asks before a delete, then sends it once confirmed; Keep drops the question", () => {
    vi.useFakeTimers();
    const { model, on, ui, pending } = setup();
    on.row("m2", "delete", false);
    expect(model.sent).toEqual([]);
    expect(ui.confirm.get("m2")).toBe("delete");
    expect(ui.focus).toEqual({ id: "m2", part: "confirm" });
    on.row("m2", "keep", false);
    expect(ui.confirm.has("m2")).toBe(false);
    on.row("m2", "delete", true);
    expect(model.sent).toEqual([{ action: "delete", id: "m2" }]);
    pending.clear();
  });

  it("discards a partial by deleting the model's files", () => {
    vi.useFakeTimers();
    const { model, on, pending } = setup();
    on.row("m1", "discard", true);
    expect(model.sent).toEqual([{ action: "delete", id: "m1" }]);
    pending.clear();
  });

  it("opens Details (asking for them unless offline) and Edit, sends nothing for unknown ids", () => {
    const { model, on, ui } = setup();
    on.row("m1", "details", false);
    on.row("m1", "edit", false);
    on.row("nope", "download", false);
    expect(model.sent).toEqual([{ action: "snapshot", id: "m1" }]);
    expect(ui.details.has("m1")).toBe(true);
    expect(ui.editing.has("m1")).toBe(true);
    expect(ui.focus).toEqual({ id: "m1", part: "edit" });
    const off = setup({}, true);
    off.on.row("m1", "details", false);
    expect(off.model.sent).toEqual([]);
  });
});

describe("header commands, forms and controls", () => {
  it("sends refresh, unload_all and install_runtime; Sort now and Clear filter re-sort", () => {
    const { model, on, ui, header, touched } = setup();
    for (const a of ["refresh", "unload_all", "install_runtime"]) on.header(a);
    expect(model.sent.map((m) => m.action)).toEqual(["refresh", "unload_all", "install_runtime"]);
    ui.query = "phi";
    header.filter.value = "phi";
    on.header("clear-filter");
    on.header("resort");
    expect([ui.query, header.filter.value, touched.order]).toEqual(["", "", 2]);
    on.header("toggle-add");
    expect([ui.addOpen, touched.add]).toEqual([true, 1]);
    on.header("close-add");
    expect(ui.addOpen).toBe(false);
  });

  it("sends an Edit form's fields and keeps the form open until the save is answered", () => {
    const { model, on, ui } = setup();
    const form = document.createElement("form");
    form.setAttribute("data-form", "edit");
    for (const [name, value] of [
      ["name", "New"],
      ["description", "Text"],
    ]) {
      const input = document.createElement("input");
      input.name = name;
      input.value = value;
      form.append(input);
    }
    on.submit(form, "m1");
    expect(model.sent).toEqual([
      { action: "update", id: "m1", fields: { name: "New", description: "Text" } },
    ]);
    expect(ui.saving.get("m1")).toEqual({
      name: "New",
      description: "Text",
      sawBusy: false,
      errorBefore: "",
    });
  });

  it("sends nothing from a form while offline", () => {
    const { model, on } = setup({}, true);
    const form = document.createElement("form");
    form.setAttribute("data-form", "add");
    on.submit(form, null);
    expect(model.sent).toEqual([]);
  });

  it("saves the sort and group choice in _view", () => {
    const { model, on, header, touched } = setup();
    header.sort.value = "size";
    header.group.checked = true;
    on.control("sort");
    expect(model.state._view).toEqual({ sort: "size", group: true });
    expect([model.saved, touched.order]).toEqual([1, 1]);
  });
});
