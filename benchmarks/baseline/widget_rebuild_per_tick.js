// @ts-check
/**
 * pieces-widget front end: connection banner, filters, one row per model with the actions that
 * fit its state, and a live progress bar. Server strings go in with textContent only, never as
 * HTML. Rows are keyed by model id and rebuilt only when their own inputs change; DOM writes are
 * coalesced per animation frame.
 */

/**
 * @typedef {{ value?: number, readable?: string }} Bytes
 * @typedef {{ id: string, name?: string, version?: string, quantization?: string,
 *   description?: string, foundation?: string, provider?: string, cloud?: boolean,
 *   custom?: boolean, downloaded?: boolean, downloading?: boolean, loaded?: boolean,
 *   bytes?: Bytes, ram?: Bytes }} ModelJson
 * @typedef {{ status: string, percentage: number | null, bytes_done: number | null,
 *   bytes_total: number | null, speed: number | null, eta: number | null, stalled: boolean,
 *   stalled_for?: number, error: string | null }} Download
 * @typedef {{ download?: Download, busy?: string, error?: string, details?: ModelJson,
 *   editing?: boolean }} RowInputs
 */

const ACTIVE = new Set(["INITIALIZED", "IN-PROGRESS", "UNKNOWN", "RESET"]);

/** @param {number | null | undefined} n */
export function formatBytes(n) {
  if (n == null || !Number.isFinite(n)) return "?";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = n;
  let unit = 0;
  while (Math.abs(value) >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** @param {number | null | undefined} seconds */
export function formatDuration(seconds) {
  if (seconds == null || !Number.isFinite(seconds)) return "?";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/**
 * The text under a progress bar: percent, bytes, speed, ETA, or the stall.
 * @param {Download} d
 */
export function progressText(d) {
  const pct = d.percentage == null ? "…" : `${d.percentage.toFixed(1)} %`;
  const parts = [pct];
  if (d.bytes_total != null)
    parts.push(`${formatBytes(d.bytes_done)} / ${formatBytes(d.bytes_total)}`);
  if (d.stalled) {
    parts.push(`stalled for ${formatDuration(d.stalled_for ?? null)}`);
  } else if (d.speed != null) {
    parts.push(`${formatBytes(d.speed)}/s`);
    if (d.eta != null) parts.push(`${formatDuration(d.eta)} left`);
  }
  return parts.join(" · ");
}

/**
 * What a row shows for a model in a given state: badges, actions and a status line.
 * @param {ModelJson} m
 * @param {RowInputs} inputs
 */
export function rowState(m, inputs) {
  const d = inputs.download;
  const downloading = d ? ACTIVE.has(d.status) : Boolean(m.downloading);
  /** @type {string[]} */
  const badges = [];
  /** @type {string[]} */
  const actions = [];
  let status = "";
  if (m.cloud) badges.push("Cloud");
  else if (m.downloaded) badges.push("On device");
  if (downloading) badges.push("Downloading");
  if (m.loaded) badges.push("Loaded");
  if (m.custom) badges.push("Custom");
  if (inputs.busy) {
    status = `${inputs.busy[0].toUpperCase()}${inputs.busy.slice(1)}…`;
  } else if (downloading) {
    actions.push("Cancel");
    status = d?.stalled ? "Download stalled" : "Downloading";
  } else if (!m.cloud) {
    if (!m.downloaded) actions.push("Download");
    else actions.push(m.loaded ? "Unload" : "Load");
  }
  if (!downloading && d && !inputs.busy) {
    if (d.status === "CANCELED") status = "Download canceled";
    else if (d.status === "FAILED") status = "Download failed";
    else if (d.status === "COMPLETED" && m.downloaded) status = "Downloaded";
  }
  if (m.custom) actions.push("Edit");
  actions.push("Details");
  return { badges, actions, status, downloading };
}

/**
 * @param {string} tag
 * @param {string} [className]
 * @param {string} [text]
 */
function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

/**
 * @param {string} label
 * @param {string} modelName
 * @param {() => void} onClick
 */
function button(label, modelName, onClick) {
  const b = /** @type {HTMLButtonElement} */ (el("button", "pw-button", label));
  b.type = "button";
  b.setAttribute("aria-label", modelName ? `${label} ${modelName}` : label);
  b.addEventListener("click", onClick);
  return b;
}

/**
 * One model row. ``send`` carries commands to Python; ``toggleEdit`` flips the edit form.
 * @param {ModelJson} m
 * @param {RowInputs} inputs
 * @param {(msg: Record<string, unknown>) => void} send
 * @param {(id: string, on: boolean) => void} toggleEdit
 */
export function renderRow(m, inputs, send, toggleEdit) {
  const name = m.name || m.id;
  const state = rowState(m, inputs);
  const row = el("div", "pw-row");
  row.dataset.modelId = m.id;
  row.setAttribute("role", "listitem");

  const main = el("div", "pw-main");
  const title = el("div", "pw-title");
  title.append(el("span", "pw-name", name));
  for (const badge of state.badges) {
    title.append(
      el("span", `pw-badge pw-badge-${badge.toLowerCase().replace(/\s+/g, "-")}`, badge),
    );
  }
  const meta = [m.version && `v${m.version}`, m.quantization, m.foundation, m.provider].filter(
    Boolean,
  );
  const sizes = [];
  if (m.bytes?.value != null) sizes.push(`size ${formatBytes(m.bytes.value)}`);
  if (m.ram?.value != null) sizes.push(`RAM ${formatBytes(m.ram.value)}`);
  main.append(title, el("div", "pw-meta", [...meta, ...sizes].join(" · ")));

  const actions = el("div", "pw-actions");
  const commands = /** @type {Record<string, () => void>} */ ({
    Download: () => send({ action: "download", id: m.id }),
    Cancel: () => send({ action: "cancel", id: m.id }),
    Load: () => send({ action: "load", id: m.id }),
    Unload: () => send({ action: "unload", id: m.id }),
    Edit: () => toggleEdit(m.id, !inputs.editing),
    Details: () => send({ action: "details", id: m.id }),
  });
  for (const label of state.actions) {
    const b = button(label, name, commands[label]);
    if (inputs.busy) b.disabled = true;
    actions.append(b);
  }
  row.append(main, actions);

  const d = inputs.download;
  if (d && (state.downloading || d.status === "COMPLETED")) {
    const progress = el("div", "pw-progress");
    const bar = el("div", `pw-bar${d.stalled ? " pw-stalled" : ""}`);
    bar.setAttribute("role", "progressbar");
    bar.setAttribute("aria-valuemin", "0");
    bar.setAttribute("aria-valuemax", "100");
    bar.setAttribute("aria-label", `Download of ${name}`);
    const pct = d.percentage ?? 0;
    bar.setAttribute("aria-valuenow", String(Math.round(pct * 10) / 10));
    const fill = el("div", "pw-fill");
    fill.style.width = `${pct}%`;
    bar.append(fill);
    progress.append(bar, el("div", "pw-progress-text", progressText(d)));
    row.append(progress);
  }

  const status = el("div", "pw-status", state.status);
  status.setAttribute("role", "status");
  row.append(status);

  const error = inputs.error || (d && !state.downloading ? d.error : null);
  if (error) {
    const alert = el("div", "pw-error");
    alert.setAttribute("role", "alert");
    alert.append(el("span", "", error));
    if (!m.cloud) alert.append(button("Retry", name, () => send(retryFor(m))));
    row.append(alert);
  }

  if (inputs.editing) row.append(editForm(m, send, toggleEdit));
  if (inputs.details) row.append(detailsList(inputs.details));
  return row;
}

/** @param {ModelJson} m */
function retryFor(m) {
  if (!m.downloaded) return { action: "download", id: m.id };
  return { action: m.loaded ? "unload" : "load", id: m.id };
}

/**
 * @param {ModelJson} m
 * @param {(msg: Record<string, unknown>) => void} send
 * @param {(id: string, on: boolean) => void} toggleEdit
 */
function editForm(m, send, toggleEdit) {
  const form = /** @type {HTMLFormElement} */ (el("form", "pw-edit"));
  const nameInput = /** @type {HTMLInputElement} */ (el("input"));
  nameInput.value = m.name || "";
  nameInput.setAttribute("aria-label", "Name");
  const description = /** @type {HTMLTextAreaElement} */ (el("textarea"));
  description.value = m.description || "";
  description.setAttribute("aria-label", "Description");
  const save = el("button", "pw-button", "Save");
  save.setAttribute("type", "submit");
  const cancel = button("Close", "", () => toggleEdit(m.id, false));
  form.append(nameInput, description, save, cancel);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send({
      action: "update",
      id: m.id,
      fields: { name: nameInput.value, description: description.value },
    });
    toggleEdit(m.id, false);
  });
  return form;
}

/** @param {Record<string, unknown>} snapshot */
function detailsList(snapshot) {
  const list = el("dl", "pw-details");
  for (const [key, value] of Object.entries(snapshot)) {
    if (key === "schema") continue;
    let text = value;
    if (value && typeof value === "object") {
      const v = /** @type {Record<string, unknown>} */ (value);
      text = v.readable ?? v.value ?? JSON.stringify(value);
    }
    list.append(el("dt", "", key), el("dd", "", String(text)));
  }
  return list;
}

/**
 * @param {{ state?: string, base_url?: string, version?: string, message?: string }} c
 */
export function connectionText(c) {
  switch (c.state) {
    case "connected":
      return `Connected to Pieces OS ${c.version || ""} at ${c.base_url || "?"}`.replace("  ", " ");
    case "unreachable":
      return `Pieces OS unreachable: ${c.message || "no answer"}`;
    case "error":
      return `Pieces OS error: ${c.message || "unknown"}`;
    default:
      return "Connecting to Pieces OS…";
  }
}

/** @param {{ model: any, el: HTMLElement }} ctx */
function render({ model, el: host }) {
  const root = el("div", "pieces-widget");
  const header = el("div", "pw-header");
  const banner = el("div", "pieces-connection");
  banner.setAttribute("role", "status");
  const bannerText = el("span", "pw-banner-text");
  const retry = button("Retry", "", () => send({ action: "refresh" }));
  retry.setAttribute("aria-label", "Retry connecting to Pieces OS");
  banner.append(bannerText, retry);

  const controls = el("div", "pw-controls");
  const filter = /** @type {HTMLInputElement} */ (el("input", "pw-filter"));
  filter.type = "search";
  filter.placeholder = "Filter by name, foundation, provider";
  filter.setAttribute("aria-label", "Filter models");
  const cloudLabel = el("label", "pw-toggle");
  const cloud = /** @type {HTMLInputElement} */ (el("input"));
  cloud.type = "checkbox";
  cloud.checked = true;
  cloudLabel.append(cloud, document.createTextNode(" Show cloud models"));
  const refresh = button("Refresh", "", () => send({ action: "refresh" }));
  refresh.setAttribute("aria-label", "Refresh the model list");
  controls.append(filter, cloudLabel, refresh);
  header.append(banner, controls);

  const alert = el("div", "pw-alert");
  alert.setAttribute("role", "alert");
  const list = el("div", "pw-list");
  list.setAttribute("role", "list");
  const count = el("div", "pw-count");
  root.append(header, alert, list, count);
  host.append(root);

  /** @type {Map<string, { row: HTMLElement, sig: string }>} */
  const rows = new Map();
  /** @type {Set<string>} */
  const editing = new Set();
  /** @param {Record<string, unknown>} msg */
  function send(msg) {
    model.send(msg);
  }
  /** @param {string} id @param {boolean} on */
  function toggleEdit(id, on) {
    if (on) editing.add(id);
    else editing.delete(id);
    schedule();
  }

  let frame = 0;
  function schedule() {
    if (!frame) frame = requestAnimationFrame(draw);
  }

  function draw() {
    frame = 0;
    const c = model.get("connection") || {};
    banner.dataset.state = c.state || "connecting";
    bannerText.textContent = connectionText(c);
    retry.hidden = c.state === "connected" || c.state === "connecting";
    alert.textContent = model.get("error") || "";
    alert.hidden = !alert.textContent;

    /** @type {ModelJson[]} */
    const models = model.get("models") || [];
    const downloads = model.get("downloads") || {};
    const busy = model.get("_busy") || {};
    const errors = model.get("_row_errors") || {};
    const details = model.get("_details") || {};
    const query = filter.value.trim().toLowerCase();
    const visible = models.filter(
      (m) =>
        (cloud.checked || !m.cloud) &&
        (!query ||
          [m.name, m.id, m.foundation, m.provider].some((f) => f?.toLowerCase().includes(query))),
    );
    /** @type {HTMLElement[]} */
    const ordered = [];
    const seen = new Set();
    for (const m of visible) {
      /** @type {RowInputs} */
      const inputs = {
        download: downloads[m.id],
        busy: busy[m.id],
        error: errors[m.id],
        details: details[m.id],
        editing: editing.has(m.id),
      };
      const sig = JSON.stringify([m, inputs]);
      let entry = rows.get(m.id);
      if (!entry || entry.sig !== sig) {
        const fresh = renderRow(m, inputs, send, toggleEdit);
        const focused = entry?.row.contains(document.activeElement)
          ? /** @type {HTMLElement} */ (document.activeElement).textContent
          : null;
        if (entry) entry.row.replaceWith(fresh);
        entry = { row: fresh, sig };
        rows.set(m.id, entry);
        if (focused) {
          // keep keyboard focus on the same action across a re-render
          const again = [...fresh.querySelectorAll("button")].find(
            (b) => b.textContent === focused,
          );
          (again ?? fresh.querySelector("button"))?.focus();
        }
      }
      seen.add(m.id);
      ordered.push(entry.row);
    }
    for (const id of [...rows.keys()]) if (!seen.has(id)) rows.delete(id);
    const current = [...list.children];
    if (current.length !== ordered.length || ordered.some((row, i) => current[i] !== row)) {
      list.replaceChildren(...ordered);
    }
    count.textContent = `${visible.length} of ${models.length} models`;
  }

  const events = [
    "change:models",
    "change:downloads",
    "change:connection",
    "change:error",
    "change:_busy",
    "change:_row_errors",
    "change:_details",
  ];
  for (const event of events) model.on(event, schedule);
  filter.addEventListener("input", schedule);
  cloud.addEventListener("change", schedule);
  draw();
  return () => {
    for (const event of events) model.off(event, schedule);
    if (frame) cancelAnimationFrame(frame);
    root.remove();
  };
}

export default { render };
