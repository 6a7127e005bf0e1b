// @ts-check
/**
 * Human labels for the spec's enum tokens (ModelFoundationEnum, ExternalMLProviderEnum,
 * ModelTypeEnum, ModelUsageEnum): "LLAMA_3_8B" -> "Llama 3 8B", "HUGGING_FACE" -> "Hugging Face".
 * Known words come from tables; an unknown token still reads as words, never as UPPER_CASE.
 */

/** How families and words are written by the people who make them. */
const WORDS = /** @type {Record<string, string>} */ ({
  ALPACA: "Alpaca",
  AZURE: "Azure",
  BARD: "Bard",
  BISON: "Bison",
  CHAT: "Chat",
  CLAUDE: "Claude",
  CODE: "Code",
  CODECHAT: "Codechat",
  CODEGEMMA: "CodeGemma",
  CODER: "Coder",
  CODESTRAL: "Codestral",
  COMMAND: "Command",
  DBRX: "DBRX",
  DEEPSEEK: "DeepSeek",
  DISTILROBERTA: "DistilRoBERTa",
  DOLLY: "Dolly",
  FASTTEXT: "fastText",
  GECKO: "Gecko",
  GEMINI: "Gemini",
  GEMMA: "Gemma",
  GORILLA: "Gorilla",
  GPT: "GPT",
  GRANITE: "Granite",
  GROK: "Grok",
  GUANACO: "Guanaco",
  LLAMA: "Llama",
  LLAVA: "LLaVA",
  MINI: "Mini",
  MISTRAL: "Mistral",
  MIXTRAL: "Mixtral",
  MOSS: "MOSS",
  OPENLLAMA: "OpenLLaMA",
  ORCA: "Orca",
  PERPLEXITY: "Perplexity",
  PHI: "Phi",
  PYTHIA: "Pythia",
  QWEN: "Qwen",
  QWQ: "QwQ",
  RECURRENTGEMMA: "RecurrentGemma",
  REDPAJAMA: "RedPajama",
  RWKVLM: "RWKV-LM",
  SANTACODER: "SantaCoder",
  SMALL: "Small",
  STARCODER: "StarCoder",
  STARLING: "Starling",
  T5: "T5",
  TEXT: "Text",
  TEXTEMBEDDING: "Text Embedding",
  TINYLLAMA: "TinyLlama",
  UNIXCODER: "UniXcoder",
  UNKNOWN: "Unknown",
  VICUNA: "Vicuna",
  WIZARD: "Wizard",
  WIZARDCODER: "WizardCoder",
  WIZARDLM: "WizardLM",
  YULANCHAT: "YuLan-Chat",
  ZEPHYR: "Zephyr",
});

/** Multi-word names written as one word (and the spec's "RMKV", which is RWKV). */
const JOINED = /** @type {[RegExp, string][]} */ ([
  [/^CODE_GEMMA/, "CODEGEMMA"],
  [/^RECURRENT_GEMMA/, "RECURRENTGEMMA"],
  [/^FAST_TEXT/, "FASTTEXT"],
  [/^RMKV_LM/, "RWKVLM"],
]);

/** Families whose version joins with a hyphen: GPT-4, Phi-3, Grok-1. */
const HYPHENATED = new Set(["GPT", "Phi", "Grok"]);

/** Trailing qualifiers of the "latest" aliases: CLAUDE_LATEST -> "Claude (latest)". */
const QUALIFIERS = new Set(["LATEST", "FAST", "BEST", "DEFAULT", "CUSTOM"]);

const PROVIDERS = /** @type {Record<string, string>} */ ({
  AMAZON: "Amazon",
  ANTHROPIC: "Anthropic",
  APPLE: "Apple",
  BIGCODE: "BigCode",
  BLICKDL: "BlinkDL",
  DATABRICKS: "Databricks",
  ELEUTHER_AI: "EleutherAI",
  FUDAN_UNIVERSITY: "Fudan University",
  GOOGLE: "Google",
  HONG_KONG_BAPTIST_UNIVERSITY: "Hong Kong Baptist University",
  HUGGING_FACE: "Hugging Face",
  IBM: "IBM",
  JINA: "Jina AI",
  LMSYS: "LMSYS",
  META: "Meta",
  MICROSOFT: "Microsoft",
  OPENAI: "OpenAI",
  OPEN_LM_RESEARCH: "OpenLM Research",
  PEKING_UNIVERSITY: "Peking University",
  PERPLEXITY: "Perplexity",
  PIECES: "Pieces",
  RENMIN_UNIVERSITY_OF_CHINA: "Renmin University of China",
  SALESFORCE: "Salesforce",
  SNOWFLAKE: "Snowflake",
  TOGETHER_AI: "Together AI",
  UC_BERKLEY: "UC Berkeley",
  UNIVERSITY_OF_WASHINGTON: "University of Washington",
  UNKNOWN: "Unknown",
});

/** Abbreviations that stay upper case in the fallback. */
const ACRONYMS = new Set(["AI", "API", "CPU", "GPU", "IBM", "LLM", "LM", "ML", "OCR", "TLP", "UC"]);
const SMALL_WORDS = new Set(["AND", "FOR", "OF", "THE", "VS"]);

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
  for (const [pattern, joined] of JOINED) t = t.replace(pattern, joined);
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
    } else {
      out.push(WORDS[upper] ?? (/^[\d.]+[A-Z]?$/.test(upper) ? upper : humanize(w)));
    }
  }
  return out.join(" ");
}

/** @param {string | null | undefined} token "HUGGING_FACE" -> "Hugging Face" */
export function providerLabel(token) {
  if (!token) return "";
  return PROVIDERS[token.toUpperCase()] ?? humanize(token);
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
