// @ts-check
/**
 * One view of the widget, wired from its parts: the view's own state (ui.js), the commands its
 * clicks send (commands.js, through events.js's one delegated listener), and a draw per
 * animation frame that redoes only what the changed traits make stale (stale.js): the header
 * parts, and the rows whose signature changed (signature.js; a progress tick patches the rows of
 * the running downloads, nothing else). Rows keep their places while the user works (order.js),
 * are placed in sections and chunks (list.js), and the focus never falls to <body> (focus.js).
 */
import { catalogOf, orderRows } from "./catalog.js";
import { createCommands } from "./commands.js";
import { el } from "./dom.js";
import { listen } from "./events.js";
import { createFocus } from "./focus.js";
import { createFrames } from "./frames.js";
import { createHeader } from "./header.js";
import { drawHeader } from "./header-draw.js";
import { createFooter, createPlacer } from "./list.js";
import { createMenus } from "./menu.js";
import { createHold } from "./order.js";
import { createPending } from "./pending.js";
import { createDiffs, patchRows, settle } from "./rows-draw.js";
import { staleParts } from "./stale.js";
import { createTransient, NOTICE_MS } from "./transient.js";
import { createUi } from "./ui.js";
// The traits a view draws from (wire.SYNCED_TRAITS; `error` is for code only).
import { TRAITS } from "./wire.gen.js";

/** @typedef {import("./types.js").WidgetModel} WidgetModel */
/** @typedef {import("./types.js").ModelJson} ModelJson */
/** @typedef {import("./types.js").Download} Download */
/** @typedef {import("./types.js").ViewPrefs} ViewPrefs */
/** @typedef {import("./row-dom.js").Row} Row */

/** Timings, in one place; tests shorten them. */
export const timing = {
  /** The least time between two draws caused by progress ticks alone (ms). */
  progressMs: 200,
  /** A command not answered after this long says the kernel is busy (ms; pending.js). */
  noticeMs: 1500,
  /** How long a handled command waits for its answer before the row shows the traits (ms). */
  graceMs: 1500,
  /** The end of a command's pending state on hosts that never report it handled (ms). */
  maxMs: 60_000,
};
/** @type {ViewPrefs} */
const DEFAULT_PREFS = { sort: "name", group: false };

/**
 * @param {WidgetModel} model @param {HTMLElement} host
 * @returns {() => void} cleanup
 */
