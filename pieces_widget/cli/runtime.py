"""``pieces-models install-ollama`` and the Ollama line of ``status``: the runtime local models
need since Pieces OS 11, installed (or updated, where Pieces OS says an update is required)
through Pieces OS with a bar (or a line per change)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..core.models import COMPLETED
from ..core.numbers import readable_percent
from ..core.runtime import RuntimeInstall
from ..core.runtime_status import RuntimeInfo, runtime_info
from .output import EXIT_INTERRUPTED, PROG, CliFailure, Output, clean

if TYPE_CHECKING:
    from ..core.client import PiecesClient


def runtime_line(info: RuntimeInfo) -> str:
    """The ``status`` line for the runtime, with the next step when one is due."""
    state = info["state"]
    if state == "none":
        return "no Ollama API (Pieces OS before 11 runs local models itself)"
    if state == "installed":
        return f"Ollama {clean(info['version']) or '(version unknown)'}"
    if state == "missing":
        return f"not installed: local models cannot run (`{PROG} install-ollama` installs it)"
    if state == "update-required" and info["offer"] == "update":
        return f"{clean(info['message'])} (`{PROG} install-ollama` updates it)"
    return clean(info["message"])


def cmd_install_ollama(client: PiecesClient, args: argparse.Namespace, out: Output) -> int:

    before = runtime_info(client.ollama_status())
    if before["state"] == "none":
        out.say("this Pieces OS has no Ollama API: nothing to install")
        return 0
    if before["state"] == "installed":
        out.say(f"Ollama {clean(before['version'])} is already installed")
        return 0
    if before["state"] == "update-required" and before["offer"] != "update":
        out.say(clean(before["message"]))  # the user updates it, not Pieces OS
        return 1
    kind = "update" if before["offer"] == "update" else "install"
    install = RuntimeInstall(client, kind=kind, poll_every=0.25)
    bar = _bar(out) if out.bars else None
    said = ""
    try:
        while not install.done:
            install.wait_briefly(0.2)
            pct = install.percentage or 0.0
            if bar is not None:
                bar.update(pct - bar.n)
            elif (line := _line(kind, install.status, install.percentage)) != said:
                said = line
                out.say(line)
    except KeyboardInterrupt:
        install.cancel()
        install.wait_briefly(5)
        out.error(f"interrupted: the Ollama {kind} was canceled")
        return EXIT_INTERRUPTED
    finally:
        install.stop()
        if bar is not None:
            bar.close()
    if install.status != COMPLETED:
        why = f": {clean(install.error)}" if install.error else ""
        raise CliFailure(f"the Ollama {kind} ended {install.status.lower()}{why}")
    after = runtime_info(client.ollama_status())
    done = "updated" if kind == "update" else "installed"
    out.say(f"Ollama {clean(after['version'])} {done}: local models can run")
    out.data(after)
    return 0


def _line(kind: str, status: str, percentage: float | None) -> str:
    done = "" if percentage is None else f" {readable_percent(percentage // 10 * 10)}"
    doing = "updating" if kind == "update" else "installing"
    return f"{doing} Ollama{done}" if status != "INITIALIZED" else f"{doing} Ollama: starting"


def _bar(out: Output):
    from tqdm import tqdm

    return tqdm(total=100, desc="Ollama", unit="%", file=out.stdout, bar_format=_BAR, mininterval=0)


_BAR = "{desc}  {percentage:3.0f}%|{bar}|"
