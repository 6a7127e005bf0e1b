// @ts-check
/**
 * The rows' part of a draw: which rows a trait's change touched (per-id diffs of downloads,
 * busy and row errors), the view's own state brought in line with the traits (answered
 * commands, removed models, confirmations whose action is gone, answered saves), and the patch
 * of each row whose signature or model changed.
 */

import { ACTIVE } from "./activity.js";
import { confirmStands } from "./confirm.js";
import { answerKey } from "./pending.js";
import { createRow, patchRow } from "./row.js";
import { saveOutcome } from "./saves.js";
import { changedKeys, keyOf, rowSig, sameModel } from "./signature.js";

/** @typedef {import("./types.js").Download} Download */
/** @typedef {import("./state.js").RowInputs} RowInputs */
/** @typedef {import("./row-dom.js").Row} Row */
/** @typedef {import("./ui.js").Ui} Ui */
/** @typedef {ReturnType<typeof import("./catalog.js").catalogOf>} Catalog */
/** @typedef {ReturnType<typeof import("./pending.js").createPending>} Pending */
/** @typedef {ReturnType<typeof import("./transient.js").createTransient>} Transient */
/**
 * One draw's traits.
 * @typedef {{ downloads: Record<string, Download>, busy: Record<string, string>,
 *   rowErrors: Record<string, string> }} RowTraits
 */

/** What the last draw saw, to find the rows a trait's change touches. */
export function createDiffs() {
  /** @type {Record<string, Download>} */
  let downloads = {};
  /** @type {Record<string, string>} */
  let busy = {};
  /** @type {Record<string, string>} */
  let rowErrors = {};
  /** The running downloads' ids, sorted, one a line. */
  let active = "";
  return {
    active: () => active,
    /**
     * Add the ids whose entries changed to `ids`.
     * @param {Set<string>} stale @param {RowTraits} now @param {Set<string>} ids
     * @returns {boolean} the set of running downloads changed
     */
    note(stale, now, ids) {
      let moved = false;
      if (stale.has("downloads")) {
        changedKeys(downloads, now.downloads, ids, keyOf);
        downloads = now.downloads;
        const next = Object.keys(downloads)
          .filter((id) => ACTIVE.has(downloads[id].status))
          .sort()
          .join("\n");
        moved = next !== active;
        active = next;
      }
      if (stale.has("busy")) changedKeys(busy, now.busy, ids);
      if (stale.has("rowErrors")) changedKeys(rowErrors, now.rowErrors, ids);
      busy = now.busy;
      rowErrors = now.rowErrors;
      return moved;
    },
  };
}

/**
 * Bring the view's own state in line with this draw's traits; add the rows it touches to `ids`.
 * @param {{ ui: Ui, rows: Map<string, Row>, pending: Pending, transient: Transient,
 *   catalog: Catalog, now: RowTraits, gone: boolean, inputsOf: (id: string) => RowInputs }} d
 * @param {Set<string>} ids
 */
export function settle({ ui, rows, pending, transient, catalog, now, gone, inputsOf }, ids) {
  const { downloads, busy, rowErrors } = now;
  for (const id of pending.ids()) {
    const key = answerKey(catalog.byId.get(id)?.model, downloads[id], busy[id], rowErrors[id]);
    if (pending.settle(id, key)) ids.add(id);
  }
  if (gone) {
    for (const id of [...rows.keys()]) {
      if (!catalog.byId.has(id)) {
        rows.delete(id);
        for (const set of [ui.editing, ui.details]) set.delete(id);
      }
    }
  }
  // A confirmation whose action is gone is dropped, not hidden: it must not come back by
  // itself when the action is offered again.
  for (const [id, kind] of ui.confirm) {
    const entry = catalog.byId.get(id);
    if (entry && confirmStands(kind, entry.model, inputsOf(id))) continue;
    ui.confirm.delete(id);
    ids.add(id);
  }
  for (const [id, save] of ui.saving) {
    const entry = catalog.byId.get(id);
    const outcome = entry ? saveOutcome(save, entry.model, busy[id], rowErrors[id]) : "refused";
    if (outcome === "wait") continue;
    ui.saving.delete(id);
    if (outcome === "saved" && ui.editing.delete(id)) {
      ids.add(id);
      transient.notice(id, "Saved");
    }
  }
}

/**
 * Create or patch the rows `ids` (those of removed models are skipped).
 * @param {Map<string, Row>} rows @param {Catalog} catalog @param {Iterable<string>} ids
 * @param {(id: string) => RowInputs} inputsOf
 */
export function patchRows(rows, catalog, ids, inputsOf) {
  for (const id of ids) {
    const entry = catalog.byId.get(id);
    if (!entry) continue;
    let row = rows.get(id);
    if (!row) {
      row = createRow(id);
      rows.set(id, row);
    }
    const m = entry.model;
    const inputs = inputsOf(id);
    const sig = rowSig(m, inputs);
    if (row.sig !== sig || !sameModel(row.model, m)) {
      patchRow(row, m, inputs);
      row.sig = sig;
      row.model = m;
    }
  }
}
