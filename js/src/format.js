// @ts-check
/** Numbers for people: decimal bytes, durations, percentages, parameters, context sizes. */

/** @typedef {import("./types.js").Download} Download */

/**
 * Decimal units like disks and download tools: 33554432 -> "33.6 MB", 1.8e11 -> "180 GB".
 * Python's readable_bytes says the same (tests/cases/readable_bytes.json).
 * @param {number | null | undefined} n
 */
export function formatBytes(n) {
  if (n == null || !Number.isFinite(n)) return "?";
  const units = ["B", "KB", "MB", "GB", "TB", "PB"];
  let value = n;
  let unit = 0;
  while (Math.abs(value) >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  if (unit === 0) return `${Math.round(value)} B`;
  const digits = Math.abs(value) >= 99.95 ? 0 : 1;
  return `${value.toFixed(digits).replace(/\.0$/, "")} ${units[unit]}`;
}

/**
 * The text with a no-break space between each number and its unit ("25.3 GB", "4 min", "12 %"),
 * for the DOM only: a narrow line breaks before a size, never inside it. Plain spaces elsewhere.
 * @param {string} text
 */
export function keepUnits(text) {
  return text.replace(/(\d) (?=(?:[KMGTP]?B|min|s|h)(?!\w)|%)/g, "$1\u00a0");
}

/** @param {number | null | undefined} seconds 125 -> "2 min 5 s" */
export function formatDuration(seconds) {
  if (seconds == null || !Number.isFinite(seconds)) return "?";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/**
 * 0-100 -> "13.2 %", "50 %": clamped, one decimal, cut rather than rounded (a download at
 * 99.96 % is not "100 %" yet), a trailing ".0" dropped. Python's readable_percent says the same
 * (tests/cases/readable_percent.json).
 * @param {number | null | undefined} pct
 */
export function formatPercent(pct) {
  if (pct == null || !Number.isFinite(pct)) return "?";
  const p = Math.min(100, Math.max(0, pct));
  const tenths = Math.floor(p * 10 + 1e-9); // a hair under a tenth is float error
  const tenth = tenths % 10;
  return `${Math.floor(tenths / 10)}${tenth ? `.${tenth}` : ""} %`;
}

/**
 * The whole percent a stopped download keeps to resume from: floored, at most 99 (a partial is
 * never "100 %"); null when there is no partial or no size. Python's kept_percent says the same
 * (tests/cases/kept_percent.json).
 * @param {number | null | undefined} partial @param {number | null | undefined} total
 */
export function keptPercent(partial, total) {
  if (!partial || !total || partial <= 0 || total <= 0) return null;
  // partial * 100 is exact, and one division is rounded once: 57 of 100 is 57, not 56.99...
  return Math.min(99, Math.floor((partial * 100) / total));
}

/**
 * The spec's `parameters` (billions): 3.8 -> "3.8 B params"; with `unit` "billion" (a labelled
 * field, where "params" would repeat the label) -> "3.8 billion".
 * @param {number | null | undefined} billions @param {string} [unit]
 */
export function formatParameters(billions, unit = "B params") {
  if (billions == null || !Number.isFinite(billions) || billions <= 0) return "";
  const text = billions >= 10 ? String(Math.round(billions)) : String(Number(billions.toFixed(1)));
  return `${text} ${unit}`;
}

/**
 * A timestamp as people read it, in UTC so every viewer sees the same: "2026-11-27 15:50 UTC".
 * @param {string | undefined} iso
 */
export function formatDate(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** A token count as people say it: 4096 -> "4K", 128000 and 131072 -> "128K", 512 -> "512". */
function tokenCount(/** @type {number} */ tokens) {
  /** @param {number} unit @param {number} binary */
  const scaled = (unit, binary) => {
    const n = tokens % unit !== 0 && tokens % binary === 0 ? tokens / binary : tokens / unit;
    return String(Number(n.toFixed(1)));
  };
  if (tokens >= 1e6) return `${scaled(1e6, 1048576)}M`;
  if (tokens >= 1000) return `${scaled(1000, 1024)}K`;
  return String(tokens);
}

/** @param {number | null | undefined} tokens */
const validTokens = (tokens) => tokens != null && Number.isFinite(tokens) && tokens > 0;

/**
 * `maxTokens.total` in the meta line: 4096 -> "4K context", 128000 -> "128K context".
 * @param {number | null | undefined} tokens
 */
export function formatContext(tokens) {
  if (!validTokens(tokens)) return "";
  const n = /** @type {number} */ (tokens);
  return n < 1000 ? `${n} tokens context` : `${tokenCount(n)} context`;
}

/**
 * `maxTokens.total` in the labelled Context field: 4096 -> "4K tokens", 512 -> "512 tokens".
 * @param {number | null | undefined} tokens
 */
export function formatTokens(tokens) {
  return validTokens(tokens) ? `${tokenCount(/** @type {number} */ (tokens))} tokens` : "";
}

/**
 * The line under a progress bar: percent, bytes, speed and ETA, or how long it has stalled.
 * `eta` is null while unknown (no speed yet, or no bytes for a few seconds): "ETA —".
 * `paused` (Pieces OS unreachable): percent and bytes only, the speed and ETA mean nothing then.
 * @param {Download} d @param {boolean} [paused]
 */
export function progressText(d, paused = false) {
  const parts = [d.percentage == null ? "…" : formatPercent(d.percentage)];
  if (d.bytes_total != null)
    parts.push(`${formatBytes(d.bytes_done ?? 0)} / ${formatBytes(d.bytes_total)}`);
  if (paused) return parts.join(" · ");
  if (d.stalled) {
    parts.push(`stalled for ${formatDuration(d.stalled_for)}`);
  } else {
    if (d.speed != null && d.speed > 0) parts.push(`${formatBytes(d.speed)}/s`);
    parts.push(`ETA ${d.eta == null ? "—" : formatDuration(d.eta)}`);
  }
  return parts.join(" · ");
}
