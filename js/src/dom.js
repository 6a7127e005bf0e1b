// @ts-check
/** Small DOM helpers: create, write only what changed, and reorder with the fewest moves. */

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag @param {string} [className] @param {string} [text]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

/**
 * A button for the delegated click listener: `data-action` says what it does.
 * @param {string} action @param {string} text @param {string} ariaLabel
 */
export function actionButton(action, text, ariaLabel) {
  if (!buttonTemplate) {
    buttonTemplate = el("button", "pw-button");
    buttonTemplate.type = "button";
  }
  const b = /** @type {HTMLButtonElement} */ (buttonTemplate.cloneNode(false));
  b.textContent = text;
  b.setAttribute("data-action", action);
  b.setAttribute("aria-label", ariaLabel);
  return b;
}
/** @type {HTMLButtonElement | null} */
let buttonTemplate = null;

/** When each button last changed what it does (performance.now()). @type {WeakMap<Element, number>} */
const changedAt = new WeakMap();

/** Note that `button` now does something else: a key press meant for the old action is ignored. */
export function markChanged(/** @type {Element} */ button) {
  changedAt.set(button, performance.now());
}

/** Milliseconds since `button` last changed its action (Infinity when it never did). */
export function sinceChanged(/** @type {Element} */ button) {
  const at = changedAt.get(button);
  return at === undefined ? Number.POSITIVE_INFINITY : performance.now() - at;
}

/** @param {Node} node @param {string} text */
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

/** @param {Element} node @param {string} name @param {string | null} value null removes it */
export function setAttr(node, name, value) {
  if (value == null) {
    if (node.hasAttribute(name)) node.removeAttribute(name);
  } else if (node.getAttribute(name) !== value) node.setAttribute(name, value);
}

/** @param {HTMLElement} node @param {boolean} hidden */
export function setHidden(node, hidden) {
  if (node.hidden !== hidden) node.hidden = hidden;
}

/**
 * Indices (into `seq`) of one longest increasing subsequence, O(n log n).
 * @param {number[]} seq
 */
function longestIncreasing(seq) {
  /** @type {number[]} */
  const tails = []; // tails[k]: index in seq of the smallest tail of a run of length k+1
  const prev = new Array(seq.length).fill(-1);
  for (let i = 0; i < seq.length; i += 1) {
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (seq[tails[mid]] < seq[i]) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) prev[i] = tails[lo - 1];
    tails[lo] = i;
  }
  const keep = new Set();
  for (let i = tails.length ? tails[tails.length - 1] : -1; i >= 0; i = prev[i]) keep.add(seq[i]);
  return keep;
}

/**
 * Move `node` before `next` in `parent`. Chromium's moveBefore keeps focus, hover and a held
 * mouse button on a node that moves; insertBefore drops them (and is the fallback).
 * @param {Element} parent @param {Element} node @param {Element | null} next
 */
function move(parent, node, next) {
  const moveBefore = /** @type {any} */ (parent).moveBefore;
  if (typeof moveBefore === "function" && node.isConnected && parent.isConnected) {
    try {
      moveBefore.call(parent, node, next);
      return;
    } catch {
      // not movable atomically (another document or shadow root): insert instead
    }
  }
  parent.insertBefore(node, next);
}

/**
 * Make `parent`'s children `desired`, in order, moving as few nodes as possible (those off the
 * longest run already in order), so a node that stays keeps its focus and a held mouse button.
 * With `prune` false, children not in `desired` stay for now: a caller moving nodes between
 * several parents prunes after all the moves, so no node leaves the document on its way.
 * @param {Element} parent @param {Element[]} desired @param {boolean} [prune]
 */
export function syncChildren(parent, desired, prune = true) {
  const current = parent.children;
  if (current.length === desired.length && desired.every((n, i) => current[i] === n)) return;
  if (current.length === 0 && !desired.some((n) => n.isConnected)) {
    parent.append(...desired); // a first render: one insertion
    return;
  }
  const position = new Map(desired.map((n, i) => [n, i]));
  const inOrder = [...current].map((n) => position.get(n)).filter((i) => i !== undefined);
  const stay = longestIncreasing(/** @type {number[]} */ (inOrder));
  /** @type {Element | null} */
  let next = null;
  for (let i = desired.length - 1; i >= 0; i -= 1) {
    const node = desired[i];
    if (!stay.has(i)) move(parent, node, next);
    next = node;
  }
  if (prune) for (const child of [...current]) if (!position.has(child)) child.remove();
}

/**
 * Put an optional part of a container in its place among its siblings (parts carry
 * `data-part`; `order` lists the part names in document order), or take it out.
 * @param {HTMLElement} parent @param {HTMLElement} node @param {boolean} present
 * @param {readonly string[]} order
 */
export function placePart(parent, node, present, order) {
  if (!present) {
    if (node.parentNode === parent) node.remove();
    return;
  }
  if (node.parentNode === parent) return;
  const rank = order.indexOf(node.getAttribute("data-part") ?? "");
  const after = [...parent.children].find(
    (c) => order.indexOf(c.getAttribute("data-part") ?? "") > rank,
  );
  parent.insertBefore(node, after ?? null);
}
