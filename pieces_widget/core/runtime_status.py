"""The Ollama runtime's state as people read it: ``OllamaStatus`` JSON -> ``RuntimeInfo`` (the
widget's ``runtime`` trait, the CLI's status line), and what Pieces OS can do about it now.
An older Pieces OS has no Ollama routes (404): then the state is ``none`` and nothing is shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypedDict

from .models import FAILED, clamp_percentage
from .numbers import readable_percent

RuntimeState = Literal["installed", "missing", "installing", "update-required", "failed", "none"]
RuntimeOffer = Literal["install", "update", ""]
BLOCKING_STATES = frozenset({"missing", "update-required", "installing", "failed"})


class RuntimeInfo(TypedDict):
    """The runtime as people read it (the widget's ``runtime`` trait, the CLI's status line)."""

    state: RuntimeState
    version: str  # the installed version ("" when none)
    percentage: float | None  # an install or update in progress, 0-100
    message: str  # one line for people ("" when nothing needs saying)
    offer: RuntimeOffer  # what Pieces OS can do about it now ("": nothing, or the user must)


NO_API: RuntimeInfo = {
    "state": "none", "version": "", "percentage": None, "message": "", "offer": ""
}  # fmt: skip
MISSING = "Local models run on Ollama, which is not installed."


def deployment_of(status: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    """The ``OllamaDeployment`` under ``key`` (installation, installing, updating), if any."""
    value = status.get(key)
    return value if isinstance(value, Mapping) else None


def one_line(value: Any) -> str:
    """A server string as one short line ("" for anything else)."""
    return " ".join(value.split())[:200] if isinstance(value, str) else ""


def runtime_info(status: Mapping[str, Any] | None) -> RuntimeInfo:
    """``OllamaStatus`` JSON (None: this Pieces OS has no Ollama API) -> ``RuntimeInfo``."""
    if status is None:
        return NO_API
    installation = deployment_of(status, "installation")
    version = one_line(installation.get("version")) if installation else ""
    runs = (("installing", "Installing", "install"), ("updating", "Updating", "update"))
    for key, verb, job in runs:
        running = deployment_of(status, key)
        if running is None:
            continue
        if running.get("status") == FAILED:
            why = one_line(running.get("error")) or "Pieces OS gave no reason"
            return _info("failed", version, None, f"The Ollama {job} failed: {why}.", job)
        percentage = clamp_percentage(running.get("percentage"))
        done = "" if percentage is None else f" ({readable_percent(percentage)})"
        return _info("installing", version, percentage, f"{verb} Ollama{done}…")
    required = deployment_of(status, "updateRequired")
    if required is not None:
        needed = one_line(required.get("version")) or "a newer version"
        have = f" {version}" if version else ""
        mine = required.get("userManaged") is True
        act = "update it yourself (Pieces OS cannot)" if mine else "Pieces OS can update it"
        message = f"Ollama{have} needs an update to {needed}: {act}."
        return _info("update-required", version, None, message, "" if mine else "update")
    if installation is None:
        return _info("missing", "", None, MISSING, "install")
    return _info("installed", version, None, "")


def _info(
    state: RuntimeState, version: str, pct: float | None, message: str, offer: RuntimeOffer = ""
) -> RuntimeInfo:
    return {"state": state, "version": version, "percentage": pct, "message": message,
            "offer": offer}  # fmt: skip
