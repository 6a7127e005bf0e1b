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
import { actionButton, el, setHidden, setText } from "./dom.js";
import { listen } from "./events.js";
import { createFocus } from "./focus.js";
import {
  clearAddForm,
  createHeader,
  patchAdd,
  patchBanner,
  patchControls,
  patchRuntime,
  patchSummary,
  runtimeBlock,
} from "./header.js";
import { createPlacer } from "./list.js";
import { createHold } from "./order.js";
import { answerKey, createPending } from "./pending.js";
import { createRow, patchRow } from "./row.js";
import { saveOutcome } from "./saves.js";
import { changedKeys, keyOf, rowSig, sameModel } from "./signature.js";
import { staleParts } from "./stale.js";
import { ACTIVE, confirmStands, summarize } from "./state.js";
import { createTransient, NOTICE_MS } from "./transient.js";
import { createUi } from "./ui.js";
// The traits a view draws from (wire.SYNCED_TRAITS; `error` is for code only).
import { TRAITS } from "./wire.gen.js";

export { keepPlaces } from "./order.js";

/** @typedef {import("./types.js").WidgetModel} WidgetModel */
/** @typedef {import("./types.js").ModelJson} ModelJson */
/** @typedef {import("./types.js").Download} Download */
/** @typedef {import("./types.js").ViewPrefs} ViewPrefs */
/** @typedef {import("./row.js").Row} Row */

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
  root.append(header.el, list, empty, count);

  const ui = createUi();
  /** @type {Map<string, Row>} */
  const rows = new Map();
  /** @type {string[]} */
  let visible = [];

  // What changed since the last draw.
  /** @type {Set<string>} */
  let dirtyTraits = new Set(["*"]);
  /** @type {Set<string>} */
  let dirtyRows = new Set();
  let dirtyOrder = true;
  /** A re-sort the user asked for (sort, group, filter, Sort now): never held. */
  let userOrder = true;
  let frame = 0;
  /** @type {Record<string, Download>} */
  let lastDownloads = {};
  /** @type {Record<string, string>} */
  let lastBusy = {};
  /** @type {Record<string, string>} */
  let lastErrors = {};
  let lastActive = "";
  let lastOffline = false;
  let lastRuntime = "";

  function schedule() {
    if (!frame) frame = requestAnimationFrame(draw);
  }
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let progressTimer;
  let lastDraw = Number.NEGATIVE_INFINITY;
  /**
   * A progress tick draws at most every `timing.progressMs`: 10 downloads at 10 Hz then cost
   * half the frames, and anything else (a click, a state change) still draws on the next frame.
   */
  function scheduleProgress() {
    if (frame || progressTimer !== undefined) return;
    const wait = lastDraw + timing.progressMs - performance.now();
    if (wait <= 0) schedule();
    else
      progressTimer = setTimeout(() => {
        progressTimer = undefined;
        schedule();
      }, wait);
  }
  /** @param {string} id */
  function touchRow(id) {
    dirtyRows.add(id);
    schedule();
  }
  /** A re-sort the user asked for (a control, Clear filter, Sort now). */
  function touchOrder() {
    dirtyOrder = true;
    userOrder = true;
    schedule();
  }
  /** @param {string} name a trait, or the view's own `add` (see stale.js) */
  function touchTrait(name) {
    dirtyTraits.add(name);
    schedule();
  }

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
  /** Row commands sent and not answered yet. */
  const pending = createPending(model, timing, touchRow);
  const transient = createTransient(ui, touchRow);
  const hold = createHold(
    list,
    () => pending.ids().length > 0 || lastActive !== "",
    () => {
      dirtyOrder = true;
      schedule();
    },
  );
  const place = createPlacer(list, (id) => /** @type {Row} */ (rows.get(id)).el);
  const focus = createFocus({
    root,
    rows,
    ui,
    visible: () => visible,
    filter: header.filter,
    addHidden: () => Boolean(header.add.hidden),
    flashMs: NOTICE_MS,
  });

  function draw() {
    frame = 0;
    const before = focus.before();
    drawNow();
    focus.after(before);
  }

  function drawNow() {
    lastDraw = performance.now();
    clearTimeout(progressTimer);
    progressTimer = undefined;
    const stale = staleParts(dirtyTraits);
    const ids = dirtyRows;
    let reorder = dirtyOrder || stale.has("order");
    const asked = userOrder;
    dirtyTraits = new Set();
    dirtyRows = new Set();
    dirtyOrder = false;
    userOrder = false;

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

    if (stale.has("banner")) {
      patchBanner(header, model.get("connection") ?? {}, kernelGone);
      root.classList.toggle("pw-unreachable", isOffline);
    }
    if (stale.has("summary"))
      patchSummary(header, summarize(models, resources, downloads), isOffline);
    const runtime = model.get("runtime") ?? { state: "none" };
    const noRuntime = runtimeBlock(runtime);
    if (stale.has("runtime")) {
      patchRuntime(header, runtime, isOffline);
      if (noRuntime !== lastRuntime) everyRow = true;
      lastRuntime = noRuntime;
    }
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
        isOffline,
      );

    if (stale.has("downloads")) {
      changedKeys(lastDownloads, downloads, ids, keyOf);
      transient.follow(downloads);
      lastDownloads = downloads;
      const active = Object.keys(downloads)
        .filter((id) => ACTIVE.has(downloads[id].status))
        .sort()
        .join("\n");
      if (active !== lastActive && view.sort === "state") reorder = true;
      lastActive = active;
    }
    if (stale.has("busy")) changedKeys(lastBusy, busy, ids);
    if (stale.has("rowErrors")) changedKeys(lastErrors, rowErrors, ids);
    lastBusy = busy;
    lastErrors = rowErrors;

    const catalog = catalogOf(models);
    for (const id of pending.ids()) {
      const key = answerKey(catalog.byId.get(id)?.model, downloads[id], busy[id], rowErrors[id]);
      if (pending.settle(id, key)) ids.add(id);
    }
    if (stale.has("gone")) {
      for (const id of [...rows.keys()]) {
        if (!catalog.byId.has(id)) {
          rows.delete(id);
          for (const set of [ui.editing, ui.details]) set.delete(id);
        }
      }
    }
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
    // A confirmation whose action is gone is dropped, not hidden: it must not come back by
    // itself when the action is offered again.
    for (const [id, kind] of ui.confirm) {
      const entry = catalog.byId.get(id);
      if (entry && confirmStands(kind, entry.model, inputsOf(id))) continue;
      ui.confirm.delete(id);
      ids.add(id);
    }
    for (const [id, save] of ui.saving) {
      const entry = catalog.byId.get(id);
      const outcome = entry ? saveOutcome(save, entry.model, busy[id], rowErrors[id]) : "refused";
      if (outcome === "wait") continue;
      ui.saving.delete(id);
      if (outcome === "saved" && ui.editing.delete(id)) {
        ids.add(id);
        transient.notice(id, "Saved");
      }
    }
    /** @type {import("./catalog.js").Section[] | null} */
    let order = null;
    if (hold.due()) reorder = true;
    if (reorder) {
      const active = new Set(lastActive ? lastActive.split("\n") : []);
      const sorted = orderRows(catalog, {
        query: ui.query,
        showCloud: ui.showCloud,
        localOnly: ui.localOnly,
        prefs: view,
        active,
      }).sections;
      order = hold.arrange(sorted, asked);
      visible = order.flatMap((s) => s.ids);
      everyRow = true; // rows coming into view may be stale
    }

    for (const id of everyRow ? visible : ids) {
      const entry = catalog.byId.get(id);
      if (!entry) continue;
      let row = rows.get(id);
      if (!row) {
        row = createRow(id);
        rows.set(id, row);
      }
      const m = entry.model;
      const inputs = inputsOf(id);
      const sig = rowSig(m, inputs);
      if (row.sig !== sig || !sameModel(row.model, m)) {
        patchRow(row, m, inputs);
        row.sig = sig;
        row.model = m;
      }
    }
    if (order) place(order);
    setHidden(resort, !hold.stale());

    if (reorder) {
      setText(countText, `${visible.length} of ${catalog.entries.length} models`);
      const q = ui.query.trim();
      setHidden(empty, visible.length > 0 || catalog.entries.length === 0);
      setText(
        emptyText,
        q
          ? `No model matches '${q}'`
          : ui.localOnly
            ? "No model on this device yet"
            : "No model to show (cloud models are hidden)",
      );
      setHidden(clearFilter, !q);
    }
  }

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
      touchOrder,
      touchAdd: () => touchTrait("add"),
    }),
  );

  /** @type {[string, () => void][]} */
  const handlers = TRAITS.map((name) => {
    const handler = () => {
      dirtyTraits.add(name);
      if (name === "downloads") scheduleProgress();
      else schedule();
    };
    model.on(`change:${name}`, handler);
    return [`change:${name}`, handler];
  });

  // A "saving" that comes and goes between two frames still counts as seen.
  const noteSaving = () => {
    const busy = model.get("_busy") ?? {};
    for (const [id, save] of ui.saving) if (busy[id] === "saving") save.sawBusy = true;
  };
  model.on("change:_busy", noteSaving);
  handlers.push(["change:_busy", noteSaving]);

  // ipywidgets hosts (JupyterLab, Notebook 7, VS Code) turn a model's comm dead when its kernel
  // restarts ("comm_live_update"; it is live from the start, so any update says it went): the
  // view then says so, greys its rows and stops its clocks, since no trait will change again.
  const kernelLost = () => {
    if (kernelGone) return;
    kernelGone = true;
    pending.clear();
    transient.stopBars();
    touchTrait("*");
  };
  model.on("comm_live_update", kernelLost);
  handlers.push(["comm_live_update", kernelLost]);

  host.append(root);
  draw();

  return () => {
    for (const [event, handler] of handlers) model.off(event, handler);
    hold.dispose();
    unlisten();
    if (frame) cancelAnimationFrame(frame);
    frame = 0;
    clearTimeout(progressTimer);
    pending.clear();
    transient.clear();
    root.remove();
  };
}
