// @ts-check
/**
 * One model row: created once, then patched in place (text, attributes, the bar's width).
 * Buttons live in slots, so Download -> Cancel -> Load is one element that keeps focus and a
 * held mouse button; the role="status" element is never re-created. Server strings go in as
 * text only. Clicks are handled by the view's one delegated listener (data-action).
 */

import { detailFields } from "./details.js";
import { actionButton, el, markChanged, placePart, setAttr, setText, syncChildren } from "./dom.js";
import { rowState } from "./state.js";

/** @typedef {import("./types.js").ModelJson} ModelJson */
/** @typedef {import("./state.js").RowInputs} RowInputs */
/** @typedef {import("./state.js").RowView} RowView */

/**
 * @typedef {{
 *   el: HTMLElement, id: string, sig: string, model: ModelJson | null,
 *   memo: Record<string, unknown>,
 *   name: HTMLElement, badges: HTMLElement,
 *   meta: HTMLElement, hint: HTMLElement, actions: HTMLElement,
 *   buttons: Map<string, HTMLButtonElement>, status: HTMLElement,
 *   progress: HTMLElement | null, alert: HTMLElement | null, confirm: HTMLElement | null,
 *   edit: HTMLFormElement | null, details: HTMLElement | null,
 * }} Row
 */

/** Document order of a row's parts; the optional ones are inserted in their place. */
const PARTS = ["main", "actions", "progress", "status", "alert", "confirm", "edit", "details"];

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag @param {string} className @param {string} partName
 */
function part(tag, className, partName) {
  const node = el(tag, className);
  node.setAttribute("data-part", partName);
  return node;
}

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
    template.append(main, part("div", "pw-actions", "actions"), status);
  }
  return template;
}

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
 * Write a text, attribute or property only when it differs from what this row last wrote there.
 * The row remembers its writes (`memo`), so an unchanged row costs no DOM reads at all.
 * @param {Row} row @param {string} key @param {unknown} value
 */
function differs(row, key, value) {
  if (row.memo[key] === value) return false;
  row.memo[key] = value;
  return true;
}
/** @param {Row} row @param {string} key @param {Node} node @param {string} value */
function text(row, key, node, value) {
  if (differs(row, key, value)) node.textContent = value;
}
/**
 * @param {Row} row @param {string} key @param {Element} node @param {string} name
 * @param {string | null} value null removes the attribute
 */
function attr(row, key, node, name, value) {
  if (!differs(row, key, value)) return;
  if (value == null) node.removeAttribute(name);
  else node.setAttribute(name, value);
}
/** @param {Row} row @param {string} key @param {HTMLElement} node @param {boolean} hidden */
function hidden(row, key, node, hidden) {
  if (differs(row, key, hidden)) node.hidden = hidden;
}
/** @param {Row} row @param {string} key @param {HTMLButtonElement} node @param {boolean} off */
function disabled(row, key, node, off) {
  if (differs(row, key, off)) node.disabled = off;
}

/** @param {Row} row @param {RowView} v */
function patchActions(row, v) {
  for (const a of v.actions) {
    let b = row.buttons.get(a.slot);
    if (!b) {
      b = actionButton(a.action, a.label, `${a.label} ${v.name}`);
      b.classList.add(a.slot === "main" ? "pw-primary" : "pw-secondary");
      row.buttons.set(a.slot, b);
      for (const k of ["action", "label", "aria", "disabled", "expanded", "pending", "title"])
        delete row.memo[`${a.slot}.${k}`];
      row.memo[`${a.slot}.action`] = a.action;
      row.memo[`${a.slot}.label`] = a.label;
      row.memo[`${a.slot}.aria`] = `${a.label} ${v.name}`;
    }
    if (row.memo[`${a.slot}.action`] !== a.action) markChanged(b);
    attr(row, `${a.slot}.action`, b, "data-action", a.action);
    text(row, `${a.slot}.label`, b, a.label);
    attr(row, `${a.slot}.aria`, b, "aria-label", `${a.label} ${v.name}`);
    disabled(row, `${a.slot}.disabled`, b, a.disabled);
    // why it is disabled, else what it does
    attr(row, `${a.slot}.title`, b, "title", a.why || a.title || null);
    attr(row, `${a.slot}.pending`, b, "aria-disabled", a.pending ? "true" : null);
    attr(
      row,
      `${a.slot}.expanded`,
      b,
      "aria-expanded",
      a.expanded == null ? null : String(a.expanded),
    );
  }
  const slots = v.actions.map((a) => a.slot).join(" ");
  if (differs(row, "slots", slots)) {
    const wanted = v.actions.map((a) => a.slot);
    for (const slot of [...row.buttons.keys()])
      if (!wanted.includes(slot)) row.buttons.delete(slot);
    syncChildren(
      row.actions,
      wanted.map((s) => /** @type {HTMLButtonElement} */ (row.buttons.get(s))),
    );
  }
}

