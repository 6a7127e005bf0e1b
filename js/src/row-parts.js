// @ts-check
/**
 * A row's optional parts that follow its state: the progress bar and its line, the alert with
 * Retry, and the in-row confirmation. Each is created the first time it is needed, then patched.
 */
import { actionButton, el, placePart, setAttr, setText } from "./dom.js";
import { keepUnits } from "./format.js";
import { attr, differs, disabled, hidden, PARTS, part, text } from "./row-dom.js";

/** @typedef {import("./row-dom.js").Row} Row */
/** @typedef {import("./state.js").RowView} RowView */

/** @param {Row} row @param {RowView} v */
export function patchProgress(row, v) {
  if (v.bar && !row.progress) {
    const progress = part("div", "pw-progress", "progress");
    const bar = el("div", "pw-bar");
    bar.setAttribute("role", "progressbar");
    bar.setAttribute("aria-valuemin", "0");
    bar.setAttribute("aria-valuemax", "100");
    bar.append(el("div", "pw-fill"));
    progress.append(bar, el("div", "pw-progress-text"));
    row.progress = progress;
  }
  if (row.progress && differs(row, "bar", Boolean(v.bar)))
    placePart(row.el, row.progress, Boolean(v.bar), PARTS);
  if (!v.bar || !row.progress) return;
  const bar = /** @type {HTMLElement} */ (row.progress.firstElementChild);
  const fill = /** @type {HTMLElement} */ (bar.firstElementChild);
  const pct = Math.min(100, Math.max(0, v.bar.pct));
  attr(row, "bar.now", bar, "aria-valuenow", String(Math.round(pct * 10) / 10));
  attr(row, "bar.label", bar, "aria-label", `Download of ${v.name}`);
  if (differs(row, "bar.stalled", v.bar.stalled)) bar.classList.toggle("pw-stalled", v.bar.stalled);
  if (differs(row, "bar.width", pct)) fill.style.width = `${pct}%`;
  // The row's status is said in the bar's own line while there is a bar (the status element
  // stays for screen readers, out of sight): a status appearing under the bar would move the page.
  const line = keepUnits([v.status, v.bar.text].filter(Boolean).join(" · "));
  text(row, "bar.text", /** @type {HTMLElement} */ (row.progress.lastElementChild), line);
}

/** @param {Row} row @param {RowView} v @param {boolean} offline */
export function patchAlert(row, v, offline) {
  if (v.alert && !row.alert) {
    const alert = part("div", "pw-alert", "alert");
    alert.setAttribute("role", "alert");
    alert.append(el("span", "pw-alert-text"), actionButton("download", "Retry", ""));
    row.alert = alert;
  }
  if (row.alert && differs(row, "alert", Boolean(v.alert)))
    placePart(row.el, row.alert, Boolean(v.alert), PARTS);
  if (!v.alert || !row.alert) return;
  text(row, "alert.text", /** @type {HTMLElement} */ (row.alert.firstElementChild), v.alert.text);
  const retry = /** @type {HTMLButtonElement} */ (row.alert.lastElementChild);
  hidden(row, "retry.hidden", retry, v.alert.retry == null);
  if (v.alert.retry) attr(row, "retry.action", retry, "data-action", v.alert.retry);
  attr(row, "retry.aria", retry, "aria-label", `Retry ${v.name}`);
  disabled(row, "retry.disabled", retry, offline);
}

/** @param {Row} row @param {RowView} v @param {boolean} offline */
export function patchConfirm(row, v, offline) {
  const c = v.confirm;
  if (c && !row.confirm) {
    const box = part("div", "pw-confirm", "confirm");
    box.setAttribute("role", "group");
    const yes = actionButton(c.kind, c.label, c.aria);
    yes.setAttribute("data-confirmed", "1");
    yes.classList.add("pw-danger");
    box.append(el("span", "pw-confirm-text"), yes, actionButton("keep", c.keep, c.keepAria));
    row.confirm = box;
  }
  if (row.confirm) placePart(row.el, row.confirm, Boolean(c), PARTS);
  if (!c || !row.confirm) return;
  const [label, yes, keep] = /** @type {HTMLButtonElement[]} */ ([...row.confirm.children]);
  setAttr(row.confirm, "aria-label", c.text);
  setText(label, c.text);
  setAttr(yes, "data-action", c.kind);
  setText(yes, c.label);
  setAttr(yes, "aria-label", c.aria);
  if (yes.disabled !== offline) yes.disabled = offline;
  setText(keep, c.keep);
  setAttr(keep, "aria-label", c.keepAria);
}
