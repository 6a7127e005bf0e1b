// @ts-check
/**
 * A row's buttons: its one primary action (the main button: Download, Resume, Cancel, Load,
 * Unload) beside a "More" menu button, and the secondary actions (Edit, Details, Delete, Discard
 * partial, Remove) as the items of that menu (menu.js opens it and moves through it). Each action
 * keeps its element in its slot, so Download -> Cancel -> Load is one element that keeps focus
 * and a held mouse button.
 */
import { actionButton, markChanged, syncChildren } from "./dom.js";
import { attr, differs, disabled, hidden, text } from "./row-dom.js";

/** @typedef {import("./row-dom.js").Row} Row */
/** @typedef {import("./state.js").RowView} RowView */
/** @typedef {import("./actions.js").RowAction} RowAction */

/** @param {RowAction} a @param {string} name */
function newButton(a, name) {
  const b = actionButton(a.action, a.label, `${a.label} ${name}`);
  if (a.slot === "main") b.classList.add("pw-primary");
  else {
    b.className = "pw-menuitem";
    b.setAttribute("role", "menuitem");
    b.tabIndex = -1; // the menu moves the focus with the arrow keys
  }
  return b;
}

/** @param {Row} row @param {RowView} v */
export function patchActions(row, v) {
  for (const a of v.actions) {
    let b = row.buttons.get(a.slot);
    if (!b) {
      b = newButton(a, v.name);
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
    // why it is disabled, else what it does (a menu item also shows it under its label)
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
  attr(row, "more.aria", row.more, "aria-label", `More actions for ${v.name}`);
  attr(row, "menu.aria", row.menu, "aria-label", `More actions for ${v.name}`);
  const slots = v.actions.map((a) => a.slot).join(" ");
  if (!differs(row, "slots", slots)) return;
  const wanted = v.actions.map((a) => a.slot);
  for (const slot of [...row.buttons.keys()]) if (!wanted.includes(slot)) row.buttons.delete(slot);
  const main = row.buttons.get("main");
  const items = wanted
    .filter((s) => s !== "main")
    .map((s) => /** @type {HTMLButtonElement} */ (row.buttons.get(s)));
  // the More button and its menu stay where they are (a moved popover would close)
  syncChildren(row.actions, main ? [main, row.more, row.menu] : [row.more, row.menu]);
  syncChildren(row.menu, items);
  hidden(row, "more.hidden", row.more, items.length === 0);
}
