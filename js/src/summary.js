// @ts-check
/** The header's disk, memory and downloads summary. */
import { ACTIVE } from "./activity.js";
import { formatBytes, formatPercent } from "./format.js";

/** @typedef {import("./types.js").ModelJson} ModelJson */
/** @typedef {import("./types.js").Download} Download */
/** @typedef {import("./types.js").Resources} Resources */

/**
 * The header summary, saying what each number is (pieces_widget/summary.py says the same):
 * "Disk: 3 models, 185 MB · 64.7 GB free · Memory: 1 model loaded, 33.6 MB of 25.3 GB ·
 * 2 downloading, 45 %"; unknown parts are left out.
 * @param {ModelJson[]} models @param {Resources | null | undefined} r
 * @param {Record<string, Download>} [downloads]
 */
export function summarize(models, r, downloads = {}) {
  let onDevice = 0;
  let diskBytes = 0;
  let loaded = 0;
  let ramBytes = 0;
  for (const m of models) {
    if (!m.cloud && m.downloaded) {
      onDevice += 1;
      diskBytes += m.bytes?.value ?? 0;
    }
    if (m.loaded) {
      loaded += 1;
      ramBytes += m.ram?.value ?? 0;
    }
  }
  const plural = (/** @type {number} */ n) => `${n} ${n === 1 ? "model" : "models"}`;
  const parts = [
    onDevice
      ? `Disk: ${plural(onDevice)}, ${formatBytes(diskBytes)}`
      : "No models on this device yet",
  ];
  if (r?.free_disk != null) parts.push(`${formatBytes(r.free_disk)} free`);
  const total = r?.total_memory;
  parts.push(
    loaded
      ? `Memory: ${plural(loaded)} loaded, ${formatBytes(ramBytes)}${total != null ? ` of ${formatBytes(total)}` : ""}`
      : "Memory: no model loaded",
  );
  const running = Object.values(downloads).filter((d) => ACTIVE.has(d.status));
  if (running.length) {
    const done = running.reduce((sum, d) => sum + (d.bytes_done ?? 0), 0);
    const size = running.reduce((sum, d) => sum + (d.bytes_total ?? 0), 0);
    const pct = size > 0 ? (done / size) * 100 : (running[0].percentage ?? 0);
    parts.push(`${running.length} downloading, ${formatPercent(pct)}`);
  }
  return { text: parts.join(" · "), loaded };
}
