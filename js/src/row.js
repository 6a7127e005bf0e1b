// @ts-check
/**
 * One model row: created once, then patched in place (text, attributes, the bar's width).
 * Buttons live in slots, so Download -> Cancel -> Load is one element that keeps focus and a
 * held mouse button; the role="status" element is never re-created. Server strings go in as
 * text only. Clicks are handled by the view's one delegated listener (data-action).
 */
import { actionButton, el, placePart, setAttr, setHidden, setText, syncChildren } from "./dom.js";
import { detailFields, rowState } from "./state.js";

/** @typedef {import("./types.js").ModelJson} ModelJson */
/** @typedef {import("./state.js").RowInputs} RowInputs */
/** @typedef {import("./state.js").RowView} RowView */

/**
 * @typedef {{
 *   el: HTMLElement, id: string, sig: string, name: HTMLElement, badges: HTMLElement,
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
  node.dataset.part = partName;
  return node;
}

/** @param {string} id */
export function createRow(id) {
  const row = el("div", "pw-row");
  row.dataset.modelId = id;
  row.setAttribute("role", "listitem");
  const main = part("div", "pw-main", "main");
  const title = el("div", "pw-title");
  const name = el("span", "pw-name");
  const badges = el("span", "pw-badges");
  title.append(name, badges);
  const meta = el("div", "pw-meta");
  const hint = el("div", "pw-hint");
  hint.hidden = true;
  main.append(title, meta, hint);
  const actions = part("div", "pw-actions", "actions");
  const status = part("div", "pw-status", "status");
  status.setAttribute("role", "status");
  row.append(main, actions, status);
  /** @type {Row} */
  const record = {
    el: row,
    id,
    sig: "",
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
  return record;
}

/** @param {Row} row @param {RowView} v */
function patchActions(row, v) {
  const slots = v.actions.map((a) => a.slot);
  for (const a of v.actions) {
    let b = row.buttons.get(a.slot);
    if (!b) {
      b = actionButton(a.action, a.label, "");
      row.buttons.set(a.slot, b);
    }
    if (b.dataset.action !== a.action) b.dataset.action = a.action;
    setText(b, a.label);
    setAttr(b, "aria-label", `${a.label} ${v.name}`);
    if (b.disabled !== a.disabled) b.disabled = a.disabled;
    setAttr(b, "aria-expanded", a.expanded == null ? null : String(a.expanded));
  }
  for (const slot of [...row.buttons.keys()]) if (!slots.includes(slot)) row.buttons.delete(slot);
  syncChildren(
    row.actions,
    slots.map((s) => /** @type {HTMLButtonElement} */ (row.buttons.get(s))),
  );
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
  if (row.progress) placePart(row.el, row.progress, Boolean(v.bar), PARTS);
  if (!v.bar || !row.progress) return;
  const bar = /** @type {HTMLElement} */ (row.progress.firstElementChild);
  const fill = /** @type {HTMLElement} */ (bar.firstElementChild);
  const pct = Math.min(100, Math.max(0, v.bar.pct));
  setAttr(bar, "aria-valuenow", String(Math.round(pct * 10) / 10));
  setAttr(bar, "aria-label", `Download of ${v.name}`);
  bar.classList.toggle("pw-stalled", v.bar.stalled);
  const width = `${pct}%`;
  if (fill.style.width !== width) fill.style.width = width;
  setText(/** @type {HTMLElement} */ (row.progress.lastElementChild), v.bar.text);
}

/** @param {Row} row @param {RowView} v @param {boolean} offline */
function patchAlert(row, v, offline) {
  if (v.alert && !row.alert) {
    const alert = part("div", "pw-alert", "alert");
    alert.setAttribute("role", "alert");
    alert.append(el("span", "pw-alert-text"), actionButton("download", "Retry", ""));
    row.alert = alert;
  }
  if (row.alert) placePart(row.el, row.alert, Boolean(v.alert), PARTS);
  if (!v.alert || !row.alert) return;
  setText(/** @type {HTMLElement} */ (row.alert.firstElementChild), v.alert.text);
  const retry = /** @type {HTMLButtonElement} */ (row.alert.lastElementChild);
  setHidden(retry, v.alert.retry == null);
  if (v.alert.retry && retry.dataset.action !== v.alert.retry) retry.dataset.action = v.alert.retry;
  setAttr(retry, "aria-label", `Retry ${v.name}`);
  if (retry.disabled !== offline) retry.disabled = offline;
}

/** @param {Row} row @param {RowView} v @param {boolean} offline */
function patchConfirm(row, v, offline) {
  const c = v.confirm;
  if (c && !row.confirm) {
    const box = part("div", "pw-confirm", "confirm");
    box.setAttribute("role", "group");
    const yes = actionButton(c.kind, c.label, c.aria);
    yes.dataset.confirmed = "1";
    yes.classList.add("pw-danger");
    box.append(el("span", "pw-confirm-text"), yes, actionButton("keep", c.keep, c.keepAria));
    row.confirm = box;
  }
  if (row.confirm) placePart(row.el, row.confirm, Boolean(c), PARTS);
  if (!c || !row.confirm) return;
  const [text, yes, keep] = /** @type {HTMLElement[]} */ ([...row.confirm.children]);
  setAttr(row.confirm, "aria-label", c.text);
  setText(text, c.text);
  if (yes.dataset.action !== c.kind) yes.dataset.action = c.kind;
  setText(yes, c.label);
  setAttr(yes, "aria-label", c.aria);
  /** @type {HTMLButtonElement} */ (yes).disabled = offline;
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
    form.dataset.form = "edit";
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
  if (dl.dataset.labels !== labels) {
    dl.dataset.labels = labels;
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
  setText(row.name, v.name);
  const badgeKey = v.badges.join("|");
  if (row.badges.dataset.key !== badgeKey) {
    row.badges.dataset.key = badgeKey;
    row.badges.replaceChildren(
      ...v.badges.map((b) =>
        el("span", `pw-badge pw-badge-${b.toLowerCase().replace(/\s+/g, "-")}`, b),
      ),
    );
  }
  setText(row.meta, v.meta);
  setText(row.hint, v.hint);
  setHidden(row.hint, !v.hint);
  patchActions(row, v);
  patchProgress(row, v);
  setText(row.status, v.status);
  patchAlert(row, v, offline);
  patchConfirm(row, v, offline);
  patchEdit(row, m, Boolean(inputs.editing), v.name, offline || Boolean(inputs.busy));
  patchDetails(row, m, Boolean(inputs.details), v.name);
  return v;
}
