// @ts-check
/**
 * Whether a row needs a patch: its signature, built from every row input (an input added to
 * RowInputs takes part without a change here), and its Model JSON.
 */
import { fitCheck } from "./fit.js";

/** @typedef {import("./types.js").ModelJson} ModelJson */
/** @typedef {import("./state.js").RowInputs} RowInputs */

/** @type {WeakMap<object, string>} */
const keys = new WeakMap();

/**
 * A value as a string; an object as its JSON, once per object (a re-sent list brings new
 * objects, and each tick compares a download entry twice). Every field counts.
 * @param {unknown} v
 */
export function keyOf(v) {
  if (v === null || v === undefined) return "";
  if (typeof v !== "object") return String(v);
  let key = keys.get(v);
  if (key === undefined) {
    key = JSON.stringify(v);
    keys.set(v, key);
  }
  return key;
}

/**
 * Whether a row drawn from Model JSON `before` needs no patch for `after`: the same object, or
 * the same JSON (a re-sent list brings new objects; only the changed models are patched).
 * @param {ModelJson | null} before @param {ModelJson} after
 */
export function sameModel(before, after) {
  return before === after || (before !== null && keyOf(before) === keyOf(after));
}

/**
 * Inputs that count by what the row draws from them, not by their whole value: a pending
 * command by its action and waiting (not its timers); the machine's resources by the model's
 * fit (a health poll that changes free RAM patches no row whose fit stays).
 * @type {Record<string, (v: any, m: ModelJson) => string>}
 */
const KEYS = {
  pending: (p) => (p ? `${p.action}${+p.waiting}` : ""),
  resources: (r, m) => fitCheck(m, r).hint,
};

/**
 * A row's signature from its inputs: equal signatures (and the same model) draw the same row.
 * @param {ModelJson} m @param {RowInputs} inputs
 */
export function rowSig(m, inputs) {
  return Object.entries(inputs)
    .map(([name, v]) => `${name}=${(KEYS[name] ?? keyOf)(v, m)}`)
    .join("\u0001");
}

/**
 * Ids whose entry differs between two `{id: value}` traits.
 * @param {Record<string, unknown>} before @param {Record<string, unknown>} after
 * @param {Set<string>} into @param {(v: any) => unknown} [key]
 */
export function changedKeys(before, after, into, key = (v) => v) {
  for (const id in after) if (key(before[id]) !== key(after[id])) into.add(id);
  for (const id in before) if (!(id in after)) into.add(id);
}
