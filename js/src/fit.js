// @ts-check
/** Whether a model fits this machine (RAM to load it, disk for the rest of it), and the part of a
 * download kept for a resume. */
import { formatBytes, keptPercent } from "./format.js";

/** @typedef {import("./types.js").ModelJson} ModelJson */
/** @typedef {import("./types.js").Download} Download */
/** @typedef {import("./types.js").Resources} Resources */

/**
 * Percent of a partial download kept for a resume: only where the server says it keeps one
 * (`partialBytes`); Pieces OS may start a canceled download over, so a last percentage promises
 * nothing. Null when there is nothing to resume.
 * @param {ModelJson} m @param {Download | undefined} _d
 */
export function resumePercent(m, _d) {
  if (m.cloud || m.downloaded) return null;
  return keptPercent(m.partialBytes, m.bytes?.value);
}

/**
 * Whether the model fits this machine: RAM to load it, disk to download the rest of it.
 * @param {ModelJson} m @param {Resources | null | undefined} r
 */
export function fitCheck(m, r) {
  const ram = m.ram?.value;
  const freeRam = r?.available_memory;
  const ramShort = !m.cloud && !m.loaded && ram != null && freeRam != null && ram > freeRam;
  const disk = m.bytes?.value == null ? null : m.bytes.value - (m.partialBytes ?? 0);
  const freeDisk = r?.free_disk;
  const diskShort =
    !m.cloud && !m.downloaded && disk != null && freeDisk != null && disk > freeDisk;
  /** @type {string[]} */
  const hints = [];
  if (ramShort) hints.push(`needs ${formatBytes(ram)} RAM, ${formatBytes(freeRam)} free`);
  if (diskShort)
    hints.push(
      `needs ${formatBytes(disk)} disk, ${formatBytes(freeDisk)} free: free some space first`,
    );
  return { ramShort, diskShort, hint: hints.join(" · ") };
}
