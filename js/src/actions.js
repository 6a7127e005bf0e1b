// @ts-check
/**
 * The buttons a row offers for a model in a given state (the main one first, then the
 * secondary ones of its More menu), and its one alert with what Retry repeats.
 */
import { fitCheck, resumePercent } from "./fit.js";
import { formatBytes } from "./format.js";
import { PENDING_LABELS } from "./pending.js";

/** @typedef {import("./types.js").ModelJson} ModelJson */
/** @typedef {import("./state.js").RowInputs} RowInputs */

/**
 * One button of a row. `slot` keeps the element across state changes (Download -> Cancel ->
 * Load is one element, so keyboard focus stays put); `action` is its data-action. `pending`:
 * its command is on its way (aria-disabled, so a focused button keeps the focus).
 * `why`: why it is disabled, when that is not plain from the row (the row's tooltip says it).
 * `title`: what it does, in a tooltip (Delete and Remove say what they take away).
 * @typedef {{ slot: string, action: string, label: string, disabled: boolean,
 *   expanded?: boolean, pending?: boolean, why?: string, title?: string }} RowAction
 */

/**
 * The buttons of a row, in order: main (Download/Resume/Cancel/Load/Unload), Edit, Details,
 * Delete, Remove.
 * @param {ModelJson} m @param {RowInputs} inputs @param {boolean} active
 * @returns {RowAction[]}
 */
export function rowActions(m, inputs, active) {
  // Unreachable: disabled. Busy (Python works on the row): aria-disabled, like a command on
  // its way, so a focused button keeps the focus (and gets it back after Delete or Remove).
  const blocked = Boolean(inputs.offline);
  const busy = Boolean(inputs.busy);
  const pending = inputs.pending?.action;
  /** @type {RowAction[]} */
  const actions = [];
  /**
   * @param {string} slot @param {string} action @param {string} label @param {boolean} [off]
   * @param {string} [pendingLabel] what it says while its command is on its way
   * @param {boolean} [waits] it waits while the row is busy
   */
  const add = (
    slot,
    action,
    label,
    off = blocked,
    pendingLabel = PENDING_LABELS[action],
    waits = busy,
  ) => {
    if (pending === action && pendingLabel)
      actions.push({ slot, action, label: pendingLabel, disabled: off, pending: true });
    else actions.push({ slot, action, label, disabled: off, ...(waits ? { pending: true } : {}) });
  };
  // Local models need the runtime (Ollama) to download and load: say why they can't.
  const noRuntime = m.cloud ? "" : (inputs.runtime ?? "");
  const needsRuntime = (/** @type {string} */ slot, /** @type {string} */ action, label = "") => {
    add(
      slot,
      action,
      label,
      blocked || Boolean(noRuntime),
      label.startsWith("Resume") ? PENDING_LABELS.resume : undefined,
    );
    if (noRuntime) actions[actions.length - 1].why = noRuntime;
  };
  if (active) add("main", "cancel", "Cancel", blocked, undefined, false);
  else if (!m.cloud && !m.downloaded) {
    const resume = resumePercent(m, inputs.download);
    needsRuntime("main", "download", resume == null ? "Download" : `Resume (${resume} %)`);
    // no room on the disk for it: Download stays (the row keeps its shape) but disabled, and
    // the hint says why; nothing is offered that is known to fail
    if (fitCheck(m, inputs.resources).diskShort) {
      const main = actions[actions.length - 1];
      main.disabled = true;
      main.why ||= "Not enough free disk for it: free some space first";
    }
  } else if (m.cloud) {
    // cloud models have no main action here
  } else if (m.loaded) add("main", "unload", "Unload");
  else needsRuntime("main", "load", "Load");
  if (m.custom) {
    add("edit", "edit", "Edit");
    actions[actions.length - 1].expanded = Boolean(inputs.editing);
  }
  add("details", "details", inputs.details ? "Hide details" : "Details", false, undefined, false);
  actions[actions.length - 1].expanded = Boolean(inputs.details);
  const size = m.bytes?.value != null ? ` (${formatBytes(m.bytes.value)})` : "";
  if (!m.cloud && m.downloaded && !active) {
    add("delete", "delete", "Delete");
    actions[actions.length - 1].title =
      `Delete the downloaded weights${size} from this device; the model stays in the list`;
  }
  const partial = m.partialBytes ?? 0;
  if (!m.cloud && !m.downloaded && !active && partial > 0) {
    add("discard", "discard", `Discard partial (${formatBytes(partial)})`);
    actions[actions.length - 1].title =
      `Throw away the partial download and free its ${formatBytes(partial)}`;
  }
  if (m.custom) {
    add("remove", "remove", "Remove");
    actions[actions.length - 1].title =
      "Remove this custom model from the list, and its files from this device";
  }
  return actions;
}

/**
 * The row's one alert: its own failed action, else the failed download's reason. Retry repeats
 * what this view last asked for when the row still offers it, else the row's main action; but
 * when that is the row's main button (Download, Resume (46 %), Load), that button is the retry:
 * no second button for the same thing.
 * @param {ModelJson} m @param {RowInputs} inputs @param {boolean} active @param {RowAction[]} actions
 */
export function rowAlert(m, inputs, active, actions) {
  const d = inputs.download;
  let text = inputs.rowError || "";
  if (!text && !active && !m.downloaded && !m.cloud) {
    if (d?.status === "FAILED") text = d.error || m.error || "Download failed";
    else if (!d && m.error) text = m.error;
  }
  if (!text) return null;
  // A refused save is retried from the Edit form it left open, not with another action.
  if (inputs.rowError && inputs.lastAction === "update") return { text, retry: null };
  const offered = actions.filter((a) => a.slot !== "details" && a.slot !== "edit");
  const again = offered.find((a) => a.action === inputs.lastAction) ?? offered[0];
  return { text, retry: again && again.slot !== "main" ? again.action : null };
}
