// @ts-check
/**
 * What became of a submitted Edit form. The form stays open while the save runs, so a refused
 * save keeps what was typed next to the row's alert; it closes once the save went through.
 * Python batches its trait writes, so `_busy` "saving" -> absent may reach the browser as one
 * change (never seen busy): a save then also counts as done when the model carries what was
 * submitted and the row shows no error.
 */

/** @typedef {import("./types.js").ModelJson} ModelJson */

/**
 * One submitted form: what was sent, whether this view saw the row busy "saving" since, and the
 * row's error at submit time (an error still there is the old one, not this save's answer).
 * @typedef {{ name: string, description: string, sawBusy: boolean, errorBefore: string }} PendingSave
 */

/**
 * @param {PendingSave} save @param {ModelJson} m
 * @param {string | undefined} busy @param {string | undefined} rowError
 * @returns {"wait" | "saved" | "refused"}
 */
export function saveOutcome(save, m, busy, rowError) {
  if (busy === "saving") return "wait";
  if (rowError) return save.sawBusy || rowError !== save.errorBefore ? "refused" : "wait";
  const carried = (m.name ?? "") === save.name && (m.description ?? "") === save.description;
  return save.sawBusy || carried ? "saved" : "wait";
}
