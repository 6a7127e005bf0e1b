// @ts-check
/**
 * What a row shows for a model in a given state (badges, actions, status, bar, alert, hints,
 * confirmation), the header summary, and the labelled details. Pure functions of the synced
 * traits and the view's own state; row.js only writes what these return into the DOM.
 */
import {
  formatBytes,
  formatContext,
  formatDate,
  formatDuration,
  formatParameters,
  formatPercent,
  formatTokens,
  keptPercent,
  progressText,
} from "./format.js";
import {
  enumLabel,
  foundationLabel,
  providerLabel,
  quantizationLabel,
  stateBadges,
  stateText,
} from "./labels.js";
import { PENDING_LABELS, WAITING_TEXT } from "./pending.js";

/** @typedef {import("./types.js").ModelJson} ModelJson */
/** @typedef {import("./types.js").Download} Download */
/** @typedef {import("./types.js").Resources} Resources */

/** Download statuses that mean a transfer is running (the rest are terminal or absent). */
export const ACTIVE = new Set(["INITIALIZED", "IN-PROGRESS", "UNKNOWN", "RESET"]);
/** How long a view keeps a finished download's full bar before it collapses (ms). */
export const FINISHED_BAR_MS = 2000;

/** Actions that ask in the row before they are sent (always, or when the model does not fit). */
/** @typedef {"delete" | "remove" | "load" | "download" | "discard"} ConfirmKind */

/**
 * Everything a row depends on besides its Model JSON. The view keeps `finishing`, `confirm`,
 * `editing`, `details`, `lastAction` and `pending` (a command sent, not answered yet: see
 * pending.js) per view; the rest comes from the synced traits.
 * @typedef {{
 *   download?: Download, busy?: string, rowError?: string, offline?: boolean,
 *   resources?: Resources | null, finishing?: boolean, confirm?: ConfirmKind | null,
 *   editing?: boolean, details?: boolean, lastAction?: string,
 *   pending?: { action: string, waiting: boolean } | null, runtime?: string, notice?: string,
 *   stopped?: boolean,
 * }} RowInputs
 */

/**
 * One button of a row. `slot` keeps the element across state changes (Download -> Cancel ->
 * Load is one element, so keyboard focus stays put); `action` is its data-action. `pending`:
 * its command is on its way (aria-disabled, so a focused button keeps the focus).
 * `why`: why it is disabled, when that is not plain from the row (the row's tooltip says it).
 * `title`: what it does, in a tooltip (Delete and Remove say what they take away).
 * @typedef {{ slot: string, action: string, label: string, disabled: boolean,
 *   expanded?: boolean, pending?: boolean, why?: string, title?: string }} RowAction
 */

/**
 * @typedef {{
 *   name: string, badges: string[], meta: string, hint: string, actions: RowAction[],
 *   status: string, active: boolean,
 *   bar: { pct: number, stalled: boolean, text: string } | null,
 *   alert: { text: string, retry: string | null } | null,
 *   confirm: Confirmation | null,
 * }} RowView
 * @typedef {{ kind: ConfirmKind, text: string, label: string, aria: string, keep: string,
 *   keepAria: string }} Confirmation
 */

/** What an active download's row says while Pieces OS is unreachable (no speed, no ETA). */
export const WAITING_FOR_SERVER = "Waiting for Pieces OS…";

const BUSY_TEXT = /** @type {Record<string, string>} */ ({
  loading: "Loading…",
  unloading: "Unloading…",
  saving: "Saving…",
  deleting: "Deleting…",
  removing: "Removing…",
});

/** @param {ModelJson} m */
export function displayName(m) {
  return m.name || m.id;
}

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

/**
 * Whether an action asks first in the row.
 * @param {string} action @param {ModelJson} m @param {Resources | null | undefined} r
 * @returns {action is ConfirmKind}
 */
export function needsConfirm(action, m, r) {
  if (action === "delete" || action === "remove" || action === "discard") return true;
  // a download that cannot fit on the disk is not offered at all (see rowActions): it would fail
  if (action === "load") return fitCheck(m, r).ramShort;
  return false;
}

