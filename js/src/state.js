// @ts-check
/**
 * What a row shows for a model in a given state: its badges, status, bar, hint, actions
 * (actions.js), alert and confirmation (confirm.js). A pure function of the synced traits and the
 * view's own state; row.js only writes what it returns into the DOM.
 */
import { rowActions, rowAlert } from "./actions.js";
import { activeText, isActive } from "./activity.js";
import { confirmation, stands } from "./confirm.js";
import { fitCheck } from "./fit.js";
import { formatBytes, formatPercent, progressText } from "./format.js";
import { stateBadges } from "./labels.js";
import { displayName, metaLine } from "./meta.js";
import { WAITING_TEXT } from "./pending.js";

/** @typedef {import("./types.js").ModelJson} ModelJson */
/** @typedef {import("./types.js").Download} Download */
/** @typedef {import("./types.js").Resources} Resources */
/** @typedef {import("./confirm.js").ConfirmKind} ConfirmKind */
/** @typedef {import("./confirm.js").Confirmation} Confirmation */
/** @typedef {import("./actions.js").RowAction} RowAction */

/** How long a view keeps a finished download's full bar before it collapses (ms). */
export const FINISHED_BAR_MS = 2000;

/**
 * Everything a row depends on besides its Model JSON. The view keeps `finishing`, `confirm`,
 * `editing`, `details`, `lastAction` and `pending` (a command sent, not answered yet: see
 * pending.js) per view; the rest comes from the synced traits.
 * @typedef {{
 *   download?: Download, busy?: string, rowError?: string, offline?: boolean,
 *   resources?: Resources | null, finishing?: boolean, confirm?: ConfirmKind | null,
 *   editing?: boolean, details?: boolean, lastAction?: string,
 *   pending?: { action: string, waiting: boolean } | null, runtime?: string, notice?: string,
 *   stopped?: boolean,
 * }} RowInputs
 */

/**
 * @typedef {{
 *   name: string, badges: string[], meta: string, hint: string, actions: RowAction[],
 *   status: string, active: boolean,
 *   bar: { pct: number, stalled: boolean, text: string } | null,
 *   alert: { text: string, retry: string | null } | null,
 *   confirm: Confirmation | null,
 * }} RowView
 */

/** What an active download's row says while Pieces OS is unreachable (no speed, no ETA). */
export const WAITING_FOR_SERVER = "Waiting for Pieces OS…";

const BUSY_TEXT = /** @type {Record<string, string>} */ ({
  loading: "Loading…",
  unloading: "Unloading…",
  saving: "Saving…",
  deleting: "Deleting…",
  removing: "Removing…",
});

/**
 * What a row shows.
 * @param {ModelJson} m @param {RowInputs} inputs
 * @returns {RowView}
 */
export function rowState(m, inputs) {
  const d = inputs.download;
  const active = isActive(m, d);
  // Pieces OS unreachable: the kernel's job sees no bytes, its speed decays and its ETA grows;
  // none of that is news about the download, which waits for the server
  const paused = active && Boolean(inputs.offline);
  const stalled = Boolean(active && !paused && d?.stalled);
  const starting = active && d?.status === "INITIALIZED";
  const activity =
    active && !paused ? (starting ? "Starting" : stalled ? "Stalled" : "Downloading") : "";
  const badges = stateBadges(m, activity);

  // Downloading / Stalled are said once, by the badge (and "stalled for N s" under the bar)
  let status = "";
  if (inputs.pending?.waiting) status = WAITING_TEXT;
  else if (inputs.busy) status = BUSY_TEXT[inputs.busy] ?? `${inputs.busy}…`;
  else if (paused)
    status = inputs.stopped ? "" : WAITING_FOR_SERVER; // the banner says why
  else if (active) status = d ? activeText(d) : "";
  else if (inputs.finishing) status = "Download complete";
  else if (d?.status === "CANCELED") status = "Download canceled";
  if (!status && inputs.notice) status = inputs.notice;

  let bar = null;
  if (active && d) {
    bar = { pct: d.percentage ?? 0, stalled, text: starting ? "" : progressText(d, paused) };
  } else if (inputs.finishing && d) {
    const size = d.bytes_total ?? m.bytes?.value;
    bar = {
      pct: 100,
      stalled: false,
      text: [formatPercent(100), size != null ? formatBytes(size) : ""].filter(Boolean).join(" · "),
    };
  }

  const actions = rowActions(m, inputs, active);
  const r = inputs.resources;
  const kind = inputs.confirm;
  const confirm = kind && stands(kind, m, r, actions) ? confirmation(kind, m, r) : null;
  return {
    name: displayName(m),
    badges,
    meta: metaLine(m),
    hint: active ? fitCheck({ ...m, bytes: undefined }, r).hint : fitCheck(m, r).hint,
    actions,
    status,
    active,
    bar,
    alert: rowAlert(m, inputs, active, actions),
    confirm,
  };
}
