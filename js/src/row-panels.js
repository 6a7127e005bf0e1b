// @ts-check
/**
 * A row's panels: the Edit form (filled once when it opens, then never written: what the user
 * types survives every update) and the Details panel (its labelled fields kept live).
 */

import { detailFields } from "./details.js";
import { actionButton, el, placePart, setAttr, setText } from "./dom.js";
import { PARTS, part } from "./row-dom.js";

/** @typedef {import("./types.js").ModelJson} ModelJson */
/** @typedef {import("./row-dom.js").Row} Row */

/**
 * The Edit form: filled from the model when it opens, then never written again, so what the
 * user types, the caret and the focus survive every update.
 * Save is disabled while Pieces OS is unreachable, and aria-disabled while the row is busy (a
 * save on its way): a focused Save keeps the focus, so it can go to the row's main button when
 * the form closes, never to <body>.
 * @param {Row} row @param {ModelJson} m @param {boolean} open @param {string} name
 * @param {boolean} offline @param {boolean} busy
 */
export function patchEdit(row, m, open, name, offline, busy) {
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
    if (save.disabled !== offline) save.disabled = offline;
    setAttr(save, "aria-disabled", busy ? "true" : null);
    if (!open) row.edit = null; // the next Edit starts from the model as it is then
  }
}

/** @param {Row} row @param {ModelJson} m @param {boolean} open @param {string} name */
export function patchDetails(row, m, open, name) {
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
