"""Text and static HTML reprs of the manager, for hosts without widgets (nbconvert, GitHub,
a saved notebook opened without a kernel): what the widget shows, as plain text and a table."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

from ..core.models import Model, readable_bytes


def _models(raw: Sequence[Mapping[str, Any]]) -> list[Model]:
    return [Model.from_json(dict(m)) for m in raw if isinstance(m.get("id"), str)]


def headline(raw: Sequence[Mapping[str, Any]], connection: Mapping[str, Any]) -> str:
    models = _models(raw)
    where = connection.get("base_url") or "Pieces OS"
    state = connection.get("state", "connecting")
    line = (
        f"Pieces models at {where} ({state}): {len(models)} models, "
        f"{sum(m.downloaded for m in models)} downloaded, {sum(m.loaded for m in models)} loaded"
    )
    message = connection.get("message")
    return f"{line}. {message}" if message else line


def text_repr(raw: Sequence[Mapping[str, Any]], connection: Mapping[str, Any]) -> str:
    lines = [headline(raw, connection)]
    for model in _models(raw):
        size = f" {readable_bytes(model.bytes)}" if model.bytes else ""
        lines.append(f"  {model.name} [{model.id}]{size}: {model.state_text}")
    return "\n".join(lines)


def html_repr(raw: Sequence[Mapping[str, Any]], connection: Mapping[str, Any]) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(m.name)}</td><td><code>{html.escape(m.id)}</code></td>"
        f"<td>{readable_bytes(m.bytes) if m.bytes else ''}</td>"
        f"<td>{html.escape(m.state_text)}</td></tr>"
        for m in _models(raw)
    )
    return (
        f'<div class="pieces-widget-static"><p>{html.escape(headline(raw, connection))}</p>'
        "<table><thead><tr><th>Model</th><th>Id</th><th>Size</th><th>State</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></div>"
    )
