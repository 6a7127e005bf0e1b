"""One vocabulary on both sides: the words for enum tokens, states and numbers that Python says
(``pieces-models``, the reprs) are the widget's. The tables in ``tests/cases/`` are checked here
and by ``js/test/labels.test.js``; ``js/src/labels.gen.js`` is ``core/labels.py``'s tables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pieces_widget.core import labels, numbers
from pieces_widget.core.models import Model
from pieces_widget.widget import labels_js

CASES = Path(__file__).parent / "cases"
JS = Path(__file__).resolve().parents[1] / "js" / "src"
LABELS = json.loads((CASES / "labels.json").read_text(encoding="utf-8"))
NUMBERS = json.loads((CASES / "numbers.json").read_text(encoding="utf-8"))
STATES = json.loads((CASES / "state_words.json").read_text(encoding="utf-8"))["cases"]
LABEL_FUNCTIONS = {
    "foundation": labels.foundation_label,
    "provider": labels.provider_label,
    "quantization": labels.quantization_label,
    "enum": labels.enum_label,
}


def test_the_generated_js_is_up_to_date() -> None:
    committed = (JS / "labels.gen.js").read_text(encoding="utf-8")
    assert committed == labels_js.generate(), (
        "js/src/labels.gen.js differs from pieces_widget/core/labels.py: run `make wire` (or "
        "`python -m pieces_widget.widget.labels_js js/src/labels.gen.js`) and commit it"
    )


@pytest.mark.parametrize("kind", LABEL_FUNCTIONS)
def test_enum_tokens_read_as_the_widget_says_them(kind: str) -> None:
    label = LABEL_FUNCTIONS[kind]
    said = [[token, label(token)] for token, _ in LABELS[kind]]
    assert said == LABELS[kind]


def test_every_spec_token_is_in_the_shared_cases_and_none_stays_upper_case() -> None:
    spec = json.loads(
        (Path(labels.__file__).parents[1] / "server" / "spec_enums.json").read_text("utf-8")
    )
    tables = {
        "ModelFoundationEnum": "foundation",
        "ExternalMLProviderEnum": "provider",
        "ModelTypeEnum": "enum",
        "ModelUsageEnum": "enum",
    }
    for name, kind in tables.items():
        known = dict(LABELS[kind])
        for token in spec[name]:
            assert token in known, f"{name}.{token} is missing from tests/cases/labels.json"
            assert "_" not in known[token] and known[token], (name, token, known[token])


@pytest.mark.parametrize(("pct", "text"), NUMBERS["percent"])
def test_percentages_read_as_the_widget_says_them(pct: float, text: str) -> None:
    assert numbers.readable_percent(pct) == text


@pytest.mark.parametrize(("partial", "total", "kept"), NUMBERS["kept_percent"])
def test_kept_percent_is_the_widgets(partial: int | None, total: int | None, kept: int) -> None:
    assert numbers.kept_percent(partial, total) == kept


@pytest.mark.parametrize(("billions", "unit", "text"), NUMBERS["parameters"])
def test_parameters_read_as_the_widget_says_them(
    billions: float | None, unit: str | None, text: str
) -> None:
    said = numbers.readable_parameters(billions, *([unit] if unit else []))
    assert said == text


@pytest.mark.parametrize(("tokens", "text"), NUMBERS["tokens"])
def test_context_sizes_read_as_the_widget_says_them(tokens: int | None, text: str) -> None:
    assert numbers.readable_tokens(tokens) == text


@pytest.mark.parametrize("case", STATES, ids=lambda c: " · ".join(c["words"]))
def test_state_words_are_the_widgets(case: dict[str, Any]) -> None:
    model = Model.from_json({"id": "m", **case["model"]})
    assert labels.state_words(model, case.get("activity")) == case["words"]
    if "activity" not in case:
        assert model.state_text == " · ".join(case["words"])


def test_not_a_number_is_a_question_mark() -> None:
    assert numbers.readable_percent(float("nan")) == "?"