export function createView(model, host) {
  const root = el("div", "pieces-widget");
  const header = createHeader();
  const list = el("div", "pw-list");
  const footer = createFooter();
  root.append(header.el, list, ...footer.els);

  const ui = createUi();
  /** @type {Map<string, Row>} */
  const rows = new Map();
  /** @type {string[]} */
  let visible = [];
  const diffs = createDiffs();
  let lastOffline = false;
  let lastRuntime = "";

  function prefs() {
    return /** @type {ViewPrefs} */ ({ ...DEFAULT_PREFS, ...(model.get("_view") ?? {}) });
  }
  /** The kernel behind this view restarted (or went away): nothing it shows is live any more. */
  let kernelGone = false;
  /** Pieces OS cannot be reached, or the kernel that talks to it is gone: rows wait, disabled. */
  function offline() {
    const state = model.get("connection")?.state;
    return kernelGone || state === "unreachable" || state === "error";
  }
  const frames = createFrames(draw, timing);
  const touchRow = (/** @type {string} */ id) => frames.row(id);
  /** Row commands sent and not answered yet. */
  const pending = createPending(model, timing, touchRow);
  const transient = createTransient(ui, touchRow);
  const hold = createHold(
    list,
    () => pending.ids().length > 0 || diffs.active() !== "",
    () => frames.order(),
  );
  const place = createPlacer(list, (id) => /** @type {Row} */ (rows.get(id)).el);
  const focus = createFocus({
    root,
    rows,
    ui,
    visible: () => visible,
    filter: header.filter,
    addToggle: header.addToggle,
    flashMs: NOTICE_MS,
  });

  function draw() {
    const before = focus.before();
    drawNow();
    focus.after(before);
  }

  function drawNow() {
    const changes = frames.take();
    const stale = staleParts(changes.traits);
    const ids = changes.rows;
    let reorder = changes.order || stale.has("order");

    /** @type {ModelJson[]} */
    const models = model.get("models") ?? [];
    /** @type {Record<string, Download>} */
    const downloads = model.get("downloads") ?? {};
    /** @type {Record<string, string>} */
    const busy = model.get("_busy") ?? {};
    /** @type {Record<string, string>} */
    const rowErrors = model.get("_row_errors") ?? {};
    const resources = model.get("_resources") ?? null;
    const view = prefs();
    const isOffline = offline();
    let everyRow = stale.has("rows") || isOffline !== lastOffline;
    lastOffline = isOffline;

    const shown = { model, root, ui, view, offline: isOffline, kernelGone };
    const noRuntime = drawHeader(header, stale, shown);
    if (stale.has("runtime")) {
      if (noRuntime !== lastRuntime) everyRow = true;
      lastRuntime = noRuntime;
    }
    const now = { downloads, busy, rowErrors };
    if (diffs.note(stale, now, ids) && view.sort === "state") reorder = true;
    if (stale.has("downloads")) transient.follow(downloads);
    const catalog = catalogOf(models);
    /** The row inputs of one id, from this draw's traits and the view's own state. @param {string} id */
    const inputsOf = (id) => ({
      pending: pending.get(id),
      download: downloads[id],
      busy: busy[id],
      rowError: rowErrors[id],
      offline: isOffline,
      stopped: kernelGone,
      resources,
      finishing: ui.finishing.has(id),
      confirm: ui.confirm.get(id) ?? null,
      editing: ui.editing.has(id),
      details: ui.details.has(id),
      lastAction: ui.lastAction.get(id),
      notice: ui.notice.get(id),
      runtime: noRuntime,
    });
    const upkeep = { ui, rows, pending, transient, catalog, now, gone: stale.has("gone") };
    settle({ ...upkeep, inputsOf }, ids);
    /** @type {import("./catalog.js").Section[] | null} */
    let order = null;
    if (hold.due()) reorder = true;
    if (reorder) {
      const active = new Set(diffs.active() ? diffs.active().split("\n") : []);
      const sorted = orderRows(catalog, {
        query: ui.query,
        showCloud: ui.showCloud,
        localOnly: ui.localOnly,
        prefs: view,
        active,
      }).sections;
      order = hold.arrange(sorted, changes.asked);
      visible = order.flatMap((s) => s.ids);
      everyRow = true; // rows coming into view may be stale
    }

    patchRows(rows, catalog, everyRow ? visible : ids, inputsOf);
    if (order) place(order);
    footer.held(hold.stale());
    if (reorder) footer.counts(visible.length, catalog.entries.length, ui);
  }

  // before the click listener: choosing an item closes its menu first, the focus back on More
  const menus = createMenus(root);
  const unlisten = listen(
    root,
    createCommands({
      model,
      ui,
      pending,
      header,
      offline,
      prefs,
      touchRow,
      touchOrder: () => frames.userOrder(),
      touchAdd: () => frames.trait("add"),
    }),
  );

  /** @type {[string, () => void][]} */
  const handlers = TRAITS.map((name) => [`change:${name}`, () => frames.trait(name)]);
  // A "saving" that comes and goes between two frames still counts as seen.
  handlers.push([
    "change:_busy",
    () => {
      const busy = model.get("_busy") ?? {};
      for (const [id, save] of ui.saving) if (busy[id] === "saving") save.sawBusy = true;
    },
  ]);
  // ipywidgets hosts (JupyterLab, Notebook 7, VS Code) turn a model's comm dead when its kernel
  // restarts ("comm_live_update"; it is live from the start, so any update says it went): the
  // view then says so, greys its rows and stops its clocks, since no trait will change again.
  handlers.push([
    "comm_live_update",
    () => {
      if (kernelGone) return;
      kernelGone = true;
      pending.clear();
      transient.stopBars();
      frames.trait("*");
    },
  ]);
  for (const [event, handler] of handlers) model.on(event, handler);

  host.append(root);
  draw();

  return () => {
    for (const [event, handler] of handlers) model.off(event, handler);
    hold.dispose();
    menus.dispose();
    unlisten();
    frames.stop();
    pending.clear();
    transient.clear();
    root.remove();
  };
}
