// @ts-check
/**
 * What a row's modules share: the Row record, its parts' order, and the writes that touch the
 * DOM only when a value differs from what this row last wrote there (`memo`), so an unchanged
 * row costs no DOM reads at all.
 */
import { el } from "./dom.js";

/** @typedef {import("./types.js").ModelJson} ModelJson */

/**
 * @typedef {{
 *   el: HTMLElement, id: string, sig: string, model: ModelJson | null,
 *   memo: Record<string, unknown>,
 *   name: HTMLElement, badges: HTMLElement,
 *   meta: HTMLElement, hint: HTMLElement, actions: HTMLElement,
 *   more: HTMLButtonElement, menu: HTMLElement,
 *   buttons: Map<string, HTMLButtonElement>, status: HTMLElement,
 *   progress: HTMLElement | null, alert: HTMLElement | null, confirm: HTMLElement | null,
 *   edit: HTMLFormElement | null, details: HTMLElement | null,
 * }} Row
 */

/** Document order of a row's parts; the optional ones are inserted in their place. */
export const PARTS = [
  "main",
  "actions",
  "progress",
  "status",
  "alert",
  "confirm",
  "edit",
  "details",
];

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag @param {string} className @param {string} partName
 */
export function part(tag, className, partName) {
  const node = el(tag, className);
  node.setAttribute("data-part", partName);
  return node;
}

/** @param {Row} row @param {string} key @param {unknown} value */
export function differs(row, key, value) {
  if (row.memo[key] === value) return false;
  row.memo[key] = value;
  return true;
}
/** @param {Row} row @param {string} key @param {Node} node @param {string} value */
export function text(row, key, node, value) {
  if (differs(row, key, value)) node.textContent = value;
}
/**
 * @param {Row} row @param {string} key @param {Element} node @param {string} name
 * @param {string | null} value null removes the attribute
 */
export function attr(row, key, node, name, value) {
  if (!differs(row, key, value)) return;
  if (value == null) node.removeAttribute(name);
  else node.setAttribute(name, value);
}
/** @param {Row} row @param {string} key @param {HTMLElement} node @param {boolean} hidden */
export function hidden(row, key, node, hidden) {
  if (differs(row, key, hidden)) node.hidden = hidden;
}
/** @param {Row} row @param {string} key @param {HTMLButtonElement} node @param {boolean} off */
export function disabled(row, key, node, off) {
  if (differs(row, key, off)) node.disabled = off;
}
