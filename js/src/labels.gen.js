// @ts-check
// Generated from pieces_widget/core/labels.py by
// `python -m pieces_widget.widget.labels_js js/src/labels.gen.js`: do not edit.

export const WORDS = /** @type {Record<string, string>} */ ({
  "ALPACA": "Alpaca",
  "AZURE": "Azure",
  "BARD": "Bard",
  "BISON": "Bison",
  "CHAT": "Chat",
  "CLAUDE": "Claude",
  "CODE": "Code",
  "CODECHAT": "Codechat",
  "CODEGEMMA": "CodeGemma",
  "CODER": "Coder",
  "CODESTRAL": "Codestral",
  "COMMAND": "Command",
  "DBRX": "DBRX",
  "DEEPSEEK": "DeepSeek",
  "DISTILROBERTA": "DistilRoBERTa",
  "DOLLY": "Dolly",
  "FASTTEXT": "fastText",
  "GECKO": "Gecko",
  "GEMINI": "Gemini",
  "GEMMA": "Gemma",
  "GORILLA": "Gorilla",
  "GPT": "GPT",
  "GRANITE": "Granite",
  "GROK": "Grok",
  "GUANACO": "Guanaco",
  "LLAMA": "Llama",
  "LLAVA": "LLaVA",
  "MINI": "Mini",
  "MISTRAL": "Mistral",
  "MIXTRAL": "Mixtral",
  "MOSS": "MOSS",
  "OPENLLAMA": "OpenLLaMA",
  "ORCA": "Orca",
  "PERPLEXITY": "Perplexity",
  "PHI": "Phi",
  "PYTHIA": "Pythia",
  "QWEN": "Qwen",
  "QWQ": "QwQ",
  "RECURRENTGEMMA": "RecurrentGemma",
  "REDPAJAMA": "RedPajama",
  "RWKVLM": "RWKV-LM",
  "SANTACODER": "SantaCoder",
  "SMALL": "Small",
  "STARCODER": "StarCoder",
  "STARLING": "Starling",
  "T5": "T5",
  "TEXT": "Text",
  "TEXTEMBEDDING": "Text Embedding",
  "TINYLLAMA": "TinyLlama",
  "UNIXCODER": "UniXcoder",
  "UNKNOWN": "Unknown",
  "VICUNA": "Vicuna",
  "WIZARD": "Wizard",
  "WIZARDCODER": "WizardCoder",
  "WIZARDLM": "WizardLM",
  "YULANCHAT": "YuLan-Chat",
  "ZEPHYR": "Zephyr"
});
export const JOINED = /** @type {[string, string][]} */ ([
  [
    "CODE_GEMMA",
    "CODEGEMMA"
  ],
  [
    "RECURRENT_GEMMA",
    "RECURRENTGEMMA"
  ],
  [
    "FAST_TEXT",
    "FASTTEXT"
  ],
  [
    "RMKV_LM",
    "RWKVLM"
  ]
]);
export const HYPHENATED = /** @type {string[]} */ ([
  "GPT",
  "Phi",
  "Grok"
]);
export const QUALIFIERS = /** @type {string[]} */ ([
  "LATEST",
  "FAST",
  "BEST",
  "DEFAULT",
  "CUSTOM"
]);
export const PROVIDERS = /** @type {Record<string, string>} */ ({
  "AMAZON": "Amazon",
  "ANTHROPIC": "Anthropic",
  "APPLE": "Apple",
  "BIGCODE": "BigCode",
  "BLICKDL": "BlinkDL",
  "DATABRICKS": "Databricks",
  "ELEUTHER_AI": "EleutherAI",
  "FUDAN_UNIVERSITY": "Fudan University",
  "GOOGLE": "Google",
  "HONG_KONG_BAPTIST_UNIVERSITY": "Hong Kong Baptist University",
  "HUGGING_FACE": "Hugging Face",
  "IBM": "IBM",
  "JINA": "Jina AI",
  "LMSYS": "LMSYS",
  "META": "Meta",
  "MICROSOFT": "Microsoft",
  "OPENAI": "OpenAI",
  "OPEN_LM_RESEARCH": "OpenLM Research",
  "PEKING_UNIVERSITY": "Peking University",
  "PERPLEXITY": "Perplexity",
  "PIECES": "Pieces",
  "RENMIN_UNIVERSITY_OF_CHINA": "Renmin University of China",
  "SALESFORCE": "Salesforce",
  "SNOWFLAKE": "Snowflake",
  "TOGETHER_AI": "Together AI",
  "UC_BERKLEY": "UC Berkeley",
  "UNIVERSITY_OF_WASHINGTON": "University of Washington",
  "UNKNOWN": "Unknown"
});
export const ACRONYMS = /** @type {string[]} */ ([
  "AI",
  "API",
  "CPU",
  "GPU",
  "IBM",
  "LLM",
  "LM",
  "ML",
  "OCR",
  "TLP",
  "UC"
]);
export const SMALL_WORDS = /** @type {string[]} */ ([
  "AND",
  "FOR",
  "OF",
  "THE",
  "VS"
]);
export const STATE = /** @type {Record<string, string>} */ ({
  "cloud": "Cloud",
  "on_device": "On device",
  "downloading": "Downloading",
  "partial": "Partly downloaded",
  "absent": "Not downloaded",
  "loaded": "Loaded",
  "custom": "Custom"
});
export const STATE_SEPARATOR = /** @type {string} */ (" · ");
