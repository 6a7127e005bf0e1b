// @ts-check
/**
 * Whether a model's download runs, and what an active download says beside its bar, by the
 * server's status (Pieces OS's INITIALIZED, UNKNOWN and RESET as it runs them).
 */
import { formatDuration } from "./format.js";

/** @typedef {import("./types.js").ModelJson} ModelJson */
/** @typedef {import("./types.js").Download} Download */

/** Download statuses that mean a transfer is running (the rest are terminal or absent). */
export const ACTIVE = new Set(["INITIALIZED", "IN-PROGRESS", "UNKNOWN", "RESET"]);

/**
 * Whether a download runs. A model the server lists as on device and not downloading has no
 * download running, whatever the last progress said (its job ends on its next look): a row
 * never shows "On device" with a running bar and Cancel.
 * @param {ModelJson} m @param {Download | undefined} d
 */
export function isActive(m, d) {
  if (m.downloaded && !m.downloading) return false;
  return d ? ACTIVE.has(d.status) : Boolean(m.downloading);
}

/**
 * What an active download says beside its bar, by the server's status: INITIALIZED is
 * "Starting…" until the server shows it running (and says it still waits after a minute),
 * UNKNOWN is "Working…", RESET "Starting over…". "" for a running download (the bar says it).
 * @param {Download} d
 */
export function activeText(d) {
  if (d.status === "INITIALIZED") {
    if (!d.slow_start) return "Starting…";
    const waited = formatDuration(d.waiting_for ?? 0);
    return `Pieces OS has not started this download after ${waited}; still waiting`;
  }
  if (d.status === "UNKNOWN") return "Working…";
  if (d.status === "RESET") return "Starting over…";
  return "";
}
