// @ts-check
/**
 * pieces-widget front end: the model list (read-only for now).
 * Server strings are inserted with textContent only, never as HTML.
 */

/** @typedef {{ id: string, name?: string, cloud?: boolean, downloaded?: boolean, loaded?: boolean }} ModelJson */

/**
 * @param {ModelJson} model
 * @returns {HTMLElement}
 */
export function renderRow(model) {
  const row = document.createElement("div");
  row.className = "pw-row";
  row.dataset.modelId = model.id;
  const name = document.createElement("span");
  name.className = "pw-name";
  name.textContent = model.name || model.id;
  row.append(name);
  return row;
}

/** @param {{ model: any, el: HTMLElement }} ctx */
function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "pieces-widget";
  const list = document.createElement("div");
  list.className = "pw-list";
  root.append(list);
  el.append(root);
  const draw = () => {
    /** @type {ModelJson[]} */
    const models = model.get("models") || [];
    list.replaceChildren(...models.map(renderRow));
  };
  draw();
  model.on("change:models", draw);
  return () => {
    model.off("change:models", draw);
    root.remove();
  };
}

export default { render };
