// @ts-check
/**
 * One view of the widget: its own UI state (open panels, confirmations, finished bars, filter),
 * one delegated click and submit listener, and a draw per animation frame that touches only
 * what changed: the header parts whose traits changed, and the rows whose inputs' signature
 * changed (a progress tick patches the rows of the running downloads, nothing else).
 */
import { catalogOf, orderRows } from "./catalog.js";
import { actionButton, el, setHidden, setText, syncChildren } from "./dom.js";
import { listen } from "./events.js";
import {
  addFormValues,
  clearAddForm,
  createHeader,
  patchAdd,
  patchBanner,
  patchControls,
  patchRuntime,
  patchSummary,
  runtimeBlock,
} from "./header.js";
import { answerKey, createPending, sendCommand } from "./pending.js";
import { createRow, patchRow } from "./row.js";
import { saveOutcome } from "./saves.js";
import {
  ACTIVE,
  confirmStands,
  FINISHED_BAR_MS,
  fitCheck,
  needsConfirm,
  summarize,
} from "./state.js";
// The traits a view draws from (wire.SYNCED_TRAITS; `error` is for code only).
import { TRAITS } from "./wire.gen.js";

/** @typedef {import("./types.js").WidgetModel} WidgetModel */
/** @typedef {import("./types.js").ModelJson} ModelJson */
/** @typedef {import("./types.js").Download} Download */
/** @typedef {import("./types.js").ViewPrefs} ViewPrefs */
/** @typedef {import("./types.js").Traits} Traits */
/** @typedef {import("./state.js").ConfirmKind} ConfirmKind */
/** @typedef {import("./row.js").Row} Row */
/** @typedef {import("./saves.js").PendingSave} PendingSave */

/** Row actions that go to Python as commands (after a confirmation where one is due). */
const ROW_COMMANDS = new Set([
  "download",
  "cancel",
  "load",
  "unload",
  "delete",
  "remove",
  "discard",
]);
/** Row actions sent as another command: a partial is discarded by deleting the model's files. */
const COMMAND_OF = /** @type {Record<string, string>} */ ({ discard: "delete" });
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
/** Rows per chunk: the unit the browser skips when out of view (1,000 rows: 20 chunks). */
const CHUNK = 50;
/** How long a row says "Saved", and an added row stays highlighted (ms). */
const NOTICE_MS = 4000;
/** @type {ViewPrefs} */
const DEFAULT_PREFS = { sort: "name", group: false };

/**
 * Whether a row drawn from Model JSON `before` needs no patch for `after`: the same object, or
 * the same JSON (a re-sent list brings new objects; only the changed models are patched).
 * @param {ModelJson | null} before @param {ModelJson} after
 */
function sameModel(before, after) {
  return before === after || (before !== null && modelKey(before) === modelKey(after));
}

/** @type {WeakMap<object, string>} */
const modelKeys = new WeakMap();
/** A model's JSON as a string, once per object: rows compare it to know they changed. */
function modelKey(/** @type {ModelJson} */ m) {
  let key = modelKeys.get(m);
  if (key === undefined) {
    key = JSON.stringify(m);
    modelKeys.set(m, key);
  }
  return key;
}

/** @type {WeakMap<object, string>} */
const downloadKeys = new WeakMap();
/** A downloads entry as a string, once per object (each tick compares it twice). */
function downloadKey(/** @type {Download | undefined} */ d) {
  if (!d) return "";
  let key = downloadKeys.get(d);
  if (key === undefined) {
    key = JSON.stringify(d); // every field: a field added to wire.DownloadEntry redraws too
    downloadKeys.set(d, key);
  }
  return key;
}

/**
 * Ids whose entry differs between two `{id: value}` traits.
 * @param {Record<string, unknown>} before @param {Record<string, unknown>} after
 * @param {Set<string>} into @param {(v: any) => unknown} [key]
 */
