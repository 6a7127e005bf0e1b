"""The commands of ``pieces-models``: each takes the client, its arguments and the output, and
returns the exit code (failures raise ``CliFailure`` or the client's ``PiecesError``)."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import asdict
from typing import TYPE_CHECKING

from .._version import __version__
from ..core.errors import ModelNotFoundError, PiecesConnectionError
from ..core.runtime_status import runtime_info
from ..core.summary import machine_resources, summarize
from .output import (
    DETAILS,
    EXIT_USAGE,
    PROG,
    CliFailure,
    Output,
    clean,
    detail_fields,
    model_record,
    resume_hint,
    size,
    sort_models,
)
from .runtime import cmd_install_ollama, runtime_line

if TYPE_CHECKING:
    from ..core.client import PiecesClient
    from ..core.models import Model


def _model(client: PiecesClient, model_id: str) -> Model:
    """``client.snapshot`` with a not-found message that points at this command line."""
    try:
        return client.snapshot(model_id)
    except ModelNotFoundError:
        raise CliFailure(
            f"model {clean(model_id)!r} was not found: `{PROG} list` shows the ids"
        ) from None


def cmd_list(client: PiecesClient, args: argparse.Namespace, out: Output) -> int:
    models = sort_models(client.models(), getattr(args, "sort", "name"))
    if args.filter:
        needle = args.filter.casefold()
        models = [m for m in models if needle in _haystack(m)]
    if out.json:
        out.data([model_record(m) for m in models])
    elif out.quiet:
        out.lines([clean(m.id) for m in models])
    else:
        rows = [(m.name, m.id, size(m.bytes), size(m.ram), m.state_text) for m in models]
        out.table(("NAME", "ID", "SIZE", "RAM", "STATE"), rows, right=(2, 3), shrink=0)
    return 0


def _haystack(model: Model) -> str:
    parts = (model.id, model.name, model.foundation, model.provider, model.description)
    return " ".join(p for p in parts if p).casefold()


def cmd_show(client: PiecesClient, args: argparse.Namespace, out: Output) -> int:
    model = _model(client, args.id)
    if out.json:
        out.data({**model_record(model), "raw": model.raw})
        return 0
    out.say(clean(model.name))
    width = max(len(key) for key in DETAILS)
    out.lines(f"  {key:<{width}}  {value}" for key, value in detail_fields(model))
    return 0


def cmd_pull(client: PiecesClient, args: argparse.Namespace, out: Output) -> int:
    from .pull import pull

    models = [_model(client, i) for i in dict.fromkeys(args.ids)]
    for model in models:
        if model.cloud:
            raise CliFailure(f"{clean(model.id)} is a cloud model: there is nothing to download")
    return pull(client, models, out, args)


def cmd_ensure(client: PiecesClient, args: argparse.Namespace, out: Output) -> int:
    from .pull import pull

    models = [_model(client, i) for i in dict.fromkeys(args.ids)]
    local = [m for m in models if not m.cloud]
    for model in models:
        if model.cloud:
            out.say(f"{clean(model.id)}: cloud model, nothing to download")
    code = pull(client, local, out, args, final_json=False)
    if code != 0:
        return code
    if args.load:
        for model in local:
            if model.loaded:
                out.say(f"{clean(model.id)}: already loaded")
            else:
                loaded = client.load(model.id)
                out.say(f"{clean(model.id)}: loaded ({size(loaded.ram)} RAM)")
    out.data([model_record(client.snapshot(m.id)) for m in models])
    return 0


def cmd_cancel(client: PiecesClient, args: argparse.Namespace, out: Output) -> int:
    model = _model(client, args.id)
    if model.downloading:
        model = client.cancel_download(model.id)
        out.say(f"{clean(model.id)}: download canceled ({resume_hint(model)})")
    else:
        out.say(f"{clean(model.id)}: no download in flight")
    out.data(model_record(model))
    return 0


def cmd_load(client: PiecesClient, args: argparse.Namespace, out: Output) -> int:
    model = _model(client, args.id)
    if model.loaded:
        out.say(f"{clean(model.id)}: already loaded ({size(model.ram)} RAM)")
    elif not model.cloud and not model.downloaded:
        raise CliFailure(
            f"{clean(model.id)} is not downloaded: download it first: "
            f"{PROG} pull {clean(model.id)} (or {PROG} ensure {clean(model.id)} --load)"
        )
    else:
        model = client.load(model.id)
        out.say(f"{clean(model.id)}: loaded ({size(model.ram)} RAM)")
    out.data(model_record(model))
    return 0


def cmd_unload(client: PiecesClient, args: argparse.Namespace, out: Output) -> int:
    if args.all == bool(args.id):
        raise CliFailure("give a model id or --all (not both)", EXIT_USAGE)
    if args.all:
        loaded = [m.id for m in client.models() if m.loaded]
        client.unload_all()
        out.say(f"unloaded {len(loaded)} model{'s' if len(loaded) != 1 else ''}")
        out.data({"unloaded": loaded})
        return 0
    model = _model(client, args.id)
    was_loaded = model.loaded
    model = client.unload(model.id)
    out.say(f"{clean(model.id)}: {'unloaded' if was_loaded else 'was not loaded'}")
    out.data(model_record(model))
    return 0


def cmd_delete(client: PiecesClient, args: argparse.Namespace, out: Output) -> int:
    if not args.yes and not sys.stdin.isatty():
        raise CliFailure(
            "rm asks before deleting: pass --yes when there is no terminal", EXIT_USAGE
        )
    model = _model(client, args.id)
    partial = model.raw.get("partialBytes")
    partial = partial if isinstance(partial, int) and partial > 0 else 0
    if not (model.downloaded or model.downloading or partial):
        out.say(f"{clean(model.id)}: nothing on disk to delete")
        out.data({**model_record(model), "result": None})
        return 0
    if not args.yes:
        question = (
            f"Delete the weights of {clean(model.name)} ({clean(model.id)}, {size(model.bytes)})?"
        )
        if not out.confirm(question):
            raise CliFailure("nothing deleted")
    result = client.delete(model.id)
    what = "weights" if model.downloaded else f"partial download ({size(partial)})"
    out.say(f"{clean(model.id)}: {what} deleted")
    out.data({**model_record(client.snapshot(model.id)), "result": result})
    return 0


def cmd_status(client: PiecesClient, args: argparse.Namespace, out: Output) -> int:

    try:
        health = client.health()
    except PiecesConnectionError as exc:
        url = getattr(args, "url", None) or os.environ.get("PIECES_OS_URL") or None
        out.data({"connected": False, "base_url": url, "error": str(exc)})
        raise
    version, models = client.version(), client.models()
    summary = summarize(models, machine_resources(client.capabilities()))
    downloading = [m.id for m in models if m.downloading]
    runtime = runtime_info(client.ollama_status())
    if out.json:
        out.data(
            {
                "connected": True,
                "base_url": client.base_url,
                "health": health,
                "version": version,
                "client_version": __version__,
                "models": len(models),
                "downloading": downloading,
                "summary": asdict(summary),
                "runtime": runtime,
            }
        )
        return 0
    ready = "ready" if health.startswith("ok") else clean(health.split(":")[0])
    out.table(
        None,
        [
            ("server", f"{client.base_url} ({ready})"),
            ("versions", f"server {clean(version)} · pieces-widget {__version__}"),
            (
                "models",
                f"{len(models)} · downloading {', '.join(map(clean, downloading)) or 'none'}",
            ),
            ("disk, memory", str(summary)),
            ("ollama", runtime_line(runtime)),
        ],
    )
    return 0


# The subcommand's name -> the function that runs it.
COMMANDS = {
    "list": cmd_list,
    "show": cmd_show,
    "pull": cmd_pull,
    "ensure": cmd_ensure,
    "cancel": cmd_cancel,
    "load": cmd_load,
    "unload": cmd_unload,
    "delete": cmd_delete,
    "rm": cmd_delete,  # the Unix habit: an alias of delete
    "status": cmd_status,
    "install-ollama": cmd_install_ollama,
}