/** @param {Row} row @param {RowView} v */
function patchProgress(row, v) {
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
  const line = [v.status, v.bar.text].filter(Boolean).join(" · ");
  text(row, "bar.text", /** @type {HTMLElement} */ (row.progress.lastElementChild), line);
}

/** @param {Row} row @param {RowView} v @param {boolean} offline */
function patchAlert(row, v, offline) {
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
function patchConfirm(row, v, offline) {
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

/**
 * The Edit form: filled from the model when it opens, then never written again, so what the
 * user types, the caret and the focus survive every update.
 * @param {Row} row @param {ModelJson} m @param {boolean} open @param {string} name
 * @param {boolean} disabled
 */
function patchEdit(row, m, open, name, disabled) {
  if (open && !row.edit) {
    const form = part("form", "pw-edit", "edit");
    form.setAttribute("data-form", "edit");
    const nameLabel = el("label", "pw-field", "Name");
    const nameInput = el("input");
    nameInput.name = "name";
    nameInput.value = m.name ?? "";
    nameLabel.append(nameInput);
    const descLabel = el("label", "pw-field", "Description");
    const desc = el("textarea");
    desc.name = "description";
    desc.rows = 2;
    desc.value = m.description ?? "";
    descLabel.append(desc);
    const save = el("button", "pw-button", "Save");
    save.type = "submit";
    save.setAttribute("aria-label", `Save ${name}`);
    form.append(
      nameLabel,
      descLabel,
      save,
      actionButton("close-edit", "Close", `Close the editor of ${name}`),
    );
    row.edit = form;
  }
  if (row.edit) {
    placePart(row.el, row.edit, open, PARTS);
    const save = /** @type {HTMLButtonElement} */ (row.edit.querySelector('button[type="submit"]'));
    if (save.disabled !== disabled) save.disabled = disabled;
    if (!open) row.edit = null; // the next Edit starts from the model as it is then
  }
}

/** @param {Row} row @param {ModelJson} m @param {boolean} open @param {string} name */
function patchDetails(row, m, open, name) {
  if (open && !row.details) {
    const panel = part("section", "pw-details", "details");
    panel.setAttribute("aria-label", `Details of ${name}`);
    panel.append(el("dl"));
    row.details = panel;
  }
  if (row.details) placePart(row.el, row.details, open, PARTS);
  if (!open || !row.details) return;
  setAttr(row.details, "aria-label", `Details of ${name}`);
  const dl = /** @type {HTMLElement} */ (row.details.firstElementChild);
  const fields = detailFields(m);
  const labels = fields.map(([label]) => label).join("\n");
  if (dl.getAttribute("data-labels") !== labels) {
    dl.setAttribute("data-labels", labels);
    dl.replaceChildren(...fields.flatMap(([label]) => [el("dt", "", label), el("dd")]));
  }
  fields.forEach(([, value], i) => {
    setText(/** @type {HTMLElement} */ (dl.children[2 * i + 1]), value);
  });
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
    const parts = v.meta ? v.meta.split(" · ") : [];
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
  patchEdit(row, m, Boolean(inputs.editing), v.name, offline || Boolean(inputs.busy));
  patchDetails(row, m, Boolean(inputs.details), v.name);
  return v;
}
