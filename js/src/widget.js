// @ts-check
/**
 * pieces-widget front end (anywidget): `initialize` runs once per widget model, `render` once per
 * view and returns the view's cleanup. The view (view.js) draws once per animation frame and
 * patches rows in place; the pieces are format.js / labels.js (words and numbers for people),
 * state.js (what a row shows), catalog.js (index, filter, sort, group), row.js, header.js.
 */
import { catalogOf } from "./catalog.js";
import { sendCommand } from "./pending.js";
import { createView } from "./view.js";

/** @typedef {import("./types.js").Traits} Traits */

/**
 * Per-model work, shared by every view of the widget: index the model list once per value.
 * @type {import("@anywidget/types").Initialize<Traits>}
 */
function initialize({ model }) {
  const index = () => {
    catalogOf(model.get("models") ?? []);
  };
  model.on("change:models", index);
  index();
  return () => model.off("change:models", index);
}

/**
 * A fresh id per view. `crypto.randomUUID` exists only in secure contexts (https, localhost), and
 * Jupyter may be served over plain http from another host, so there is a fallback.
 */
export function newViewId() {
  const uuid = globalThis.crypto?.randomUUID?.();
  return uuid ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}

/**
 * Each view tells the kernel it opened and closed (`{action: "view", open, view}`), so the
 * background health watch runs only while the widget is on screen somewhere.
 * @type {import("@anywidget/types").Render<Traits>}
 */
function render({ model, el }) {
  const view = newViewId();
  const cleanup = createView(model, el);
  sendCommand(model, { action: "view", open: true, view }); // its receipt says the host reports
  return () => {
    cleanup();
    try {
      model.send({ action: "view", open: false, view });
    } catch {
      // the model is already closed (kernel gone or widget closed): nobody to tell
    }
  };
}

export default { initialize, render };