/** @type {WeakMap<ModelJson, string>} */
const metaLines = new WeakMap();

/** The line under a model's name, once per Model JSON object. @param {ModelJson} m */
function metaLine(m) {
  let line = metaLines.get(m);
  if (line === undefined) {
    line = metaParts(m);
    metaLines.set(m, line);
  }
  return line;
}

/** @param {ModelJson} m */
function metaParts(m) {
  const parts = [
    m.version ? `v${m.version}` : "",
    foundationLabel(m.foundation),
    providerLabel(m.provider),
    quantizationLabel(m.quantization),
    formatParameters(m.parameters),
    formatContext(m.maxTokens?.total),
    m.bytes?.value != null ? `size ${formatBytes(m.bytes.value)}` : "",
    m.ram?.value != null ? `RAM ${formatBytes(m.ram.value)}` : "",
  ];
  return parts.filter(Boolean).join(" · ");
}

/**
 * The buttons of a row, in order: main (Download/Resume/Cancel/Load/Unload), Edit, Details,
 * Delete, Remove.
 * @param {ModelJson} m @param {RowInputs} inputs @param {boolean} active
 * @returns {RowAction[]}
 */
function rowActions(m, inputs, active) {
  const blocked = Boolean(inputs.busy) || Boolean(inputs.offline);
  const pending = inputs.pending?.action;
  /** @type {RowAction[]} */
  const actions = [];
  /**
   * @param {string} slot @param {string} action @param {string} label @param {boolean} [off]
   * @param {string} [pendingLabel] what it says while its command is on its way
   */
  const add = (slot, action, label, off = blocked, pendingLabel = PENDING_LABELS[action]) => {
    if (pending === action && pendingLabel)
      actions.push({ slot, action, label: pendingLabel, disabled: off, pending: true });
    else actions.push({ slot, action, label, disabled: off });
  };
  // Local models need the runtime (Ollama) to download and load: say why they can't.
  const noRuntime = m.cloud ? "" : (inputs.runtime ?? "");
  const needsRuntime = (/** @type {string} */ slot, /** @type {string} */ action, label = "") => {
    add(
      slot,
      action,
      label,
      blocked || Boolean(noRuntime),
      label.startsWith("Resume") ? PENDING_LABELS.resume : undefined,
    );
    if (noRuntime) actions[actions.length - 1].why = noRuntime;
  };
  if (active) add("main", "cancel", "Cancel", Boolean(inputs.offline));
  else if (!m.cloud && !m.downloaded) {
    const resume = resumePercent(m, inputs.download);
    needsRuntime("main", "download", resume == null ? "Download" : `Resume (${resume} %)`);
    // no room on the disk for it: Download stays (the row keeps its shape) but disabled, and
    // the hint says why; nothing is offered that is known to fail
    if (fitCheck(m, inputs.resources).diskShort) {
      const main = actions[actions.length - 1];
      main.disabled = true;
      main.why ||= "Not enough free disk for it: free some space first";
    }
  } else if (m.cloud) {
    // cloud models have no main action here
  } else if (m.loaded) add("main", "unload", "Unload");
  else needsRuntime("main", "load", "Load");
  if (m.custom) {
    add("edit", "edit", "Edit");
    actions[actions.length - 1].expanded = Boolean(inputs.editing);
  }
  add("details", "details", inputs.details ? "Hide" : "Details", false);
  actions[actions.length - 1].expanded = Boolean(inputs.details);
  const size = m.bytes?.value != null ? ` (${formatBytes(m.bytes.value)})` : "";
  if (!m.cloud && m.downloaded && !active) {
    add("delete", "delete", "Delete");
    actions[actions.length - 1].title =
      `Delete the downloaded weights${size} from this device; the model stays in the list`;
  }
  const partial = m.partialBytes ?? 0;
  if (!m.cloud && !m.downloaded && !active && partial > 0) {
    add("discard", "discard", `Discard partial (${formatBytes(partial)})`);
    actions[actions.length - 1].title =
      `Throw away the partial download and free its ${formatBytes(partial)}`;
  }
  if (m.custom) {
    add("remove", "remove", "Remove");
    actions[actions.length - 1].title =
      "Remove this custom model from the list, and its files from this device";
  }
  return actions;
}

