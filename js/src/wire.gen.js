// @ts-check
// Generated from pieces_widget/widget/wire.py by
// `python -m pieces_widget.widget.wire_js js/src/wire.gen.js`: do not edit.

/**
 * ``downloads[model_id]``: one download as the row shows it (the JS draws, never derives).
 * @typedef {{
 *   status: string,
 *   percentage: number | null,
 *   bytes_done: number | null,
 *   bytes_total: number | null,
 *   speed: number | null,
 *   eta: number | null,
 *   stalled: boolean,
 *   stalled_for: number,
 *   error: string | null,
 *   waiting_for: number,
 *   slow_start: boolean,
 * }} Download
 */
/**
 * ``connection``: the one place the widget says whether Pieces OS answers.
 * @typedef {{
 *   state: "connected" | "connecting" | "unreachable" | "error",
 *   base_url: string,
 *   version: string,
 *   message: string,
 * }} Connection
 */
/**
 * ``_resources``: this machine's memory and the model store's disk, for the header summary
 * @typedef {{
 *   total_memory: number | null,
 *   available_memory: number | null,
 *   free_disk: number | null,
 * }} Resources
 */
/**
 * The runtime as people read it (the widget's ``runtime`` trait, the CLI's status line).
 * @typedef {{
 *   state: "installed" | "missing" | "installing" | "update-required" | "failed" | "none",
 *   version: string,
 *   percentage: number | null,
 *   message: string,
 *   offer: "install" | "update" | "",
 * }} Runtime
 */
/**
 * ``_capabilities``: what the server offers beyond the spec.
 * @typedef {{
 *   sources: boolean,
 * }} Capabilities
 */
/**
 * ``_view``: sort and grouping, set by the browser, remembered per widget instance.
 * @typedef {{
 *   sort: "name" | "size" | "ram" | "state",
 *   group: boolean,
 * }} ViewPrefs
 */
/**
 * ``_add``: the Add model form's state; ``added`` is the id of the last model added, so the
 * @typedef {{
 *   busy: boolean,
 *   error: string,
 *   added: string,
 * }} AddState
 */
export const TRAITS = /** @type {const} */ ([
  "models",
  "downloads",
  "connection",
  "runtime",
  "_busy",
  "_row_errors",
  "_resources",
  "_capabilities",
  "_view",
  "_add",
]);
export const COMMANDS = /** @type {const} */ ([
  "add",
  "cancel",
  "delete",
  "download",
  "install_runtime",
  "load",
  "refresh",
  "remove",
  "snapshot",
  "unload",
  "unload_all",
  "update",
  "view",
]);
export const SORT_KEYS = /** @type {const} */ ([
  "name",
  "size",
  "ram",
  "state",
]);