function changedKeys(before, after, into, key = (v) => v) {
  for (const id in after) if (key(before[id]) !== key(after[id])) into.add(id);
  for (const id in before) if (!(id in after)) into.add(id);
}

/** @typedef {import("./catalog.js").Section} Section */

/** @param {Section[]} a @param {Section[]} b */
function sameOrder(a, b) {
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

  /** Per-view UI state. */
  const ui = {
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
    /** what takes the focus after the next draw @type {{ id: string, part: "confirm" | "edit" } | null} */
    focus: null,
    /** the model the Add form just added: shown, highlighted and focused after the next draw */
    added: "",
  };
  /** @type {Map<string, ReturnType<typeof setTimeout>>} */
  const noticeTimers = new Map();
  /** Say `text` in row `id`'s status for NOTICE_MS. @param {string} id @param {string} text */
  function notice(id, text) {
    clearTimeout(noticeTimers.get(id));
    ui.notice.set(id, text);
    noticeTimers.set(
      id,
      setTimeout(() => {
        ui.notice.delete(id);
        noticeTimers.delete(id);
        touchRow(id);
      }, NOTICE_MS),
    );
  }
  /** @type {Map<string, Row>} */
  const rows = new Map();
  /** @type {Map<string, { el: HTMLElement, rows: HTMLElement, chunks: HTMLElement[], count: HTMLElement | null }>} */
  const sections = new Map();
  /** @type {string[]} */
  let visible = [];
  /** The order the rows are placed in now. @type {import("./catalog.js").Section[]} */
  let placed = [];
  /** The placed order differs from the sorted one (held while the user works on the list). */
  let orderStale = false;
  /** A re-sort the user asked for (sort, group, filter, Sort now): never held. */
  let userOrder = true;
  let pointerInList = false;

  // What changed since the last draw.
  /** @type {Set<string>} */
  let dirtyTraits = new Set(["*"]);
  /** @type {Set<string>} */
  let dirtyRows = new Set();
  let dirtyOrder = true;
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
  /**
   * Whether the user is working on the list: the pointer or the focus is in it, a command is on
   * its way, or a download runs. Then rows keep their places; a re-sort waits for idle.
   */
  function working() {
    return (
      pointerInList ||
      list.contains(document.activeElement) ||
      pending.ids().length > 0 ||
      lastActive !== ""
    );
  }
  /** The list may have gone idle: draw the re-sort that waited, if any. */
  function maybeIdle() {
    if (!orderStale) return;
    dirtyOrder = true;
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
  /** @param {Record<string, unknown>} msg */
  function send(msg) {
    sendCommand(model, msg);
  }
  /** Row commands sent and not answered yet. */
  const pending = createPending(model, timing, touchRow);

  /** @param {string} id */
  function stopFinishing(id) {
    const timer = ui.finishing.get(id);
    if (timer !== undefined) {
      clearTimeout(timer);
      ui.finishing.delete(id);
    }
  }

  /**
   * Track each download's status as this view saw it: a run seen to finish keeps its full bar
   * FINISHED_BAR_MS, then collapses; an entry first seen already finished shows no bar.
   * @param {Record<string, Download>} downloads
   */
  function followDownloads(downloads) {
    for (const [id, d] of Object.entries(downloads)) {
      const before = ui.seen.get(id);
      if (d.status === "COMPLETED" && before && ACTIVE.has(before)) {
        stopFinishing(id);
        ui.finishing.set(
          id,
          setTimeout(() => {
            ui.finishing.delete(id);
            touchRow(id);
          }, FINISHED_BAR_MS),
        );
      } else if (d.status !== "COMPLETED") stopFinishing(id);
      ui.seen.set(id, d.status);
    }
    for (const id of [...ui.seen.keys()]) {
      if (!(id in downloads)) {
        ui.seen.delete(id);
        stopFinishing(id);
      }
    }
  }

  /**
   * Build the sections and put the visible rows in them, in chunks of CHUNK rows (the browser
   * skips the chunks out of view: content-visibility in widget.css), moving as few nodes as
   * possible: first every move (a row may go to another section or chunk), then the pruning.
   */
  function placeRows(/** @type {import("./catalog.js").Section[]} */ order) {
    /** @type {[Element, Element[]][]} */
    const plan = [];
    /** @type {HTMLElement[]} */
    const wanted = [];
    for (const s of order) {
      const key = s.title ?? "";
      let section = sections.get(key);
      if (!section) {
        const sectionEl = el("div", "pw-section");
        const rowsEl = el("div", "pw-rows");
        rowsEl.setAttribute("role", "list");
        rowsEl.setAttribute("aria-label", s.title ?? "Models");
        /** @type {HTMLElement | null} */
        let counted = null;
        if (s.title) {
          // the heading stays in sight while its group scrolls, with the group's count
          const h = el("h3", "pw-section-title");
          counted = el("span", "pw-section-count");
          h.append(el("span", "pw-section-name", s.title), " ", counted);
          sectionEl.append(h);
        }
        sectionEl.append(rowsEl);
        section = { el: sectionEl, rows: rowsEl, chunks: [], count: counted };
        sections.set(key, section);
      }
      if (section.count) setText(section.count, `(${s.ids.length})`);
      wanted.push(section.el);
      const count = Math.ceil(s.ids.length / CHUNK);
      while (section.chunks.length < count) section.chunks.push(el("div", "pw-chunk"));
      plan.push([section.rows, section.chunks.slice(0, count)]);
      for (let k = 0; k < count; k += 1) {
        const ids = s.ids.slice(k * CHUNK, (k + 1) * CHUNK);
        plan.push([section.chunks[k], ids.map((id) => /** @type {Row} */ (rows.get(id)).el)]);
      }
    }
    syncChildren(list, wanted, false);
    for (const [parent, children] of plan) syncChildren(parent, children, false);
    for (const [parent, children] of plan) syncChildren(parent, children);
    syncChildren(list, wanted);
  }

  /** The row's main button (or its first), to take the focus. @param {string} id */
  function mainButton(id) {
    const row = rows.get(id);
    if (!row?.el.isConnected) return null;
    return row.buttons.get("main") ?? row.buttons.values().next().value ?? null;
  }

  /** Whether the focus is on something of this widget that is still there to use. */
  function focusHeld() {
    const a = document.activeElement;
    return a instanceof HTMLElement && root.contains(a) && !a.closest("[hidden]");
  }

  /**
   * After a draw: what the user asked to focus (an opened confirmation or Edit form, an added
   * row); else, when the draw took away the focused element (Keep, Delete, Save, Remove, Clear
   * filter, Add), the row's main button, the next row's when the row is gone, never <body>.
   * @param {string | null} lostRow the row that held the focus before the draw
   * @param {number} lostIndex its place in the list then
   * @param {boolean} hadFocus the focus was in the widget before the draw
   */
  function placeFocus(lostRow, lostIndex, hadFocus) {
    const want = ui.focus;
    ui.focus = null;
    if (want) {
      const row = rows.get(want.id);
      const target =
        want.part === "confirm"
          ? row?.confirm?.querySelector('button[data-action="keep"]')
          : row?.edit?.querySelector("input, textarea");
      if (target instanceof HTMLElement) {
        target.focus();
        return;
      }
    }
    if (ui.added) {
      const id = ui.added;
      ui.added = "";
      const row = rows.get(id);
      if (row?.el.isConnected) {
        row.el.scrollIntoView?.({ block: "nearest" }); // (jsdom has none)
        row.el.classList.add("pw-flash");
        setTimeout(() => row.el.classList.remove("pw-flash"), NOTICE_MS);
        mainButton(id)?.focus();
        return;
      }
    }
    if (!hadFocus || focusHeld()) return;
    /** @type {HTMLElement | null} */
    let target = null;
    if (lostRow !== null) {
      target = mainButton(lostRow);
      const next = visible[Math.min(lostIndex, visible.length - 1)];
      if (!target && next !== undefined) target = mainButton(next);
    } else target = header.add.hidden ? header.filter : null;
    (target ?? header.filter).focus();
  }

  function draw() {
    frame = 0;
    const focused = document.activeElement;
    const hadFocus = focused instanceof HTMLElement && root.contains(focused);
    const lostRow = hadFocus
      ? (focused.closest("[data-model-id]")?.getAttribute("data-model-id") ?? null)
      : null;
    const lostIndex = lostRow === null ? -1 : visible.indexOf(lostRow);
    drawNow();
    placeFocus(lostRow, lostIndex, hadFocus);
  }

  function drawNow() {
    lastDraw = performance.now();
    clearTimeout(progressTimer);
    progressTimer = undefined;
    const traits = dirtyTraits;
    const ids = dirtyRows;
    let reorder = dirtyOrder;
    const asked = userOrder;
    dirtyTraits = new Set();
    dirtyRows = new Set();
    dirtyOrder = false;
    userOrder = false;
    const all = traits.has("*");
    const changed = (/** @type {string} */ name) => all || traits.has(name);

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
    let everyRow = changed("models") || changed("_resources") || isOffline !== lastOffline;
    lastOffline = isOffline;

    if (changed("connection")) {
      patchBanner(header, model.get("connection") ?? {}, kernelGone);
      root.classList.toggle("pw-unreachable", isOffline);
    }
    if (changed("models") || changed("_resources") || changed("connection") || changed("downloads"))
      patchSummary(header, summarize(models, resources, downloads), isOffline);
    const runtime = model.get("runtime") ?? { state: "none" };
    const noRuntime = runtimeBlock(runtime);
    if (changed("runtime") || changed("connection")) {
      patchRuntime(header, runtime, isOffline);
      if (noRuntime !== lastRuntime) everyRow = true;
      lastRuntime = noRuntime;
    }
    if (changed("_view")) {
      patchControls(header, view);
      reorder = true;
    }
    if (changed("_add") && ui.addPending) {
      const add = model.get("_add");
      if (add && !add.busy) {
        ui.addPending = false;
        if (!add.error) {
          clearAddForm(header);
          ui.addOpen = false;
          ui.added = add.added ?? "";
          traits.add("add");
        }
      }
    }
    if (changed("_capabilities") || changed("_add") || changed("connection") || traits.has("add"))
      patchAdd(
        header,
        Boolean(model.get("_capabilities")?.sources),
        ui.addOpen,
        model.get("_add") ?? { busy: false, error: "" },
        isOffline,
      );

    if (changed("downloads")) {
      changedKeys(lastDownloads, downloads, ids, downloadKey);
      followDownloads(downloads);
      lastDownloads = downloads;
      const active = Object.keys(downloads)
        .filter((id) => ACTIVE.has(downloads[id].status))
        .sort()
        .join("\n");
      if (active !== lastActive && view.sort === "state") reorder = true;
      lastActive = active;
    }
    if (changed("_busy")) changedKeys(lastBusy, busy, ids);
    if (changed("_row_errors")) changedKeys(lastErrors, rowErrors, ids);
    lastBusy = busy;
    lastErrors = rowErrors;

    const catalog = catalogOf(models);
    for (const id of pending.ids()) {
      const key = answerKey(catalog.byId.get(id)?.model, downloads[id], busy[id], rowErrors[id]);
      if (pending.settle(id, key)) ids.add(id);
    }
    if (changed("models")) {
      reorder = true;
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
        notice(id, "Saved");
      }
    }
    /** @type {import("./catalog.js").Section[] | null} */
    let order = null;
    if (orderStale && !working()) reorder = true;
    if (reorder) {
      const active = new Set(lastActive ? lastActive.split("\n") : []);
      const sorted = orderRows(catalog, {
        query: ui.query,
        showCloud: ui.showCloud,
        localOnly: ui.localOnly,
        prefs: view,
        active,
      }).sections;
      // A change of state re-sorts only an idle list: rows under the pointer or the focus, with
      // a command on its way or a running download, keep their places (new rows find theirs).
      order = !asked && placed.length && working() ? keepPlaces(placed, sorted) : sorted;
      orderStale = order !== sorted && !sameOrder(order, sorted);
      placed = order;
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
      const d = downloads[id];
      const inputs = inputsOf(id);
      const sent = inputs.pending ? `${inputs.pending.action}${+inputs.pending.waiting}` : "";
      const local = `${+inputs.finishing}${+inputs.editing}${+inputs.details}${inputs.confirm ?? ""}:${inputs.lastAction ?? ""}:${sent}:${inputs.notice ?? ""}`;
      const sig = [
        downloadKey(d),
        inputs.busy ?? "",
        inputs.rowError ?? "",
        +isOffline + +kernelGone,
        fitCheck(m, resources).hint,
        inputs.runtime,
        local,
      ].join("\u0001");
      if (row.sig !== sig || !sameModel(row.model, m)) {
        patchRow(row, m, inputs);
        row.sig = sig;
        row.model = m;
      }
    }
    if (order) placeRows(order);
    setHidden(resort, !orderStale);

    if (reorder || changed("models")) {
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

  /** @param {string} id @param {string} action @param {boolean} confirmed */
  function rowCommand(id, action, confirmed) {
    const entry = catalogOf(model.get("models") ?? []).byId.get(id);
    if (!entry) return;
    if (action === "details") {
      if (ui.details.delete(id)) {
        // closed
      } else {
        ui.details.add(id);
        if (!offline()) send({ action: "details", id });
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

  /** @param {string} action */
  function headerCommand(action) {
    if (action === "refresh" || action === "unload_all" || action === "install_runtime")
      send({ action });
    else if (action === "resort") touchOrder();
    else if (action === "clear-filter") {
      header.filter.value = "";
      ui.query = "";
      touchOrder();
    } else if (action === "toggle-add" || action === "close-add") {
      ui.addOpen = action === "toggle-add" ? !ui.addOpen : false;
      dirtyTraits.add("add");
      schedule();
    }
  }

  const unlisten = listen(root, {
    row: rowCommand,
    header: headerCommand,
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
  });

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
    for (const timer of ui.finishing.values()) clearTimeout(timer);
    ui.finishing.clear();
    dirtyTraits.add("*");
    schedule();
  };
  model.on("comm_live_update", kernelLost);
  handlers.push(["comm_live_update", kernelLost]);

  /** @type {[EventTarget, string, (event: Event) => void][]} */
  const listWatch = [
    [
      list,
      "pointerenter",
      () => {
        pointerInList = true;
      },
    ],
    [
      list,
      "pointerleave",
      () => {
        pointerInList = false;
        maybeIdle();
      },
    ],
    [
      list,
      "focusout",
      (event) => {
        const next = /** @type {FocusEvent} */ (event).relatedTarget;
        if (!(next instanceof Node && list.contains(next))) queueMicrotask(maybeIdle);
      },
    ],
  ];
  for (const [target, type, fn] of listWatch) target.addEventListener(type, fn);

  host.append(root);
  draw();

  return () => {
    for (const [event, handler] of handlers) model.off(event, handler);
    for (const [target, type, fn] of listWatch) target.removeEventListener(type, fn);
    unlisten();
    if (frame) cancelAnimationFrame(frame);
    frame = 0;
    clearTimeout(progressTimer);
    pending.clear();
    for (const timer of ui.finishing.values()) clearTimeout(timer);
    for (const timer of noticeTimers.values()) clearTimeout(timer);
    ui.finishing.clear();
    root.remove();
  };
}
