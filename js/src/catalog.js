// @ts-check
/**
 * The model list as the views need it: an index by id with search text and sort keys, built
 * once per `models` value (memoized on the array, so every view of a widget shares it), and the
 * filtered, sorted, grouped order of the rows.
 */
import { foundationLabel, providerLabel, quantizationLabel } from "./labels.js";
import { displayName } from "./meta.js";

/** @typedef {import("./types.js").ModelJson} ModelJson */
/** @typedef {import("./types.js").ViewPrefs} ViewPrefs */

/**
 * @typedef {{ model: ModelJson, id: string, name: string, nameKey: string, search: string,
 *   size: number, ram: number }} Entry
 * @typedef {{ entries: Entry[], byId: Map<string, Entry> }} Catalog
 * @typedef {{ title: string | null, ids: string[] }} Section
 */

/** @type {WeakMap<ModelJson[], Catalog>} */
const cache = new WeakMap();

/**
 * A key that sorts names as people expect with a plain string compare (far cheaper than a
 * collator over 1,000 rows): case and accents folded, numbers by value ("Model 2" < "Model 10").
 * @param {string} name
 */
function nameKey(name) {
  return name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/\d+/g, (digits) => digits.padStart(12, "0"));
}

/** @param {ModelJson[]} models */
export function catalogOf(models) {
  let catalog = cache.get(models);
  if (!catalog) {
    /** @type {Map<string, Entry>} */
    const byId = new Map();
    for (const model of models) {
      if (!model || typeof model.id !== "string" || byId.has(model.id)) continue;
      const name = displayName(model);
      const search = [
        name,
        model.id,
        model.foundation,
        foundationLabel(model.foundation),
        model.provider,
        providerLabel(model.provider),
        model.quantization,
        quantizationLabel(model.quantization),
        model.custom ? "custom" : "",
      ]
        .filter(Boolean)
        .join("\n")
        .toLowerCase();
      byId.set(model.id, {
        model,
        id: model.id,
        name,
        nameKey: nameKey(name),
        search,
        size: model.bytes?.value ?? -1,
        ram: model.ram?.value ?? -1,
      });
    }
    catalog = { entries: [...byId.values()], byId };
    cache.set(models, catalog);
  }
  return catalog;
}

/** @param {ModelJson} m */
export function groupOf(m) {
  if (m.cloud) return "Cloud";
  return m.downloaded ? "On device" : "Available";
}

export const GROUPS = ["On device", "Available", "Cloud"];

/**
 * Loaded first, then downloading, on device, available, cloud.
 * @param {ModelJson} m @param {Set<string>} active ids with a download running
 */
function stateRank(m, active) {
  if (m.loaded) return 0;
  if (active.has(m.id)) return 1;
  if (m.cloud) return 4;
  return m.downloaded ? 2 : 3;
}

/**
 * The words a model's state answers to in the filter: "loaded", "downloading", "on device"...
 * @param {ModelJson} m @param {Set<string>} active
 */
function stateWords(m, active) {
  const words = [m.cloud ? "cloud" : m.downloaded ? "on device downloaded" : "available"];
  if (m.loaded) words.push("loaded");
  if (active.has(m.id)) words.push("downloading");
  if (!m.downloaded && (m.partialBytes ?? 0) > 0) words.push("partial");
  return words.join(" ");
}

/**
 * The rows to show, in order: filtered by `query` (every word must match the name, id,
 * foundation, provider, quantization or state: "llama loaded") and the cloud and "on this
 * device only" toggles, sorted by prefs.sort (sizes and RAM biggest first, ties by name), in
 * sections when prefs.group.
 * @param {Catalog} catalog
 * @param {{ query: string, showCloud: boolean, prefs: ViewPrefs, active: Set<string>,
 *   localOnly?: boolean }} opts
 * @returns {{ sections: Section[], count: number }}
 */
export function orderRows(catalog, { query, showCloud, prefs, active, localOnly = false }) {
  const words = query.trim().toLowerCase().split(/\s+/).filter(Boolean);
  const matches = (/** @type {Entry} */ e) => {
    if (!words.length) return true;
    // a word matches inside the name, id, family...; a state word only from its start
    // ("loaded" is not in "downloaded"; "down" finds downloaded and downloading)
    const states = stateWords(e.model, active).split(" ");
    return words.every((w) => e.search.includes(w) || states.some((s) => s.startsWith(w)));
  };
  const visible = catalog.entries.filter(
    (e) =>
      (showCloud || !e.model.cloud) &&
      (!localOnly || e.model.downloaded || e.model.loaded) &&
      matches(e),
  );
  /** @type {(a: Entry, b: Entry) => number} */
  const byName = (a, b) => (a.nameKey < b.nameKey ? -1 : a.nameKey > b.nameKey ? 1 : 0);
  /** @type {Record<string, (a: Entry, b: Entry) => number>} */
  const compare = {
    name: byName,
    size: (a, b) => b.size - a.size || byName(a, b),
    ram: (a, b) => b.ram - a.ram || byName(a, b),
    state: (a, b) => stateRank(a.model, active) - stateRank(b.model, active) || byName(a, b),
  };
  visible.sort(compare[prefs.sort] ?? byName);
  if (!prefs.group)
    return { sections: [{ title: null, ids: visible.map((e) => e.id) }], count: visible.length };
  const sections = GROUPS.map((title) => ({ title, ids: /** @type {string[]} */ ([]) }));
  for (const e of visible) sections[GROUPS.indexOf(groupOf(e.model))].ids.push(e.id);
  return { sections: sections.filter((s) => s.ids.length), count: visible.length };
}