/**
 * The row's one alert: its own failed action, else the failed download's reason. Retry repeats
 * what this view last asked for when the row still offers it, else the row's main action; but
 * when that is the row's main button (Download, Resume (46 %), Load), that button is the retry:
 * no second button for the same thing.
 * @param {ModelJson} m @param {RowInputs} inputs @param {boolean} active @param {RowAction[]} actions
 */
function rowAlert(m, inputs, active, actions) {
  const d = inputs.download;
  let text = inputs.rowError || "";
  if (!text && !active && !m.downloaded && !m.cloud) {
    if (d?.status === "FAILED") text = d.error || m.error || "Download failed";
    else if (!d && m.error) text = m.error;
  }
  if (!text) return null;
  // A refused save is retried from the Edit form it left open, not with another action.
  if (inputs.rowError && inputs.lastAction === "update") return { text, retry: null };
  const offered = actions.filter((a) => a.slot !== "details" && a.slot !== "edit");
  const again = offered.find((a) => a.action === inputs.lastAction) ?? offered[0];
  return { text, retry: again && again.slot !== "main" ? again.action : null };
}

/**
 * The in-row question. `aria` names the model without repeating the row button's own name
 * ("Delete Phi-3 Mini"), so a search for that button finds one element.
 * @param {ConfirmKind} kind @param {ModelJson} m @param {Resources | null | undefined} r
 * @returns {Confirmation}
 */
function confirmation(kind, m, r) {
  const name = displayName(m);
  const size = m.bytes?.value != null ? formatBytes(m.bytes.value) : "";
  if (kind === "delete") {
    const verb = m.loaded ? "Unload and delete" : "Delete"; // the server unloads it first
    return {
      kind,
      text: `${verb} ${size || "the weights"} from disk?`,
      label: "Delete",
      aria: `${verb} ${size || "the weights"} of ${name} from disk`,
      keep: "Keep",
      keepAria: `Keep ${name} on disk`,
    };
  }
  if (kind === "discard") {
    const part = formatBytes(m.partialBytes ?? 0);
    return {
      kind,
      text: `Discard the ${part} partial download?`,
      label: "Discard",
      aria: `Discard the ${part} partial download of ${name}`,
      keep: "Keep",
      keepAria: `Keep the partial download of ${name}`,
    };
  }
  if (kind === "remove")
    return {
      kind,
      text: `Remove ${name}${m.downloaded && size ? ` and its ${size} on disk` : ""}?`,
      label: "Remove",
      aria: `Confirm: remove the custom model ${name}`,
      keep: "Keep",
      keepAria: `Keep the custom model ${name}`,
    };
  const verb = kind === "load" ? "Load" : "Download";
  return {
    kind,
    text: `${fitCheck(m, r).hint}. ${verb} anyway?`,
    label: `${verb} anyway`,
    aria: `${verb} anyway: ${name}`,
    keep: "Not now",
    keepAria: `Not now: ${name}`,
  };
}

/**
 * Whether an open confirmation still makes sense: the row still offers its action and the action
 * still asks first (a Delete question is moot once the weights are gone, a "Load anyway?" once
 * the model fits).
 * @param {ConfirmKind} kind @param {ModelJson} m @param {Resources | null | undefined} r
 * @param {RowAction[]} actions
 */
function stands(kind, m, r, actions) {
  return actions.some((a) => a.action === kind) && needsConfirm(kind, m, r);
}

/**
 * Whether a view should keep a row's pending confirmation; when not, it drops it, so it does not
 * come back by itself when the action is offered again (deleted, then downloaded again).
 * @param {ConfirmKind} kind @param {ModelJson} m @param {RowInputs} inputs
 */
