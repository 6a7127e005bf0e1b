"""``pieces-models``: the model manager in a terminal, on the same PiecesClient and DownloadJob.

Start-up stays fast: this module imports only the standard library at the top; the client
(requests), tqdm, psutil and the reference server (aiohttp) are imported by the commands that
use them.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NoReturn

from .cli_output import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    CliFailure,
    Output,
    clean,
    model_record,
    model_state,
    size,
)

if TYPE_CHECKING:
    from .client import PiecesClient
    from .models import Model

PROG = "pieces-models"
EPILOG = f"""\
exit codes:
  0    ok
  {EXIT_FAILED}    failed (a download failed or was canceled elsewhere, the server refused)
  {EXIT_USAGE}    usage (bad arguments; rm without --yes and without a terminal)
  {EXIT_UNREACHABLE}    Pieces OS (or the reference server) is not reachable
  {EXIT_INTERRUPTED}  interrupted (Ctrl-C; a pull cancels its downloads on the server first)

The server is PIECES_OS_URL or --url when given, else discovered like the Python API does
(.port.txt, then a scan of 127.0.0.1:39300-39333, then the legacy ports).
Errors are one line on stderr. Progress bars show only when stdout is a terminal; otherwise
a pull prints a line per status change. --quiet and --json turn them off."""


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line on stderr, exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{PROG}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    # The common options are accepted before and after the command; SUPPRESS keeps a value
    # given before the command from being reset by the subcommand's default.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--url",
        default=argparse.SUPPRESS,
        help="server base URL (default: PIECES_OS_URL, else discovery)",
    )
    common.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="JSON on stdout, no bars"
    )
    common.add_argument(
        "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="log to stderr"
    )
    common.add_argument(
        "-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help="no bars or chatter"
    )
    parser = _Parser(
        prog=PROG,
        description="Manage the local AI models of Pieces OS (or the reference server).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def command(name: str, help: str, fn: Callable[..., int]) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help, parents=[common])
        p.set_defaults(run=fn)
        return p

    p = command("list", "list the models: name, id, size, RAM, state", cmd_list)
    p.add_argument(
        "filter", nargs="?", help="show only models whose id, name or family has this text"
    )
    command("show", "one model in detail", cmd_show).add_argument("id")
    p = command("pull", "download models, with a progress bar each (Ctrl-C cancels)", cmd_pull)
    p.add_argument("ids", nargs="+", metavar="ID")
    _pull_options(p)
    command("cancel", "cancel a download in flight", cmd_cancel).add_argument("id")
    command("load", "load a downloaded model into memory", cmd_load).add_argument("id")
    p = command("unload", "free a model's memory (or every model's with --all)", cmd_unload)
    p.add_argument("id", nargs="?")
    p.add_argument("--all", action="store_true", help="unload every loaded model")
    p = command("rm", "delete a model's downloaded weights (asks first)", cmd_rm)
    p.add_argument("id")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask")
    p = command("ensure", "download what is missing (and load with --load); idempotent", cmd_ensure)
    p.add_argument("ids", nargs="+", metavar="ID")
    p.add_argument("--load", action="store_true", help="also load the models into memory")
    _pull_options(p)
    command("status", "connection, versions, disk and memory", cmd_status)
    p = sub.add_parser(
        "serve",
        help="run the reference server (options of python -m pieces_widget.server)",
        add_help=False,
    )
    p.add_argument("server_args", nargs=argparse.REMAINDER)
    p.set_defaults(run=None)
    return parser


def _pull_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--give-up-after",
        type=float,
        default=10.0,
        metavar="S",
        help="end with exit code 3 when the server stays unreachable this long (default 10 s)",
    )
    p.add_argument(
        "--stall-after",
        type=float,
        default=None,
        metavar="S",
        help='seconds without new bytes before a download reads "stalled" (default 10)',
    )


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["serve"]:  # every option after it belongs to the server
        return serve(argv[1:])
    args = build_parser().parse_args(argv)
    if args.command is None:
        _Parser(prog=PROG).error("choose a command")
    if args.command == "serve":
        return serve(args.server_args)
    out = Output(json=getattr(args, "json", False), quiet=getattr(args, "quiet", False))
    _logging(getattr(args, "verbose", False))
    try:
        client = _client(getattr(args, "url", None))
        try:
            return int(args.run(client, args, out))
        finally:
            client.close()
    except KeyboardInterrupt:
        out.error("interrupted")
        return EXIT_INTERRUPTED
    except CliFailure as exc:
        out.error(str(exc))
        return exc.code
    except BrokenPipeError:  # e.g. `pieces-models list | head -1`
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps the exit flush from failing
        return EXIT_FAILED
    except Exception as exc:
        code = _exit_code(exc)
        if code is None:
            raise
        out.error(str(exc))
        return code


def _logging(verbose: bool) -> None:
    """The package's log (reconnects, skipped frames) on stderr only with --verbose: by
    default stderr carries the one-line errors and nothing else."""
    import logging

    package = logging.getLogger("pieces_widget")
    package.propagate = False
    if verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        package.addHandler(handler)
        package.setLevel(logging.INFO)
    else:
        package.addHandler(logging.NullHandler())


def _exit_code(exc: BaseException) -> int | None:
    from .errors import PiecesConnectionError, PiecesError

    if isinstance(exc, PiecesConnectionError):
        return EXIT_UNREACHABLE
    if isinstance(exc, PiecesError):
        return EXIT_FAILED
    if isinstance(exc, (TypeError, ValueError)):  # an id the client refused up front
        return EXIT_USAGE
    return None


def _client(url: str | None) -> PiecesClient:
    from .client import PiecesClient

    return PiecesClient(url)


def _model(client: PiecesClient, model_id: str) -> Model:
    """``client.model`` with a not-found message that points at this command line."""
    from .errors import ModelNotFoundError

    try:
        return client.model(model_id)
    except ModelNotFoundError:
        raise CliFailure(
            f"model {clean(model_id)!r} was not found: `{PROG} list` shows the ids"
        ) from None


# -- commands ------------------------------------------------------------------------------
def cmd_list(client: PiecesClient, args: argparse.Namespace, out: Output) -> int:
    models = client.models()
    if args.filter:
        needle = args.filter.casefold()
        models = [m for m in models if needle in _haystack(m)]
    if out.json:
        out.data([model_record(m) for m in models])
    elif out.quiet:
        out.lines([m.id for m in models])
    else:
        rows = [(m.name, m.id, size(m.bytes), size(m.ram), model_state(m)) for m in models]
        out.table(("NAME", "ID", "SIZE", "RAM", "STATE"), rows)
    return 0


def _haystack(model: Model) -> str:
    parts = (model.id, model.name, model.foundation, model.provider, model.description)
    return " ".join(p for p in parts if p).casefold()


def cmd_show(client: PiecesClient, args: argparse.Namespace, out: Output) -> int:
    model = _model(client, args.id)
    if out.json:
        out.data({**model_record(model), "raw": model.raw})
        return 0
    record = model_record(model)
    fields = [
        ("id", model.id),
        ("state", record["state"]),
        ("size", size(model.bytes)),
        ("RAM", size(model.ram)),
        ("version", model.version),
        ("foundation", model.foundation),
        ("provider", model.provider),
        ("quantization", model.quantization),
        ("custom", "yes" if model.custom else None),
        ("description", model.description),
        ("last error", record["error"]),
    ]
    out.say(clean(model.name))
    out.lines(f"  {key:<13} {clean(str(value))}" for key, value in fields if value)
    return 0


def cmd_pull(client: PiecesClient, args: argparse.Namespace, out: Output) -> int:
    from .cli_pull import pull

    models = [_model(client, i) for i in dict.fromkeys(args.ids)]
    for model in models:
        if model.cloud:
            raise CliFailure(f"{clean(model.id)} is a cloud model: there is nothing to download")
    return pull(client, models, out, args)


def cmd_ensure(client: PiecesClient, args: argparse.Namespace, out: Output) -> int:
    from .cli_pull import pull

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
    out.data([model_record(client.model(m.id)) for m in models])
    return 0


def cmd_cancel(client: PiecesClient, args: argparse.Namespace, out: Output) -> int:
    model = _model(client, args.id)
    if model.downloading:
        model = client.cancel_download(model.id)
        out.say(f"{clean(model.id)}: download canceled (the next `{PROG} pull` resumes from there)")
    else:
        out.say(f"{clean(model.id)}: no download in flight")
    out.data(model_record(model))
    return 0


def cmd_load(client: PiecesClient, args: argparse.Namespace, out: Output) -> int:
    model = _model(client, args.id)
    if model.loaded:
        out.say(f"{clean(model.id)}: already loaded ({size(model.ram)} RAM)")
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


def cmd_rm(client: PiecesClient, args: argparse.Namespace, out: Output) -> int:
    if not args.yes and not sys.stdin.isatty():
        raise CliFailure(
            "rm asks before deleting: pass --yes when there is no terminal", EXIT_USAGE
        )
    model = _model(client, args.id)
    if not args.yes:
        question = (
            f"Delete the weights of {clean(model.name)} ({clean(model.id)}, {size(model.bytes)})?"
        )
        if not out.confirm(question):
            raise CliFailure("nothing deleted")
    result = client.delete_weights(model.id)
    out.say(f"{clean(model.id)}: weights deleted")
    out.data({**model_record(client.model(model.id)), "result": result})
    return 0


def cmd_status(client: PiecesClient, args: argparse.Namespace, out: Output) -> int:
    from dataclasses import asdict

    from . import __version__
    from .errors import PiecesConnectionError
    from .summary import machine_resources, summarize

    try:
        health = client.health()
    except PiecesConnectionError as exc:
        url = getattr(args, "url", None) or os.environ.get("PIECES_OS_URL") or None
        out.data({"connected": False, "base_url": url, "error": str(exc)})
        raise
    version, models = client.version(), client.models()
    summary = summarize(models, machine_resources(client.capabilities()))
    downloading = [m.id for m in models if m.downloading]
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
        ],
    )
    return 0


def serve(argv: list[str]) -> int:
    """The reference server, with the options of ``python -m pieces_widget.server``."""
    try:
        from .server.__main__ import main as server_main
    except ImportError as exc:
        print(
            f"{PROG}: error: the reference server needs its extra ({exc.name} is missing): "
            "pip install 'pieces-widget[server]'",
            file=sys.stderr,
        )
        return EXIT_FAILED
    server_main(argv)
    return 0


def run() -> NoReturn:
    """The ``pieces-models`` console script."""
    sys.exit(main())
