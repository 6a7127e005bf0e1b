// @ts-check
/**
 * Where the focus goes after a draw: what the user asked to focus (an opened confirmation or
 * Edit form, an added row; an opened panel, Details too, is scrolled whole into the list's view); else, when the draw took away the focused element: from a row (Keep,
 * Delete, Save, Remove) to the row's main button, the next row's when the row is gone; from the
 * line under the list (Clear filter, Sort now) to the first row's main button; from the header
 * (a closed Add form) to the Add model button; never <body>.
 */

/** @typedef {import("./row-dom.js").Row} Row */
/** @typedef {import("./ui.js").Ui} Ui */
/**
 * @typedef {{ lostRow: string | null, lostIndex: number, hadFocus: boolean, inHeader: boolean }}
 *   Before
 */

/**
 * @param {{ root: HTMLElement, rows: Map<string, Row>, ui: Ui, visible: () => string[],
 *   filter: HTMLElement, addToggle: HTMLElement, flashMs: number }} view
 */
export function createFocus({ root, rows, ui, visible, filter, addToggle, flashMs }) {
  /** The row's main button (or its More button: a cloud model has no main action). @param {string} id */
  const mainButton = (id) => {
    const row = rows.get(id);
    if (!row?.el.isConnected) return null;
    return row.buttons.get("main") ?? (row.more.hidden ? null : row.more);
  };
  /** Whether the focus is on something of this widget that is still there to use. */
  const held = () => {
    const a = document.activeElement;
    return a instanceof HTMLElement && root.contains(a) && !a.closest("[hidden]");
  };
  /** @returns {boolean} the focus went where the user asked */
  const asked = () => {
    const want = ui.focus;
    ui.focus = null;
    if (want) {
      const row = rows.get(want.id);
      const panel = { confirm: row?.confirm, edit: row?.edit, details: row?.details }[want.part];
      // the list scrolls on its own: the opened panel is brought whole into its view
      panel?.scrollIntoView?.({ block: "nearest" }); // (jsdom has none)
      const target =
        want.part === "confirm"
          ? panel?.querySelector('button[data-action="keep"]')
          : want.part === "edit"
            ? panel?.querySelector("input, textarea")
            : null; // Details takes no focus
      if (target instanceof HTMLElement) {
        target.focus();
        return true;
      }
    }
    if (ui.added) {
      const id = ui.added;
      ui.added = "";
      const row = rows.get(id);
      if (row?.el.isConnected) {
        row.el.scrollIntoView?.({ block: "nearest" }); // (jsdom has none)
        row.el.classList.add("pw-flash");
        setTimeout(() => row.el.classList.remove("pw-flash"), flashMs);
        mainButton(id)?.focus();
        return true;
      }
    }
    return false;
  };
  return {
    /** Before a draw: the row that holds the focus, and its place in the list. @returns {Before} */
    before() {
      const focused = document.activeElement;
      const hadFocus = focused instanceof HTMLElement && root.contains(focused);
      const lostRow = hadFocus
        ? (focused.closest("[data-model-id]")?.getAttribute("data-model-id") ?? null)
        : null;
      const inHeader = hadFocus && focused.closest(".pw-header") !== null;
      const lostIndex = lostRow === null ? -1 : visible().indexOf(lostRow);
      return { lostRow, lostIndex, hadFocus, inHeader };
    },
    /** After a draw. @param {Before} was */
    after({ lostRow, lostIndex, hadFocus, inHeader }) {
      if (asked() || !hadFocus || held()) return;
      const ids = visible();
      /** @type {HTMLElement | null} */
      let target = null;
      if (lostRow !== null) {
        target = mainButton(lostRow);
        const next = ids[Math.min(lostIndex, ids.length - 1)];
        if (!target && next !== undefined) target = mainButton(next);
      } else if (inHeader) target = addToggle.hidden ? null : addToggle;
      else if (ids.length) target = mainButton(ids[0]);
      (target ?? filter).focus();
    },
  };
}