export function confirmStands(kind, m, inputs) {
  const actions = rowActions(m, inputs, isActive(m, inputs.download));
  return stands(kind, m, inputs.resources, actions);
}

/**
 * What a row shows.
 * @param {ModelJson} m @param {RowInputs} inputs
 * @returns {RowView}
 */
export function rowState(m, inputs) {
  const d = inputs.download;
  const active = isActive(m, d);
  // Pieces OS unreachable: the kernel's job sees no bytes, its speed decays and its ETA grows;
  // none of that is news about the download, which waits for the server
  const paused = active && Boolean(inputs.offline);
  const stalled = Boolean(active && !paused && d?.stalled);
  const starting = active && d?.status === "INITIALIZED";
  const activity =
    active && !paused ? (starting ? "Starting" : stalled ? "Stalled" : "Downloading") : "";
  const badges = stateBadges(m, activity);

  // Downloading / Stalled are said once, by the badge (and "stalled for N s" under the bar)
  let status = "";
  if (inputs.pending?.waiting) status = WAITING_TEXT;
  else if (inputs.busy) status = BUSY_TEXT[inputs.busy] ?? `${inputs.busy}…`;
  else if (paused)
    status = inputs.stopped ? "" : WAITING_FOR_SERVER; // the banner says why
  else if (active) status = d ? activeText(d) : "";
  else if (inputs.finishing) status = "Download complete";
  else if (d?.status === "CANCELED") status = "Download canceled";
  if (!status && inputs.notice) status = inputs.notice;

  let bar = null;
  if (active && d) {
    bar = { pct: d.percentage ?? 0, stalled, text: starting ? "" : progressText(d, paused) };
  } else if (inputs.finishing && d) {
    const size = d.bytes_total ?? m.bytes?.value;
    bar = {
      pct: 100,
      stalled: false,
      text: [formatPercent(100), size != null ? formatBytes(size) : ""].filter(Boolean).join(" · "),
    };
  }

  const actions = rowActions(m, inputs, active);
  const r = inputs.resources;
  const kind = inputs.confirm;
  const confirm = kind && stands(kind, m, r, actions) ? confirmation(kind, m, r) : null;
  return {
    name: displayName(m),
    badges,
    meta: metaLine(m),
    hint: active ? fitCheck({ ...m, bytes: undefined }, r).hint : fitCheck(m, r).hint,
    actions,
    status,
    active,
    bar,
    alert: rowAlert(m, inputs, active, actions),
    confirm,
  };
}

/**
 * The labelled fields of the Details panel, in words for people; empty fields are left out.
 * @param {ModelJson} m
 * @returns {[string, string][]}
 */
export function detailFields(m) {
  const size = m.bytes?.value != null ? formatBytes(m.bytes.value) : (m.bytes?.readable ?? "");
  const ram = m.ram?.value != null ? formatBytes(m.ram.value) : (m.ram?.readable ?? "");
  /** @type {[string, string][]} */
  const fields = [
    ["Name", m.name ?? ""],
    ["State", stateText(m)],
    ["Version", m.version ?? ""],
    ["Foundation", foundationLabel(m.foundation)],
    ["Provider", providerLabel(m.provider)],
    ["Quantization", quantizationLabel(m.quantization)],
    ["Parameters", formatParameters(m.parameters, "billion")],
    ["Context", formatTokens(m.maxTokens?.total)],
    ["Size", size],
    ["RAM", ram],
    ["Partial download", m.partialBytes ? formatBytes(m.partialBytes) : ""],
    ["Type", enumLabel(m.type)],
    ["Usage", enumLabel(m.usage)],
    ["Runs on", m.cpu == null ? "" : m.cpu ? "CPU" : "GPU"],
    ["Created", m.created?.readable ?? formatDate(m.created?.value)],
    ["Description", m.description ?? ""],
    ["Id", m.id],
  ];
  return fields.filter(([, value]) => value !== "");
}

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
