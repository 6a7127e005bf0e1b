// @ts-check
/**
 * The header: the one connection banner, the disk and memory summary with Unload all, the list
 * controls (filter, cloud toggle, sort, group, refresh) and the Add model form. Created once per
 * view and patched; inputs the user types into are never written from the model.
 */
import { actionButton, el, setAttr, setHidden, setText } from "./dom.js";
import { keepUnits } from "./format.js";

/** @typedef {import("./types.js").Connection} Connection */
/** @typedef {import("./types.js").ViewPrefs} ViewPrefs */
/** @typedef {import("./types.js").AddState} AddState */
/** @typedef {import("./types.js").Runtime} Runtime */

/** Runtime states in which local models cannot download or load. */
const RUNTIME_BLOCKS = new Set(["missing", "update-required", "installing", "failed"]);

/**
 * Why local models' Download and Load are off ("" when they are not): the runtime's own words.
 * @param {Partial<Runtime> | undefined} r
 */
export function runtimeBlock(r) {
  if (!r?.state || !RUNTIME_BLOCKS.has(r.state)) return "";
  return r.message || "Local models need Ollama, which Pieces OS has not installed yet.";
}

export const SORTS = /** @type {const} */ ([
  ["name", "Name"],
  ["size", "Size (largest first)"],
  ["ram", "RAM (largest first)"],
  ["state", "State"],
]);

/**
 * What the banner says: the Python side's own words when it sent some.
 * @param {Partial<Connection>} c
 */
export function connectionText(c) {
  if (c.message) return c.message;
  switch (c.state) {
    case "connected":
      return ["Connected to Pieces OS", c.version, c.base_url && `at ${c.base_url}`]
        .filter(Boolean)
        .join(" ");
    case "unreachable":
      return `Can't reach Pieces OS${c.base_url ? ` at ${c.base_url}` : ""}. Is it running?`;
    case "error":
      return "Pieces OS answered with an error.";
    default:
      return "Connecting to Pieces OS…";
  }
}

/** @param {string} text @param {HTMLElement} control */
function labelled(text, control) {
  const label = el("label", "pw-field", text);
  label.append(control);
  return label;
}

/** A checkbox with its label after it. @param {string} text @param {HTMLInputElement} box */
function checkbox(text, box) {
  const label = el("label", "pw-field pw-check");
  label.append(box, text);
  return label;
}

/**
 * Controls that belong together, kept on one line while it has room (the header wraps whole
 * groups, not single controls). @param {string} name @param {HTMLElement[]} controls
 */
function controlGroup(name, ...controls) {
  const g = el("div", "pw-control-group");
  g.setAttribute("role", "group");
  g.setAttribute("aria-label", name);
  g.append(...controls);
  return g;
}

export function createHeader() {
  const header = el("div", "pw-header");

  const banner = el("div", "pieces-connection");
  banner.setAttribute("role", "status");
  banner.dataset.state = "connecting";
  const bannerText = el("span", "pw-banner-text");
  const retry = actionButton("refresh", "Retry", "Retry connecting to Pieces OS");
  retry.hidden = true;
  banner.append(bannerText, retry);

  const summaryLine = el("div", "pw-summary-line");
  const summary = el("span", "pw-summary");
  // always there (the header keeps its height, a focused button its focus), aria-disabled while
  // nothing is loaded
  const unloadAll = actionButton("unload_all", "Unload all", "Unload all models");
  unloadAll.setAttribute("aria-disabled", "true");
  summaryLine.append(summary, unloadAll);

  const controls = el("div", "pw-controls");
  const filter = el("input", "pw-filter");
  filter.type = "search";
  filter.placeholder = "Filter: name, provider, loaded…";
  filter.setAttribute("aria-label", "Filter models");
  filter.dataset.control = "filter";
  const cloud = el("input");
  cloud.type = "checkbox";
  cloud.checked = true;
  cloud.dataset.control = "cloud";
  const sort = el("select", "pw-sort");
  sort.dataset.control = "sort";
  for (const [value, text] of SORTS) {
    const option = el("option", "", text);
    option.value = value;
    sort.append(option);
  }
  const group = el("input");
  group.type = "checkbox";
  group.dataset.control = "group";
  const local = el("input");
  local.type = "checkbox";
  local.dataset.control = "local";
  const refresh = actionButton("refresh", "Refresh", "Refresh the model list");
  const addToggle = actionButton("toggle-add", "Add model", "Add a model from a URL");
  addToggle.setAttribute("aria-expanded", "false");
  addToggle.hidden = true;
  controls.append(
    filter,
    controlGroup(
      "Which models",
      checkbox("On this device only", local),
      checkbox("Show cloud models", cloud),
    ),
    controlGroup("Order", labelled("Sort", sort), checkbox("Group by state", group)),
    controlGroup("List", refresh, addToggle),
  );

  const add = el("form", "pw-add");
  add.dataset.form = "add";
  add.hidden = true;
  add.setAttribute("aria-label", "Add a model");
  const addName = el("input");
  addName.name = "name";
  addName.required = true;
  addName.autocomplete = "off";
  const addUrl = el("input");
  addUrl.name = "url";
  addUrl.type = "url";
  addUrl.required = true;
  addUrl.placeholder = "https://…/model.gguf";
  const addSha = el("input");
  addSha.name = "sha256";
  addSha.pattern = "[0-9a-fA-F]{64}";
  addSha.autocomplete = "off";
  const addSubmit = el("button", "pw-button", "Add");
  addSubmit.type = "submit";
  const addStatus = el("span", "pw-add-status");
  addStatus.setAttribute("role", "status");
  const addError = el("div", "pw-alert");
  addError.setAttribute("role", "alert");
  addError.hidden = true;
  add.append(
    labelled("Name", addName),
    labelled("URL", addUrl),
    labelled("SHA-256 (optional)", addSha),
    addSubmit,
    actionButton("close-add", "Close", "Close the Add model form"),
    addStatus,
    addError,
  );

  // The runtime notice: shown only while local models cannot run (Ollama missing, installing...)
  const runtime = el("div", "pw-runtime");
  runtime.setAttribute("role", "status");
  runtime.hidden = true;
  const runtimeText = el("span", "pw-runtime-text");
  const install = actionButton(
    "install_runtime",
    "Install Ollama",
    "Install Ollama through Pieces OS",
  );
  runtime.append(runtimeText, install);

  header.append(banner, runtime, summaryLine, controls, add);
  return {
    el: header,
    banner,
    bannerText,
    retry,
    runtime,
    runtimeText,
    install,
    summary,
    unloadAll,
    filter,
    cloud,
    local,
    sort,
    group,
    addToggle,
    add,
    addFields: { name: addName, url: addUrl, sha256: addSha },
    addSubmit,
    addStatus,
    addError,
  };
}

