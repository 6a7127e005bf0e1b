// @ts-check
/**
 * The header's part of a draw: each stale part (stale.js) calls its patch in header.js. An
 * answered Add (`added`) closes and clears the form when it worked, and names the new row.
 */
import {
  clearAddForm,
  patchAdd,
  patchBanner,
  patchControls,
  patchRuntime,
  patchSummary,
  runtimeBlock,
} from "./header.js";
import { summarize } from "./summary.js";

/** @typedef {import("./types.js").WidgetModel} WidgetModel */
/** @typedef {import("./types.js").ViewPrefs} ViewPrefs */
/** @typedef {import("./ui.js").Ui} Ui */
/** @typedef {ReturnType<typeof import("./header.js").createHeader>} Header */

/**
 * @param {Header} header @param {Set<string>} stale the stale parts
 * @param {{ model: WidgetModel, root: HTMLElement, ui: Ui, view: ViewPrefs,
 *   offline: boolean, kernelGone: boolean }} now
 * @returns {string} the runtime block rows show ("" when the runtime is there)
 */
export function drawHeader(header, stale, { model, root, ui, view, offline, kernelGone }) {
  if (stale.has("banner")) {
    patchBanner(header, model.get("connection") ?? {}, kernelGone);
    root.classList.toggle("pw-unreachable", offline);
  }
  if (stale.has("summary"))
    patchSummary(
      header,
      summarize(
        model.get("models") ?? [],
        model.get("_resources") ?? null,
        model.get("downloads") ?? {},
      ),
      offline,
    );
  const runtime = model.get("runtime") ?? { state: "none" };
  if (stale.has("runtime")) patchRuntime(header, runtime, offline);
  if (stale.has("controls")) patchControls(header, view);
  if (stale.has("added") && ui.addPending) {
    const add = model.get("_add");
    if (add && !add.busy) {
      ui.addPending = false;
      if (!add.error) {
        clearAddForm(header);
        ui.addOpen = false;
        ui.added = add.added ?? "";
      }
    }
  }
  if (stale.has("add"))
    patchAdd(
      header,
      Boolean(model.get("_capabilities")?.sources),
      ui.addOpen,
      model.get("_add") ?? { busy: false, error: "" },
      offline,
    );
  return runtimeBlock(runtime);
}
