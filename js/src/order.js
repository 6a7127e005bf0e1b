// @ts-check
/**
 * The row-order hold: while the user works on the list (the pointer or the focus is in it, a
 * command is on its way, a download runs) a change of state does not move rows; they keep their
 * places, new rows find theirs, and "Sort now" shows. The re-sort that waited is drawn once the
 * list is idle. A re-sort the user asked for (sort, group, filter, Sort now) is never held.
 */

/** @typedef {import("./catalog.js").Section} Section */

/** @param {Section[]} a @param {Section[]} b */
export function sameOrder(a, b) {
  return (
    a.length === b.length &&
    a.every((s, i) => s.title === b[i].title && s.ids.join("\n") === b[i].ids.join("\n"))
  );
}

/**
 * The rows of `next` in the places they have in `before`: rows that stay keep their sections
 * and order; rows new to the list go after the row they follow in `next`.
 * @param {Section[]} before @param {Section[]} next @returns {Section[]}
 */
export function keepPlaces(before, next) {
  const wanted = new Set(next.flatMap((s) => s.ids));
  const sections = before.map((s) => ({
    title: s.title,
    ids: s.ids.filter((id) => wanted.has(id)),
  }));
  const done = new Set(sections.flatMap((s) => s.ids));
  for (const s of next) {
    let target = sections.find((t) => t.title === s.title);
    if (!target) {
      target = { title: s.title, ids: [] };
      sections.push(target);
    }
    const into = target;
    s.ids.forEach((id, i) => {
      if (done.has(id)) return;
      into.ids.splice(i > 0 ? into.ids.indexOf(s.ids[i - 1]) + 1 : 0, 0, id);
      done.add(id);
    });
  }
  return sections.filter((s) => s.ids.length);
}

/**
 * @param {HTMLElement} list the rows' container, watched for the pointer and the focus
 * @param {() => boolean} busy a command is on its way or a download runs
 * @param {() => void} idle the list may have gone idle with a re-sort waiting: draw it
 */
export function createHold(list, busy, idle) {
  let pointerIn = false;
  /** The order the rows are placed in now. @type {Section[]} */
  let placed = [];
  /** The placed order differs from the sorted one. */
  let stale = false;
  const working = () => pointerIn || list.contains(document.activeElement) || busy();
  const maybeIdle = () => {
    if (stale) idle();
  };
  /** @type {[string, (event: Event) => void][]} */
  const watch = [
    [
      "pointerenter",
      () => {
        pointerIn = true;
      },
    ],
    [
      "pointerleave",
      () => {
        pointerIn = false;
        maybeIdle();
      },
    ],
    [
      "focusout",
      (event) => {
        const next = /** @type {FocusEvent} */ (event).relatedTarget;
        if (!(next instanceof Node && list.contains(next))) queueMicrotask(maybeIdle);
      },
    ],
  ];
  for (const [type, fn] of watch) list.addEventListener(type, fn);
  return {
    /** Whether a held re-sort is due now (the list went idle). */
    due() {
      return stale && !working();
    },
    /** Whether the placed order is held away from the sorted one ("Sort now" shows). */
    stale() {
      return stale;
    },
    /**
     * The order to place for `sorted`: itself, or, while the user works and did not ask for
     * it, the rows in their places.
     * @param {Section[]} sorted @param {boolean} asked @returns {Section[]}
     */
    arrange(sorted, asked) {
      const order = !asked && placed.length && working() ? keepPlaces(placed, sorted) : sorted;
      stale = order !== sorted && !sameOrder(order, sorted);
      placed = order;
      return order;
    },
    dispose() {
      for (const [type, fn] of watch) list.removeEventListener(type, fn);
    },
  };
}