/** @typedef {ReturnType<typeof createHeader>} Header */

/** The runtime notice's button. @param {string} offer "install" | "update" @param {boolean} failed */
export function runtimeButton(offer, failed) {
  if (offer === "update") return failed ? "Retry update" : "Update Ollama";
  return failed ? "Retry install" : "Install Ollama";
}

/** What the banner says once the widget's kernel restarted: its Python side is gone. */
export const KERNEL_GONE = "This widget's kernel restarted: run the cell again";

/**
 * @param {Header} h @param {Partial<Connection>} c
 * @param {boolean} [kernelGone] the kernel restarted: the banner says that, and only that
 */
export function patchBanner(h, c, kernelGone = false) {
  const state = c.state ?? "connecting";
  if (h.banner.dataset.state !== state) h.banner.dataset.state = state;
  setAttr(h.banner, "data-kernel", kernelGone ? "gone" : null);
  setText(h.bannerText, kernelGone ? KERNEL_GONE : connectionText(c));
  setHidden(h.retry, kernelGone || (state !== "unreachable" && state !== "error"));
}

/**
 * The runtime notice: what is wrong and why, one line, with Install (or Retry after a failed
 * install, or Update) while Pieces OS can do it; the install's progress in place.
 * @param {Header} h @param {Partial<Runtime>} r @param {boolean} offline
 */
export function patchRuntime(h, r, offline) {
  const why = runtimeBlock(r);
  setHidden(h.runtime, !why);
  if (h.runtime.dataset.state !== (r.state ?? "none")) h.runtime.dataset.state = r.state ?? "none";
  setText(h.runtimeText, why);
  // what Pieces OS can do about it, as the Python side says (an older one sent no offer)
  const offer = r.offer ?? (r.state === "missing" || r.state === "failed" ? "install" : "");
  setHidden(h.install, !offer || !why);
  const label = runtimeButton(offer, r.state === "failed");
  setText(h.install, label);
  setAttr(h.install, "aria-label", `${label} through Pieces OS`);
  if (h.install.disabled !== offline) h.install.disabled = offline;
}

/** @param {Header} h @param {{ text: string, loaded: number }} s @param {boolean} offline */
export function patchSummary(h, s, offline) {
  const text = keepUnits(s.text);
  if (h.summary.textContent !== text) {
    // each part on one line where it fits ("Memory: 1 model loaded, 33.6 MB of 25.3 GB"); a
    // narrow widget puts each on its own line, without the separators, and a part wider than
    // the line breaks between words, never between a number and its unit
    const parts = text.split(" · ");
    h.summary.replaceChildren(
      ...parts.flatMap((p, i) => [
        ...(i ? [el("span", "pw-sep", " · ")] : []),
        el("span", "pw-meta-part", p),
      ]),
    );
  }
  setAttr(h.unloadAll, "aria-disabled", s.loaded === 0 ? "true" : null);
  if (h.unloadAll.disabled !== offline) h.unloadAll.disabled = offline;
}

/** @param {Header} h @param {ViewPrefs} prefs */
export function patchControls(h, prefs) {
  if (h.sort.value !== prefs.sort) h.sort.value = prefs.sort;
  if (h.group.checked !== prefs.group) h.group.checked = prefs.group;
}

/**
 * @param {Header} h @param {boolean} available the server accepts sources
 * @param {boolean} open @param {AddState} state @param {boolean} offline
 */
export function patchAdd(h, available, open, state, offline) {
  setHidden(h.addToggle, !available);
  setAttr(h.addToggle, "aria-expanded", String(available && open));
  setHidden(h.add, !(available && open));
  const blocked = offline || Boolean(state.busy);
  if (h.addSubmit.disabled !== blocked) h.addSubmit.disabled = blocked;
  setText(h.addStatus, state.busy ? "Adding…" : "");
  setText(h.addError, state.error || "");
  setHidden(h.addError, !state.error);
}

/** @param {Header} h */
export function addFormValues(h) {
  const { name, url, sha256 } = h.addFields;
  return { name: name.value.trim(), url: url.value.trim(), sha256: sha256.value.trim() };
}

/** @param {Header} h */
export function clearAddForm(h) {
  for (const input of Object.values(h.addFields)) input.value = "";
}
