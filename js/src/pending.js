// @ts-check
/**
 * What a row shows between a click and the kernel's answer. Jupyter hands a widget's messages to
 * the kernel only between cells, so while a cell runs (`mgr.ensure([...])`) a click would show
 * nothing until the cell ends (`_busy` comes from Python). The view marks the clicked button at
 * once ("Canceling…", aria-disabled so the focus stays), says after `noticeMs` why nothing
 * happens, and draws the traits' truth again as soon as the row's state answers (`answerKey`
 * changes), or `graceMs` after the kernel reported the message handled with nothing to show.
 * A host that never reports handled messages gets the truth back after `maxMs`.
 */

/** @typedef {import("./types.js").ModelJson} ModelJson */
/** @typedef {import("./types.js").Download} Download */
/** @typedef {import("./types.js").WidgetModel} WidgetModel */

/** What the clicked button says while its command is on its way. */
export const PENDING_LABELS = /** @type {Record<string, string>} */ ({
  download: "Starting…",
  resume: "Resuming…",
  cancel: "Canceling…",
  load: "Loading…",
  unload: "Unloading…",
  delete: "Deleting…",
  discard: "Discarding…",
  remove: "Removing…",
});
export const WAITING_TEXT = "Waiting for the kernel (a cell is running)…";

/** Models whose host reported a handled message (ipywidgets: JupyterLab, Notebook 7, VS Code). */
const reporting = new WeakSet();

/**
 * Send a command; `handled` runs once the kernel has handled it (the idle status whose parent is
 * this message, which ipywidgets hands to `send`'s callbacks). Other hosts never call it.
 * marimo calls `send`'s second argument as a function once the message is sent (not handled):
 * the callbacks are a no-op function carrying `iopub`, so both hosts read them.
 * @param {WidgetModel} model @param {Record<string, unknown>} msg @param {() => void} [handled]
 */
export function sendCommand(model, msg, handled) {
  const status = (/** @type {any} */ reply) => {
    if (reply?.content?.execution_state !== "idle") return;
    reporting.add(model);
    handled?.();
  };
  model.send(
    msg,
    Object.assign(() => {}, { iopub: { status } }),
  );
}

/**
 * The part of a row's state that answers a command: the download's status (not its ticks), busy,
 * the row's error and the model's flags (not `partialBytes`, which grows during a download; and
 * `downloading` only when no download entry says more, as the list may catch up late).
 * @param {ModelJson | undefined} m @param {Download | undefined} d
 * @param {string | undefined} busy @param {string | undefined} rowError
 */
export function answerKey(m, d, busy, rowError) {
  if (!m) return "gone";
  const downloading = d ? null : m.downloading;
  const flags = [m.downloaded, downloading, m.loaded].map((f) => (f ? 1 : 0)).join("");
  return [d?.status ?? "", busy ?? "", rowError ?? "", flags, m.error ?? ""].join("\u0001");
}

/**
 * @typedef {{ action: string, key: string, waiting: boolean,
 *   timers: ReturnType<typeof setTimeout>[] }} Pending
 */

/**
 * The pending commands of one view, one per row.
 * @param {WidgetModel} model
 * @param {{ noticeMs: number, graceMs: number, maxMs: number }} timing
 * @param {(id: string) => void} touch redraws a row
 */
export function createPending(model, timing, touch) {
  /** @type {Map<string, Pending>} */
  const rows = new Map();
  /** @param {string} id */
  const drop = (id) => {
    const p = rows.get(id);
    if (p) for (const t of p.timers) clearTimeout(t);
    rows.delete(id);
  };
  /** @param {string} id */
  const end = (id) => {
    drop(id);
    touch(id);
  };
  return {
    /**
     * Send `msg`, the command `action` of row `id`, whose answerKey is `key` now.
     * @param {string} id @param {string} action @param {string} key
     * @param {Record<string, unknown>} msg
     */
    send(id, action, key, msg) {
      drop(id);
      /** @type {Pending} */
      const p = { action, key, waiting: false, timers: [] };
      p.timers.push(
        setTimeout(() => {
          p.waiting = true;
          touch(id);
        }, timing.noticeMs),
      );
      if (!reporting.has(model)) p.timers.push(setTimeout(() => end(id), timing.maxMs));
      rows.set(id, p);
      touch(id);
      sendCommand(model, msg, () => {
        if (rows.get(id) !== p) return;
        for (const t of p.timers) clearTimeout(t);
        p.waiting = false;
        p.timers = [setTimeout(() => end(id), timing.graceMs)];
        touch(id);
      });
    },
    /** @param {string} id */
    get(id) {
      return rows.get(id) ?? null;
    },
    /**
     * End row `id`'s pending command if the row's state answered it (the caller redraws it).
     * @param {string} id @param {string} key its answerKey now @returns {boolean} it ended
     */
    settle(id, key) {
      const p = rows.get(id);
      if (!p || p.key === key) return false;
      drop(id);
      return true;
    },
    ids() {
      return [...rows.keys()];
    },
    clear() {
      for (const id of [...rows.keys()]) drop(id);
    },
  };
}
