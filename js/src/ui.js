// @ts-check
/**
 * A view's own state, the part no trait holds: open panels, confirmations, pending saves,
 * finished bars, short notices, the filter, and where the focus goes after the next draw.
 * Shared by the command handlers (commands.js), the focus (focus.js), the timed words and bars
 * (transient.js) and the draw (view.js).
 */

/** @typedef {import("./confirm.js").ConfirmKind} ConfirmKind */
/** @typedef {import("./saves.js").PendingSave} PendingSave */

export function createUi() {
  return {
    query: "",
    showCloud: true,
    localOnly: false,
    addOpen: false,
    addPending: false,
    /** @type {Set<string>} */ editing: new Set(),
    /** @type {Set<string>} */ details: new Set(),
    /** @type {Map<string, ConfirmKind>} */ confirm: new Map(),
    /** submitted Edit forms that stay open until the save is answered @type {Map<string, PendingSave>} */
    saving: new Map(),
    /** @type {Map<string, string>} */ lastAction: new Map(),
    /** finished downloads whose full bar this view still shows @type {Map<string, ReturnType<typeof setTimeout>>} */
    finishing: new Map(),
    /** the download status this view last drew, per id @type {Map<string, string>} */
    seen: new Map(),
    /** a short-lived word in a row's status ("Saved") @type {Map<string, string>} */
    notice: new Map(),
    /** what takes the focus after the next draw @type {{ id: string, part: "confirm" | "edit" | "details" } | null} */
    focus: null,
    /** the model the Add form just added: shown, highlighted and focused after the next draw */
    added: "",
  };
}

/** @typedef {ReturnType<typeof createUi>} Ui */
