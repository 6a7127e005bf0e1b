// @ts-check
/** The in-row questions: which actions ask first, what they say, and whether one still stands. */
import { rowActions } from "./actions.js";
import { isActive } from "./activity.js";
import { fitCheck } from "./fit.js";
import { formatBytes } from "./format.js";
import { displayName } from "./meta.js";

/** @typedef {import("./types.js").ModelJson} ModelJson */
/** @typedef {import("./types.js").Download} Download */
/** @typedef {import("./types.js").Resources} Resources */
/** @typedef {import("./state.js").RowInputs} RowInputs */
/** @typedef {import("./actions.js").RowAction} RowAction */

/** Actions that ask in the row before they are sent (always, or when the model does not fit). */
/** @typedef {"delete" | "remove" | "load" | "download" | "discard"} ConfirmKind */
/**
 * @typedef {{ kind: ConfirmKind, text: string, label: string, aria: string, keep: string,
 *   keepAria: string }} Confirmation
 */

/**
 * Whether an action asks first in the row.
 * @param {string} action @param {ModelJson} m @param {Resources | null | undefined} r
 * @returns {action is ConfirmKind}
 */
export function needsConfirm(action, m, r) {
  if (action === "delete" || action === "remove" || action === "discard") return true;
  // a download that cannot fit on the disk is not offered at all (see rowActions): it would fail
  if (action === "load") return fitCheck(m, r).ramShort;
  return false;
}

/**
 * The in-row question. `aria` names the model without repeating the row button's own name
 * ("Delete Phi-3 Mini"), so a search for that button finds one element.
 * @param {ConfirmKind} kind @param {ModelJson} m @param {Resources | null | undefined} r
 * @returns {Confirmation}
 */
export function confirmation(kind, m, r) {
  const name = displayName(m);
  const size = m.bytes?.value != null ? formatBytes(m.bytes.value) : "";
  if (kind === "delete") {
    const verb = m.loaded ? "Unload and delete" : "Delete"; // the server unloads it first
    return {
      kind,
      text: `${verb} ${size || "the weights"} from disk?`,
      label: "Delete",
      aria: `${verb} ${size || "the weights"} of ${name} from disk`,
      keep: "Keep",
      keepAria: `Keep ${name} on disk`,
    };
  }
  if (kind === "discard") {
    const part = formatBytes(m.partialBytes ?? 0);
    return {
      kind,
      text: `Discard the ${part} partial download?`,
      label: "Discard",
      aria: `Discard the ${part} partial download of ${name}`,
      keep: "Keep",
      keepAria: `Keep the partial download of ${name}`,
    };
  }
  if (kind === "remove")
    return {
      kind,
      text: `Remove ${name}${m.downloaded && size ? ` and its ${size} on disk` : ""}?`,
      label: "Remove",
      aria: `Confirm: remove the custom model ${name}`,
      keep: "Keep",
      keepAria: `Keep the custom model ${name}`,
    };
  const verb = kind === "load" ? "Load" : "Download";
  return {
    kind,
    text: `${fitCheck(m, r).hint}. ${verb} anyway?`,
    label: `${verb} anyway`,
    aria: `${verb} anyway: ${name}`,
    keep: "Not now",
    keepAria: `Not now: ${name}`,
  };
}

/**
 * Whether an open confirmation still makes sense: the row still offers its action and the action
 * still asks first (a Delete question is moot once the weights are gone, a "Load anyway?" once
 * the model fits).
 * @param {ConfirmKind} kind @param {ModelJson} m @param {Resources | null | undefined} r
 * @param {RowAction[]} actions
 */
export function stands(kind, m, r, actions) {
  return actions.some((a) => a.action === kind) && needsConfirm(kind, m, r);
}

/**
 * Whether a view should keep a row's pending confirmation; when not, it drops it, so it does not
 * come back by itself when the action is offered again (deleted, then downloaded again).
 * @param {ConfirmKind} kind @param {ModelJson} m @param {RowInputs} inputs
 */
export function confirmStands(kind, m, inputs) {
  const actions = rowActions(m, inputs, isActive(m, inputs.download));
  return stands(kind, m, inputs.resources, actions);
}
