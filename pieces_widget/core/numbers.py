"""Numbers for people, said the same way everywhere (the widget, the CLI, the reprs, the
server's messages): sizes in decimal units and percentages.

``js/src/format.js`` has the same functions (formatBytes, formatPercent, keptPercent); both
sides are tested on the tables in ``tests/cases/`` so they cannot drift apart.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

_UNITS = ("B", "KB", "MB", "GB", "TB", "PB")


def readable_bytes(n: float) -> str:
    """``1536`` -> ``"1.5 KB"``, ``100_700_000`` -> ``"101 MB"``: decimal units, one decimal
    below 100 and none above, a trailing ``.0`` dropped (tests/cases/readable_bytes.json)."""
    value = float(n)
    unit = 0
    while abs(value) >= 1000 and unit < len(_UNITS) - 1:
        value /= 1000
        unit += 1
    # half away from zero on the exact value, as JavaScript's toFixed and Math.round do
    digits = 0 if unit == 0 or abs(value) >= 99.95 else 1
    text = str(Decimal(value).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP))
    return f"{text.removesuffix('.0')} {_UNITS[unit]}"


def readable_percent(pct: float) -> str:
    """``13.26`` -> ``"13.2 %"``, ``50`` -> ``"50 %"``: clamped to 0-100, one decimal, cut
    rather than rounded (a download at 99.96 % is not "100 %" yet), a trailing ``.0`` dropped
    (tests/cases/readable_percent.json); ``"?"`` for what is not a number."""
    if not math.isfinite(pct):
        return "?"
    p = min(100.0, max(0.0, float(pct)))
    tenths = math.floor(p * 10 + 1e-9)  # a hair under a tenth is float error
    whole, tenth = divmod(tenths, 10)
    return f"{whole} %" if tenth == 0 else f"{whole}.{tenth} %"


def kept_percent(partial: int | None, total: int | None) -> int | None:
    """The whole percent a stopped download keeps to resume from (floored, at most 99: a
    partial is never "100 %"); None when there is no partial or no size
    (tests/cases/kept_percent.json)."""
    if not partial or not total or partial <= 0 or total <= 0:
        return None
    # partial * 100 is exact, and one division is rounded once: 57 of 100 is 57, not 56.99...
    return min(99, math.floor(partial * 100 / total))


def _js_fixed(value: float, digits: int) -> str:
    """JavaScript's ``String(Number(value.toFixed(digits)))``: half away from zero on the exact
    value, a trailing ``.0`` dropped."""
    text = str(Decimal(value).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP))
    return text.rstrip("0").rstrip(".") if "." in text else text


def readable_parameters(billions: float | None, unit: str = "B params") -> str:
    """The spec's ``parameters`` (billions): 3.8 -> "3.8 B params"; with ``unit`` "billion"
    (a labelled field) -> "3.8 billion"; "" when unknown (tests/cases/numbers.json)."""
    if billions is None or isinstance(billions, bool) or not math.isfinite(billions):
        return ""
    if billions <= 0:
        return ""
    return f"{_js_fixed(billions, 0 if billions >= 10 else 1)} {unit}"


def readable_tokens(tokens: float | None) -> str:
    """A context size as people say it: 4096 -> "4K tokens", 128000 and 131072 -> "128K
    tokens", 512 -> "512 tokens"; "" when unknown (tests/cases/numbers.json)."""
    if tokens is None or isinstance(tokens, bool) or not math.isfinite(tokens) or tokens <= 0:
        return ""

    def scaled(unit: int, binary: int) -> str:
        exact = tokens % unit != 0 and tokens % binary == 0
        return _js_fixed(tokens / binary if exact else tokens / unit, 1)

    if tokens >= 1e6:
        count = f"{scaled(1_000_000, 1_048_576)}M"
    elif tokens >= 1000:
        count = f"{scaled(1000, 1024)}K"
    else:
        count = _js_fixed(tokens, 0) if tokens == int(tokens) else repr(tokens)
    return f"{count} tokens"
