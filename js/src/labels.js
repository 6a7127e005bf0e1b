// @ts-check
/**
 * Human labels for the spec's enum tokens (ModelFoundationEnum, ExternalMLProviderEnum,
 * ModelTypeEnum, ModelUsageEnum): "LLAMA_3_8B" -> "Llama 3 8B", "HUGGING_FACE" -> "Hugging Face";
 * and a model's state in words ("On device · Loaded").
 * The tables come from pieces_widget/core/labels.py (labels.gen.js, `make wire`), which applies
 * the same rules for `pieces-models show` and the reprs; tests/cases/labels.json and
 * tests/cases/state_words.json are checked on both sides.
 * Known words come from tables; an unknown token still reads as words, never as UPPER_CASE.
 */
import { formatPercent, keptPercent } from "./format.js";
import * as gen from "./labels.gen.js";

/** @typedef {import("./types.js").ModelJson} ModelJson */

const { WORDS, JOINED, PROVIDERS, STATE, STATE_SEPARATOR } = gen;
/** Families whose version joins with a hyphen: GPT-4, Phi-3, Grok-1. */
const HYPHENATED = new Set(gen.HYPHENATED);
/** Trailing qualifiers of the "latest" aliases: CLAUDE_LATEST -> "Claude (latest)". */
const QUALIFIERS = new Set(gen.QUALIFIERS);
/** Abbreviations that stay upper case in the fallback. */
const ACRONYMS = new Set(gen.ACRONYMS);
const SMALL_WORDS = new Set(gen.SMALL_WORDS);

/** @param {string} word */
function titleWord(word) {
  if (ACRONYMS.has(word)) return word;
  if (/^\d/.test(word)) return word.toUpperCase(); // 7B, 1.5, 70M
  return word[0] + word.slice(1).toLowerCase();
}

/**
 * The fallback for any enum token: words in title case ("NEW_LAB" -> "New Lab").
 * @param {string} token
 * @param {boolean} [sentence] sentence case instead ("CODE_GENERATION" -> "Code generation")
 */
export function humanize(token, sentence = false) {
  const words = token.split(/[_\s]+/).filter(Boolean);
  return words
    .map((w, i) => {
      const upper = w.toUpperCase();
      if (w !== upper) return w; // already mixed case: written by a person
      if (i > 0 && SMALL_WORDS.has(upper)) return upper.toLowerCase();
      if (sentence && i > 0 && !ACRONYMS.has(upper) && !/^\d/.test(w)) return w.toLowerCase();
      return titleWord(upper);
    })
    .join(" ");
}

/**
 * A foundation model as people write it: "PHI_3_MINI" -> "Phi-3 Mini",
 * "MIXTRAL_8_x_7B" -> "Mixtral 8x7B", "GPT_LATEST" -> "GPT (latest)".
 * @param {string | null | undefined} token
 */
export function foundationLabel(token) {
  if (!token) return "";
  let label = foundationCache.get(token);
  if (label === undefined) {
    label = foundationWords(token);
    foundationCache.set(token, label);
  }
  return label;
}

/** @type {Map<string, string>} enum tokens repeat across 1,000 rows: label each once */
const foundationCache = new Map();

/** @param {string} token */
function foundationWords(token) {
  let t = token;
  for (const [prefix, joined] of JOINED)
    if (t.startsWith(prefix)) t = joined + t.slice(prefix.length);
  const words = t.split("_").filter(Boolean);
  /** @type {string[]} */
  const out = [];
  for (let i = 0; i < words.length; i += 1) {
    const w = words[i];
    const upper = w.toUpperCase();
    const prev = out[out.length - 1];
    if (i > 0 && i === words.length - 1 && QUALIFIERS.has(upper)) {
      out.push(`(${upper.toLowerCase()})`);
    } else if (w === "x" && /^\d/.test(prev ?? "") && i + 1 < words.length) {
      out[out.length - 1] = `${prev}x${words[i + 1].toUpperCase()}`; // 8_x_7B -> 8x7B
      i += 1;
    } else if (prev && HYPHENATED.has(prev) && /^\d/.test(w)) {
      out[out.length - 1] = `${prev}-${w.toUpperCase()}`;
    } else if (Object.hasOwn(WORDS, upper)) {
      out.push(WORDS[upper]);
    } else {
      out.push(/^[\d.]+[A-Z]?$/.test(upper) ? upper : humanize(w));
    }
  }
  return out.join(" ");
}

/** @param {string | null | undefined} token "HUGGING_FACE" -> "Hugging Face" */
export function providerLabel(token) {
  if (!token) return "";
  const upper = token.toUpperCase();
  return Object.hasOwn(PROVIDERS, upper) ? PROVIDERS[upper] : humanize(token);
}

/**
 * Quantization as people write it: MLC's "q4f16_1" -> "4-bit (q4f16_1)"; GGUF names such as
 * "Q4_K_M" stay; an enum-like token reads as words.
 * @param {string | null | undefined} value
 */
export function quantizationLabel(value) {
  if (!value) return "";
  const mlc = /^q(\d+)f\d+(?:_\d+)?$/i.exec(value);
  if (mlc) return `${mlc[1]}-bit (${value})`;
  if (/^[qQ]\d/.test(value) || /^[A-Z]?\d/.test(value)) return value;
  return /[A-Z]{2,}_[A-Z]/.test(value) ? humanize(value) : value;
}

/** @param {string | null | undefined} token ModelTypeEnum / ModelUsageEnum, sentence case */
export function enumLabel(token) {
  return token ? humanize(token, true) : "";
}

/**
 * A model's state in words: where its weights are ("Cloud", "On device", "Downloading",
 * "Partly downloaded (28 %)", "Not downloaded"), then "Loaded" and "Custom" when they apply.
 * `activity` is what a running download does now ("Starting", "Stalled", "Downloading"), ""
 * when none runs; undefined reads it from the model (`downloading`). Python's
 * core/labels.py state_words says the same (pieces-models, the reprs, Model's repr).
 * @param {ModelJson} m @param {string} [activity]
 * @returns {string[]}
 */
export function stateWords(m, activity) {
  /** @type {string[]} */
  const words = [];
  if (m.cloud) words.push(STATE.cloud);
  else if (activity || (activity === undefined && m.downloading))
    words.push(activity || STATE.downloading);
  else if (m.downloaded) words.push(STATE.on_device);
  else if ((m.partialBytes ?? 0) > 0) {
    const kept = keptPercent(m.partialBytes, m.bytes?.value);
    words.push(kept == null ? STATE.partial : `${STATE.partial} (${formatPercent(kept)})`);
  } else words.push(STATE.absent);
  if (m.loaded) words.push(STATE.loaded);
  if (m.custom) words.push(STATE.custom);
  return words;
}

/** `stateWords` in one line: "On device · Loaded · Custom". @param {ModelJson} m */
export function stateText(m) {
  return stateWords(m).join(STATE_SEPARATOR);
}

/**
 * The row's badges: the state words but the ones that say the weights are not here (the
 * main button says that: Download, Resume (46 %)).
 * @param {ModelJson} m @param {string} activity
 */
export function stateBadges(m, activity) {
  return stateWords(m, activity).filter((w) => w !== STATE.absent && !w.startsWith(STATE.partial));
}
