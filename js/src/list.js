// @ts-check
/**
 * The list's sections and chunks, and the line under it (createFooter). The visible rows go
 * in chunks of CHUNK rows (the browser skips the chunks out of view: content-visibility in
 * widget.css), moving as few nodes as possible: first every move (a row may go to another
 * section or chunk), then the pruning.
 */
import { actionButton, el, setHidden, setText, syncChildren } from "./dom.js";

/** @typedef {import("./catalog.js").Section} Section */

/** Rows per chunk: the unit the browser skips when out of view (1,000 rows: 20 chunks). */
export const CHUNK = 50;

/**
 * @param {HTMLElement} list @param {(id: string) => HTMLElement} rowEl a placed row's element
 * @returns {(order: Section[]) => void} places the rows in `order`
 */
export function createPlacer(list, rowEl) {
  /** @type {Map<string, { el: HTMLElement, rows: HTMLElement, chunks: HTMLElement[], count: HTMLElement | null }>} */
  const sections = new Map();
  /** @param {Section} s */
  const sectionOf = (s) => {
    const sectionEl = el("div", "pw-section");
    const rowsEl = el("div", "pw-rows");
    rowsEl.setAttribute("role", "list");
    rowsEl.setAttribute("aria-label", s.title ?? "Models");
    /** @type {HTMLElement | null} */
    let counted = null;
    if (s.title) {
      // the heading stays in sight while its group scrolls, with the group's count
      const h = el("h3", "pw-section-title");
      counted = el("span", "pw-section-count");
      h.append(el("span", "pw-section-name", s.title), " ", counted);
      sectionEl.append(h);
    }
    sectionEl.append(rowsEl);
    return {
      el: sectionEl,
      rows: rowsEl,
      chunks: /** @type {HTMLElement[]} */ ([]),
      count: counted,
    };
  };
  return (order) => {
    /** @type {[Element, Element[]][]} */
    const plan = [];
    /** @type {HTMLElement[]} */
    const wanted = [];
    for (const s of order) {
      const key = s.title ?? "";
      let section = sections.get(key);
      if (!section) {
        section = sectionOf(s);
        sections.set(key, section);
      }
      if (section.count) setText(section.count, `(${s.ids.length})`);
      wanted.push(section.el);
      const count = Math.ceil(s.ids.length / CHUNK);
      while (section.chunks.length < count) section.chunks.push(el("div", "pw-chunk"));
      plan.push([section.rows, section.chunks.slice(0, count)]);
      for (let k = 0; k < count; k += 1) {
        const ids = s.ids.slice(k * CHUNK, (k + 1) * CHUNK);
        plan.push([section.chunks[k], ids.map(rowEl)]);
      }
    }
    syncChildren(list, wanted, false);
    for (const [parent, children] of plan) syncChildren(parent, children, false);
    for (const [parent, children] of plan) syncChildren(parent, children);
    syncChildren(list, wanted);
  };
}

/**
 * The line under the list: "N of M models", "Sort now" while the order is held, and the note
 * when nothing matches, with Clear filter.
 */
export function createFooter() {
  const empty = el("div", "pw-empty");
  const emptyText = el("span");
  const clearFilter = actionButton("clear-filter", "Clear filter", "Clear the filter");
  empty.append(emptyText, clearFilter);
  empty.hidden = true;
  const count = el("div", "pw-count");
  const countText = el("span");
  // Shown while the order is held for the user (a state change would move rows): re-sort now.
  const resort = actionButton("resort", "Sort now", "Sort the list now");
  resort.hidden = true;
  count.append(countText, resort);
  return {
    els: [empty, count],
    /** @param {boolean} held the order is held ("Sort now" shows) */
    held(held) {
      setHidden(resort, !held);
    },
    /**
     * @param {number} shown @param {number} total
     * @param {{ query: string, localOnly: boolean }} filter
     */
    counts(shown, total, { query, localOnly }) {
      setText(countText, `${shown} of ${total} models`);
      const q = query.trim();
      setHidden(empty, shown > 0 || total === 0);
      setText(
        emptyText,
        q
          ? `No model matches '${q}'`
          : localOnly
            ? "No model on this device yet"
            : "No model to show (cloud models are hidden)",
      );
      setHidden(clearFilter, !q);
    },
  };
}
