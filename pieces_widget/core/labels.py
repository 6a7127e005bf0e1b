"""Words for people: the spec's enum tokens as their makers write them ("LLAMA_3_8B" ->
"Llama 3 8B", "HUGGING_FACE" -> "Hugging Face") and a model's state ("On device · Loaded").

The one source of these words: the tables below are written into ``js/src/labels.gen.js``
(``widget/labels_js.py``, ``make wire``), and ``js/src/labels.js`` runs the same rules on them.
``tests/cases/labels.json`` and ``tests/cases/state_words.json`` are checked on both sides.
Known words come from tables; an unknown token still reads as words, never as UPPER_CASE.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .numbers import kept_percent, readable_percent

if TYPE_CHECKING:
    from .models import Model

# How families and words are written by the people who make them.
WORDS = {
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
    "ZEPHYR": "Zephyr",
}

# Multi-word names written as one word, by the token's start (and the spec's "RMKV", which is
# RWKV).
JOINED = (
    ("CODE_GEMMA", "CODEGEMMA"),
    ("RECURRENT_GEMMA", "RECURRENTGEMMA"),
    ("FAST_TEXT", "FASTTEXT"),
    ("RMKV_LM", "RWKVLM"),
)

# Families whose version joins with a hyphen: GPT-4, Phi-3, Grok-1.
HYPHENATED = ("GPT", "Phi", "Grok")

# Trailing qualifiers of the "latest" aliases: CLAUDE_LATEST -> "Claude (latest)".
QUALIFIERS = ("LATEST", "FAST", "BEST", "DEFAULT", "CUSTOM")

PROVIDERS = {
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
    "UNKNOWN": "Unknown",
}

# Abbreviations that stay upper case in the fallback, and words that stay lower case in it.
ACRONYMS = ("AI", "API", "CPU", "GPU", "IBM", "LLM", "LM", "ML", "OCR", "TLP", "UC")
SMALL_WORDS = ("AND", "FOR", "OF", "THE", "VS")

# What a model's state is called (the badges, the Details "State", the CLI, the reprs).
STATE = {
    "cloud": "Cloud",
    "on_device": "On device",
    "downloading": "Downloading",
    "partial": "Partly downloaded",
    "absent": "Not downloaded",
    "loaded": "Loaded",
    "custom": "Custom",
}
STATE_SEPARATOR = " · "

# JavaScript's \d and \s: ASCII digits; the rules below must read a token as labels.js does.
_DIGIT = re.compile(r"[0-9]")
_VERSION = re.compile(r"[0-9.]+[A-Z]?")
_MLC = re.compile(r"q([0-9]+)f[0-9]+(?:_[0-9]+)?", re.IGNORECASE)
_ENUM_LIKE = re.compile(r"[A-Z]{2,}_[A-Z]")


def _starts_with_digit(word: str) -> bool:
    return _DIGIT.match(word) is not None


def _title_word(word: str) -> str:
    if word in ACRONYMS:
        return word
    if _starts_with_digit(word):
        return word.upper()  # 7B, 1.5, 70M
    return word[0] + word[1:].lower()


def humanize(token: str, sentence: bool = False) -> str:
    """The fallback for any enum token: words in title case ("NEW_LAB" -> "New Lab"); with
    ``sentence``, sentence case ("CODE_GENERATION" -> "Code generation")."""
    out = []
    for i, word in enumerate(w for w in re.split(r"[_\s]+", token) if w):
        upper = word.upper()
        if word != upper:
            out.append(word)  # already mixed case: written by a person
        elif i > 0 and upper in SMALL_WORDS:
            out.append(upper.lower())
        elif sentence and i > 0 and upper not in ACRONYMS and not _starts_with_digit(word):
            out.append(word.lower())
        else:
            out.append(_title_word(upper))
    return " ".join(out)


def foundation_label(token: str | None) -> str:
    """A foundation model as people write it: "PHI_3_MINI" -> "Phi-3 Mini",
    "MIXTRAL_8_x_7B" -> "Mixtral 8x7B", "GPT_LATEST" -> "GPT (latest)"."""
    if not token:
        return ""
    for prefix, joined in JOINED:
        if token.startswith(prefix):
            token = joined + token[len(prefix) :]
    words = [w for w in token.split("_") if w]
    out: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        upper = word.upper()
        prev = out[-1] if out else ""
        if 0 < i == len(words) - 1 and upper in QUALIFIERS:
            out.append(f"({upper.lower()})")
        elif word == "x" and _starts_with_digit(prev) and i + 1 < len(words):
            out[-1] = f"{prev}x{words[i + 1].upper()}"  # 8_x_7B -> 8x7B
            i += 1
        elif prev in HYPHENATED and _starts_with_digit(word):
            out[-1] = f"{prev}-{upper}"
        elif upper in WORDS:
            out.append(WORDS[upper])
        else:
            out.append(upper if _VERSION.fullmatch(upper) else humanize(word))
        i += 1
    return " ".join(out)


def provider_label(token: str | None) -> str:
    """ "HUGGING_FACE" -> "Hugging Face"."""
    if not token:
        return ""
    return PROVIDERS.get(token.upper()) or humanize(token)


def quantization_label(value: str | None) -> str:
    """Quantization as people write it: MLC's "q4f16_1" -> "4-bit (q4f16_1)"; GGUF names such
    as "Q4_K_M" stay; an enum-like token reads as words."""
    if not value:
        return ""
    mlc = _MLC.fullmatch(value)
    if mlc:
        return f"{mlc.group(1)}-bit ({value})"
    if re.match(r"[qQ][0-9]|[A-Z]?[0-9]", value):
        return value
    return humanize(value) if _ENUM_LIKE.search(value) else value


def enum_label(token: str | None) -> str:
    """ModelTypeEnum / ModelUsageEnum in sentence case: "CODE_GENERATION" -> "Code generation"."""
    return humanize(token, sentence=True) if token else ""


def state_words(model: Model, activity: str | None = None) -> list[str]:
    """A model's state in words: where its weights are ("Cloud", "On device", "Downloading",
    "Partly downloaded (28 %)", "Not downloaded"), then "Loaded" and "Custom" when they apply.

    ``activity`` is what a running download is doing now as a word ("Starting", "Stalled",
    "Downloading"), "" when none runs; None reads it from the model (``downloading``). The
    widget's badges and Details say these words (js/src/labels.js stateWords)."""
    words = []
    if model.cloud:
        words.append(STATE["cloud"])
    elif activity or (activity is None and model.downloading):
        words.append(activity or STATE["downloading"])
    elif model.downloaded:
        words.append(STATE["on_device"])
    elif model.partial_bytes:
        kept = kept_percent(model.partial_bytes, model.bytes)
        words.append(STATE["partial"] + ("" if kept is None else f" ({readable_percent(kept)})"))
    else:
        words.append(STATE["absent"])
    if model.loaded:
        words.append(STATE["loaded"])
    if model.custom:
        words.append(STATE["custom"])
    return words


def state_text(model: Model, activity: str | None = None) -> str:
    """``state_words`` in one line: "On device · Loaded · Custom"."""
    return STATE_SEPARATOR.join(state_words(model, activity))
