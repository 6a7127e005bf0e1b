// @ts-check
/**
 * pieces-widget front end (anywidget): `initialize` runs once per widget model, `render` once per
 * view and returns the view's cleanup. The view (view.js) draws once per animation frame and
 * patches rows in place; the pieces are format.js / labels.js (words and numbers for people),
 * state.js (what a row shows), catalog.js (index, filter, sort, group), row.js, header.js.
 */
import { catalogOf } from "./catalog.js";
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

/** @type {import("@anywidget/types").Render<Traits>} */
function render({ model, el }) {
  return createView(model, el);
}

export default { initialize, render };
