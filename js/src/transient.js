// @ts-check
/**
 * What a row shows for a while: the full bar of a download this view saw finish (for
 * FINISHED_BAR_MS, then it collapses; an entry first seen already finished shows no bar), and a
 * short word in its status ("Saved", for NOTICE_MS).
 */
import { ACTIVE } from "./activity.js";
import { FINISHED_BAR_MS } from "./state.js";

/** @typedef {import("./types.js").Download} Download */
/** @typedef {import("./ui.js").Ui} Ui */

/** How long a row says "Saved", and an added row stays highlighted (ms). */
export const NOTICE_MS = 4000;

/** @param {Ui} ui @param {(id: string) => void} touch redraws a row */
export function createTransient(ui, touch) {
  /** @type {Map<string, ReturnType<typeof setTimeout>>} */
  const noticeTimers = new Map();
  /** @param {string} id */
  const stopFinishing = (id) => {
    const timer = ui.finishing.get(id);
    if (timer !== undefined) {
      clearTimeout(timer);
      ui.finishing.delete(id);
    }
  };
  const stopBars = () => {
    for (const timer of ui.finishing.values()) clearTimeout(timer);
    ui.finishing.clear();
  };
  return {
    /** Say `text` in row `id`'s status for NOTICE_MS. @param {string} id @param {string} text */
    notice(id, text) {
      clearTimeout(noticeTimers.get(id));
      ui.notice.set(id, text);
      noticeTimers.set(
        id,
        setTimeout(() => {
          ui.notice.delete(id);
          noticeTimers.delete(id);
          touch(id);
        }, NOTICE_MS),
      );
    },
    /** Track each download's status as this view saw it. @param {Record<string, Download>} downloads */
    follow(downloads) {
      for (const [id, d] of Object.entries(downloads)) {
        const before = ui.seen.get(id);
        if (d.status === "COMPLETED" && before && ACTIVE.has(before)) {
          stopFinishing(id);
          ui.finishing.set(
            id,
            setTimeout(() => {
              ui.finishing.delete(id);
              touch(id);
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
    },
    /** Collapse every finished bar now (the kernel is gone). */
    stopBars,
    /** Stop every clock (the view closes). */
    clear() {
      stopBars();
      for (const timer of noticeTimers.values()) clearTimeout(timer);
    },
  };
}
