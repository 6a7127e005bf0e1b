// The rows' part of a draw (rows-draw.js): per-id diffs, the view's state kept in line, patches.
import { describe, expect, it } from "vitest";
import { catalogOf } from "../src/catalog.js";
import { createDiffs, patchRows, settle } from "../src/rows-draw.js";
import { createTransient } from "../src/transient.js";
import { createUi } from "../src/ui.js";
import { dl, local } from "./helpers.js";

const none = { downloads: {}, busy: {}, rowErrors: {} };

describe("rows a draw touches", () => {
  it("finds changed entries and says when the running set moved", () => {
    const diffs = createDiffs();
    const ids = new Set();
    const all = new Set(["downloads", "busy", "rowErrors"]);
    const first = { downloads: { a: dl() }, busy: { b: "loading" }, rowErrors: {} };
    expect(diffs.note(all, first, ids)).toBe(true);
    expect([...ids].sort()).toEqual(["a", "b"]);
    ids.clear();
    const tick = { ...first, downloads: { a: dl({ percentage: 60 }) } };
    expect(diffs.note(new Set(["downloads"]), tick, ids)).toBe(false);
    expect([...ids, diffs.active()]).toEqual(["a", "a"]);
  });
});

describe("the view's state in line with the traits", () => {
  it("drops rows of removed models, and confirmations whose action is gone", () => {
    const ui = createUi();
    const rows = new Map([["gone", /** @type {any} */ ({})]]);
    ui.editing.add("gone");
    ui.confirm.set("m1", "delete"); // m1 is not downloaded: nothing to delete
    const pending = { ids: () => [], settle: () => false };
    const ids = new Set();
    settle(
      {
        ui,
        rows,
        pending: /** @type {any} */ (pending),
        transient: createTransient(ui, () => {}),
        catalog: catalogOf([local()]),
        now: none,
        gone: true,
        inputsOf: () => ({}),
      },
      ids,
    );
    expect([rows.has("gone"), ui.editing.has("gone"), ui.confirm.has("m1")]).toEqual([
      false,
      false,
      false,
    ]);
    expect([...ids]).toEqual(["m1"]);
  });

  it("patches a row once for the same inputs and model", () => {
    const rows = new Map();
    const catalog = catalogOf([local()]);
    patchRows(rows, catalog, ["m1", "nope"], () => ({}));
    const row = rows.get("m1");
    const first = row.model;
    const status = row.status.textContent;
    patchRows(rows, catalogOf([local()]), ["m1"], () => ({}));
    expect(rows.size).toBe(1);
    expect(row.model).toBe(first); // an equal model: no patch
    patchRows(rows, catalog, ["m1"], () => ({ busy: "loading" }));
    expect(row.status.textContent).not.toBe(status);
  });
});
