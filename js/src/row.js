// @ts-check
/**
 * One model row: created once, then patched in place (text, attributes, the bar's width).
 * Buttons live in slots, so Download -> Cancel -> Load is one element that keeps focus and a
 * held mouse button; the role="status" element is never re-created. Server strings go in as
 * text only. Clicks are handled by the view's one delegated listener (data-action); the parts
 * are patched by row-actions.js (buttons and the More menu), row-parts.js (bar, alert,
 * confirmation) and row-panels.js (Edit, Details).
 */
import { el } from "./dom.js";
import { keepUnits } from "./format.js";
import { patchActions } from "./row-actions.js";
import { differs, hidden, part, text } from "./row-dom.js";
import { patchDetails, patchEdit } from "./row-panels.js";
import { patchAlert, patchConfirm, patchProgress } from "./row-parts.js";
import { rowState } from "./state.js";

/** @typedef {import("./types.js").ModelJson} ModelJson */
/** @typedef {import("./state.js").RowInputs} RowInputs */
/** @typedef {import("./row-dom.js").Row} Row */

/** @type {HTMLElement | null} */
let template = null;

/** The empty row every row is cloned from (cloning beats building 1,000 rows node by node). */
function rowTemplate() {
  if (!template) {
    template = el("div", "pw-row");
    template.setAttribute("role", "listitem");
    const main = part("div", "pw-main", "main");
    const title = el("div", "pw-title");
    title.append(el("span", "pw-name"), el("span", "pw-badges"));
    const hint = el("div", "pw-hint");
    hint.hidden = true;
    main.append(title, el("div", "pw-meta"), hint);
    const status = part("div", "pw-status", "status");
    status.setAttribute("role", "status");
    const actions = part("div", "pw-actions", "actions");
    const more = el("button", "pw-button pw-more", "More");
    more.type = "button";
    more.setAttribute("aria-haspopup", "menu");
    more.setAttribute("aria-expanded", "false");
    const menu = el("div", "pw-menu");
    menu.setAttribute("role", "menu");
    menu.setAttribute("popover", "manual"); // the top layer: no scrolling list clips it
    menu.hidden = true;
    actions.append(more, menu);
    template.append(main, actions, status);
  }
  return template;
}

/** Menus made so far: each menu's element id (its More button's aria-controls). */
let menuCount = 0;

/** @param {string} id @returns {Row} */
export function createRow(id) {
  const row = /** @type {HTMLElement} */ (rowTemplate().cloneNode(true));
  row.setAttribute("data-model-id", id);
  const main = /** @type {HTMLElement} */ (row.firstElementChild);
  const actions = /** @type {HTMLElement} */ (main.nextElementSibling);
  const status = /** @type {HTMLElement} */ (actions.nextElementSibling);
  const title = /** @type {HTMLElement} */ (main.firstElementChild);
  const meta = /** @type {HTMLElement} */ (title.nextElementSibling);
  const hint = /** @type {HTMLElement} */ (meta.nextElementSibling);
  const name = /** @type {HTMLElement} */ (title.firstElementChild);
  const badges = /** @type {HTMLElement} */ (name.nextElementSibling);
  const more = /** @type {HTMLButtonElement} */ (actions.firstElementChild);
  const menu = /** @type {HTMLElement} */ (actions.lastElementChild);
  menuCount += 1;
  menu.id = `pw-menu-${menuCount}`;
  more.setAttribute("aria-controls", menu.id);
  return {
    el: row,
    id,
    sig: "",
    model: null,
    memo: { name: "", badges: "", meta: "", hint: "", "hint.hidden": true, status: "" }, // the template's
    name,
    badges,
    meta,
    hint,
    actions,
    more,
    menu,
    buttons: new Map(),
    status,
    progress: null,
    alert: null,
    confirm: null,
    edit: null,
    details: null,
  };
}

/**
 * Bring a row up to date with its model and inputs, writing only what differs.
 * @param {Row} row @param {ModelJson} m @param {RowInputs} inputs
 */
export function patchRow(row, m, inputs) {
  const v = rowState(m, inputs);
  const offline = Boolean(inputs.offline);
  text(row, "name", row.name, v.name);
  if (differs(row, "badges", v.badges.join("|"))) {
    row.badges.replaceChildren(
      ...v.badges.map((b) =>
        el("span", `pw-badge pw-badge-${b.toLowerCase().replace(/\s+/g, "-")}`, b),
      ),
    );
  }
  if (differs(row, "meta", v.meta)) {
    // each part on one line ("size 4.9 GB" never breaks); the text is the same string
    const parts = v.meta ? keepUnits(v.meta).split(" · ") : [];
    row.meta.replaceChildren(
      ...parts.flatMap((p, i) => [...(i ? [" · "] : []), el("span", "pw-meta-part", p)]),
    );
  }
  text(row, "hint", row.hint, v.hint);
  hidden(row, "hint.hidden", row.hint, !v.hint);
  patchActions(row, v);
  patchProgress(row, v);
  text(row, "status", row.status, v.status);
  if (differs(row, "status.inBar", Boolean(v.bar)))
    row.status.classList.toggle("pw-sr-only", Boolean(v.bar));
  patchAlert(row, v, offline);
  patchConfirm(row, v, offline);
  patchEdit(row, m, Boolean(inputs.editing), v.name, offline, Boolean(inputs.busy));
  patchDetails(row, m, Boolean(inputs.details), v.name);
  return v;
}
