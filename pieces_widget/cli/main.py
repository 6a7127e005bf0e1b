"""``pieces-models``: the model manager in a terminal, on the same PiecesClient and DownloadJob.

This module is the parser and the exit codes; the commands are in ``commands``, pull and
ensure in ``pull``, what is printed in ``output``. Start-up stays fast: at the top only
the standard library, ``output`` and the light core modules; requests, tqdm, psutil and the
reference server (aiohttp) are imported by the commands that use them.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

from .._version import __version__
from ..core.errors import PiecesConnectionError, PiecesError
from ..core.models import check_id
from .output import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    PROG,
    CliFailure,
    Output,
)

if TYPE_CHECKING:
    from ..core.client import PiecesClient

TIMEOUT = 30.0  # s a call to Pieces OS may take in all (a load takes longer: its own bound)
EPILOG = f"""\
exit codes:
  0    ok
  {EXIT_FAILED}    failed (a download failed or was canceled elsewhere, the server refused;
       an internal error, its traceback shown with -v)
  {EXIT_USAGE}    usage (bad arguments or a model id that cannot be one; rm without --yes
       and without a terminal)
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
        "--timeout",
        type=_seconds,
        default=argparse.SUPPRESS,
        metavar="S",
        help=f"give up on a call Pieces OS has not answered in S seconds (default {TIMEOUT:g})",
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

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def command(name: str, help: str, aliases: Sequence[str] = ()) -> argparse.ArgumentParser:
        return sub.add_parser(
            name, help=help, description=help, parents=[common], aliases=list(aliases)
        )

    p = command("list", "list the models: name, id, size, RAM, state")
    p.add_argument(
        "filter", nargs="?", help="show only models whose id, name or family has this text"
    )
    p.add_argument(
        "--sort",
        choices=("name", "size", "ram", "state"),
        default="name",
        help="order as the widget sorts: name (default), size or ram (largest first), state",
    )
    command("show", "one model in detail").add_argument("id")
    p = command("pull", "download models, with a progress bar each (Ctrl-C cancels)")
    p.add_argument("ids", nargs="+", metavar="ID")
    _pull_options(p)
    command("cancel", "cancel a download in flight").add_argument("id")
    command("load", "load a downloaded model into memory").add_argument("id")
    p = command("unload", "free a model's memory (or every model's with --all)")
    p.add_argument("id", nargs="?")
    p.add_argument("--all", action="store_true", help="unload every loaded model")
    p = command("delete", "delete a model's downloaded weights (asks first)", aliases=["rm"])
    p.add_argument("id")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask")
    p = command("ensure", "download what is missing (and load with --load); idempotent")
    p.add_argument("ids", nargs="+", metavar="ID")
    p.add_argument("--load", action="store_true", help="also load the models into memory")
    _pull_options(p)
    command("status", "connection, versions, disk and memory, the Ollama runtime")
    command("install-ollama", "install/update Ollama, which local models run on (Pieces OS 11+)")
    p = sub.add_parser(
        "serve",
        help="run the reference server (options of python -m pieces_widget.server)",
        add_help=False,
    )
    p.add_argument("server_args", nargs=argparse.REMAINDER)
    p.set_defaults(run=None)
    return parser


def _seconds(text: str) -> float:
    value = float(text)
    if not 0 < value < 86_400:
        raise argparse.ArgumentTypeError(f"{text} is not a number of seconds between 0 and a day")
    return value


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
    if (bad := _bad_id(args)) is not None:
        out.error(bad)
        return EXIT_USAGE
    try:
        client = _client(getattr(args, "url", None), getattr(args, "timeout", TIMEOUT))
        try:
            from .commands import COMMANDS  # after parsing: --help stays fast

            return int(COMMANDS[args.command](client, args, out))
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
        if code is None:  # a bug, or an answer nothing expected: one line, the trace with -v
            logging.getLogger("pieces_widget.cli").error("internal error", exc_info=True)
            out.error(f"internal error: {type(exc).__name__}: {exc}")
            return EXIT_FAILED
        status = getattr(exc, "status", None)
        if status is not None:  # the message says it in words; the code is for -v
            logging.getLogger("pieces_widget.cli").info("Pieces OS answered HTTP %s", status)
        out.error(str(exc))
        return code


def _bad_id(args: argparse.Namespace) -> str | None:
    """Why an id on the command line cannot be a model id, or None; checked before any
    request, so that exit code 2 (usage) means exactly this."""

    given = getattr(args, "ids", None) or [getattr(args, "id", None)]
    for model_id in (i for i in given if i is not None):
        try:
            check_id(model_id)
        except (TypeError, ValueError) as exc:
            return str(exc)
    return None


def _logging(verbose: bool) -> None:
    """The package's log (reconnects, skipped frames) on stderr only with --verbose: by
    default stderr carries the one-line errors and nothing else."""
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

    if isinstance(exc, PiecesConnectionError):
        return EXIT_UNREACHABLE
    if isinstance(exc, PiecesError):
        return EXIT_FAILED
    return None


def _client(url: str | None, timeout: float) -> PiecesClient:
    from ..core.client import PiecesClient

    return PiecesClient(url, read_timeout=timeout)


def serve(argv: list[str]) -> int:
    """The reference server, with the options of ``python -m pieces_widget.server``."""
    from ..server.extra import exit_if_missing

    with exit_if_missing():
        from ..server.__main__ import main as server_main
    server_main(argv)
    return 0


def run() -> NoReturn:
    """The ``pieces-models`` console script."""
    sys.exit(main())
