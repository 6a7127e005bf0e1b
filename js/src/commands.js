// @ts-check
/**
 * What a view sends to Python, and what its clicks, submits and controls change in the view's
 * own state. Row commands go through pending.js (the row shows them on their way); the
 * confirmation asks first where one is due. The guards on presses (a button that changed under
 * the mouse or a fresh key press, a multi-click, aria-disabled) are in events.js, before these
 * handlers run.
 */
import { catalogOf } from "./catalog.js";
import { needsConfirm } from "./confirm.js";
import { addFormValues } from "./header.js";
import { answerKey, sendCommand } from "./pending.js";

/** @typedef {import("./types.js").WidgetModel} WidgetModel */
/** @typedef {import("./types.js").ViewPrefs} ViewPrefs */
/** @typedef {import("./ui.js").Ui} Ui */
/** @typedef {import("./events.js").Handlers} Handlers */
/** @typedef {ReturnType<typeof import("./pending.js").createPending>} Pending */
/** @typedef {ReturnType<typeof import("./header.js").createHeader>} Header */

/** Row actions that go to Python as commands (after a confirmation where one is due). */
export const ROW_COMMANDS = new Set([
  "download",
  "cancel",
  "load",
  "unload",
  "delete",
  "remove",
  "discard",
]);
/** Row actions sent as another command: a partial is discarded by deleting the model's files. */
export const COMMAND_OF = /** @type {Record<string, string>} */ ({ discard: "delete" });
/** Header actions that are plain commands. */
const HEADER_COMMANDS = new Set(["refresh", "unload_all", "install_runtime"]);

/**
 * @typedef {{
 *   model: WidgetModel, ui: Ui, pending: Pending, header: Header,
 *   offline: () => boolean, prefs: () => ViewPrefs,
 *   touchRow: (id: string) => void, touchOrder: () => void, touchAdd: () => void,
 * }} CommandDeps
 */

/** @param {CommandDeps} deps @returns {Handlers} */
export function createCommands({
  model,
  ui,
  pending,
  header,
  offline,
  prefs,
  touchRow,
  touchOrder,
  touchAdd,
}) {
  /** @param {Record<string, unknown>} msg */
  const send = (msg) => sendCommand(model, msg);

  /** @param {string} id @param {string} action @param {boolean} confirmed */
  function row(id, action, confirmed) {
    const entry = catalogOf(model.get("models") ?? []).byId.get(id);
    if (!entry) return;
    if (action === "details") {
      if (ui.details.delete(id)) {
        // closed
      } else {
        ui.details.add(id);
        ui.focus = { id, part: "details" };
        if (!offline()) send({ action: "snapshot", id });
      }
    } else if (action === "edit") {
      if (ui.editing.delete(id)) ui.saving.delete(id);
      else {
        ui.editing.add(id);
        ui.focus = { id, part: "edit" };
      }
    } else if (action === "close-edit") {
      ui.editing.delete(id);
      ui.saving.delete(id);
    } else if (action === "keep") {
      ui.confirm.delete(id);
    } else if (ROW_COMMANDS.has(action)) {
      if (!confirmed && needsConfirm(action, entry.model, model.get("_resources"))) {
        ui.confirm.set(id, action);
        ui.focus = { id, part: "confirm" };
      } else {
        ui.confirm.delete(id);
        ui.lastAction.set(id, action);
        const key = answerKey(
          entry.model,
          model.get("downloads")?.[id],
          model.get("_busy")?.[id],
          model.get("_row_errors")?.[id],
        );
        pending.send(id, action, key, { action: COMMAND_OF[action] ?? action, id });
      }
    }
    touchRow(id);
  }

  return {
    row,
    /** @param {string} action */
    header(action) {
      if (HEADER_COMMANDS.has(action)) send({ action });
      else if (action === "resort") touchOrder();
      else if (action === "clear-filter") {
        header.filter.value = "";
        ui.query = "";
        touchOrder();
      } else if (action === "toggle-add" || action === "close-add") {
        ui.addOpen = action === "toggle-add" ? !ui.addOpen : false;
        touchAdd();
      }
    },
    submit(form, id) {
      if (offline()) return;
      const kind = form.getAttribute("data-form");
      if (kind === "edit" && id !== null) {
        const field = (/** @type {string} */ name) =>
          /** @type {HTMLInputElement} */ (form.elements.namedItem(name)).value;
        const fields = { name: field("name"), description: field("description") };
        send({ action: "update", id, fields });
        // The form stays open (and keeps its text) until the save is answered: see saves.js.
        const errorBefore = model.get("_row_errors")?.[id] ?? "";
        ui.saving.set(id, { ...fields, sawBusy: false, errorBefore });
        ui.lastAction.set(id, "update");
        touchRow(id);
      } else if (kind === "add") {
        const { name, url, sha256 } = addFormValues(header);
        if (!name || !url) return;
        send({ action: "add", fields: sha256 ? { name, url, sha256 } : { name, url } });
        ui.addPending = true;
      }
    },
    control(name) {
      if (name === "filter") ui.query = header.filter.value;
      else if (name === "cloud") ui.showCloud = header.cloud.checked;
      else if (name === "local") ui.localOnly = header.local.checked;
      else if (name === "sort" || name === "group") {
        const next = { ...prefs(), sort: header.sort.value, group: header.group.checked };
        model.set("_view", /** @type {ViewPrefs} */ (next));
        model.save_changes();
      }
      touchOrder();
    },
  };
}
