"""``python -m pieces_widget.server``: run the reference server until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import signal
import socket
import sys
from pathlib import Path

from .extra import exit_if_missing

with exit_if_missing():  # without the server extra: one line that says what to install
    from aiohttp import web

    from .app import create_app
    from .catalog import DEMO_CATALOG, CatalogError, load_catalog
    from .guard import HOSTS_ENV, ORIGINS_ENV, AccessPolicy
    from .habits import FRAME_INTERVAL, POS_VERSION, Habits, build_habits
    from .lock import DataDirBusy, DataDirLock
    from .ollama import OLLAMA_VERSION, OllamaOptions
    from .remote import TOKEN_ENV, TOKEN_FILE, bind_refusal, require_token
    from .sources import TOKEN_HEADER, SourceOptions, disk_error

log = logging.getLogger("pieces_widget.server")
ACCESS_LOG = '%a "%r" %s %b Range:%{Range}i'
SHUTDOWN_TIMEOUT = 0.5  # seconds a request in flight gets once the server is stopping


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m pieces_widget.server",
        description="A Pieces-OS-compatible model server with a real on-disk model store.",
    )
    parser.add_argument(
        "--port", type=int, default=39300, help="0 picks a free port (default 39300)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--data-dir", type=Path, required=True, help="model store directory")
    parser.add_argument("--catalog", type=Path, default=DEMO_CATALOG, help="catalog JSON file")
    parser.add_argument(
        "--hub-rate",
        type=float,
        default=6 * 2**20,
        help="bytes/s cap for each response of the local hub, 0 = none (default 6 MiB/s)",
    )
    parser.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help=f"also accept this Host name (repeatable; '*' = any; env {HOSTS_ENV})",
    )
    parser.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help=(
            "also accept requests from this web origin, e.g. https://app.example "
            f"(repeatable; '*' = any; env {ORIGINS_ENV}, comma-separated)"
        ),
    )
    defaults = SourceOptions()
    parser.add_argument(
        "--stall-timeout",
        type=float,
        default=defaults.stall_timeout,
        help="seconds without a byte from a source before the request is retried (default 30)",
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=defaults.retries,
        help="retries in a row without progress before a download fails (default 5)",
    )
    parser.add_argument(
        "--retry-backoff",
        type=float,
        default=defaults.backoff,
        help="seconds before the first retry; doubles each retry, at most 30 s (default 1)",
    )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help=(
            "allow a non-loopback --host (e.g. 0.0.0.0); every request then needs the token "
            f"in the {TOKEN_HEADER} header (env {TOKEN_ENV}, else DATA_DIR/{TOKEN_FILE})"
        ),
    )
    parser.add_argument("--quiet", action="store_true", help="no access log")
    _add_habits(parser)
    args = parser.parse_args(argv)
    _check_habits(parser, args)
    return args


def _add_habits(parser: argparse.ArgumentParser) -> None:
    """Options that reproduce the real Pieces OS's habits (see habits.py); all off by default."""
    group = parser.add_argument_group(
        "Pieces OS habits", "behave as the real Pieces OS does (tests of clients); off by default"
    )
    group.add_argument(
        "--pieces-os-habits",
        action="store_true",
        help=(
            "preset: --start-delay 3 --frame-interval 2 --no-snapshot --keep-socket-open "
            "--cancel-discards --as-pieces-os (options given too override it)"
        ),
    )
    group.add_argument(
        "--start-delay",
        type=float,
        metavar="SECONDS",
        help="a download begins SECONDS after its POST; INITIALIZED frames meanwhile (default 0)",
    )
    group.add_argument(
        "--frame-interval",
        type=float,
        metavar="SECONDS",
        help=f"at most one progress frame per SECONDS per socket (default {FRAME_INTERVAL})",
    )
    group.add_argument(
        "--no-snapshot",
        dest="snapshot",
        action="store_false",
        default=None,
        help="the progress socket sends no current state on connect, only the next change",
    )
    group.add_argument(
        "--keep-socket-open",
        action="store_true",
        default=None,
        help="keep the progress socket open after a terminal frame, for the next download",
    )
    group.add_argument(
        "--cancel-discards",
        action="store_true",
        default=None,
        help="a cancel deletes the partial file: no partialBytes, the next download starts at 0",
    )
    group.add_argument(
        "--reset-at",
        type=float,
        metavar="PERCENT",
        help="once per transfer, past PERCENT: discard the partial, send RESET, start over",
    )
    group.add_argument(
        "--unknown-every",
        type=float,
        metavar="SECONDS",
        help="send an UNKNOWN frame every SECONDS of a running download",
    )
    group.add_argument(
        "--version-string",
        metavar="TEXT",
        help=f"what /.well-known/version answers (default {POS_VERSION})",
    )
    group.add_argument(
        "--as-pieces-os",
        action="store_true",
        default=None,
        help="no /.well-known/capabilities (404): clients cannot tell this is the reference server",
    )
    group.add_argument(
        "--without-ollama",
        action="store_true",
        help="start with Ollama not installed: local downloads and loads fail until "
        "POST /ollama/install has run",
    )
    group.add_argument(
        "--ollama-update-required",
        metavar="VERSION",
        help=f"Ollama {OLLAMA_VERSION} is installed but an update to VERSION is required",
    )


def _check_habits(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.start_delay is not None and not args.start_delay >= 0:
        parser.error("--start-delay must be 0 or more seconds")
    if args.frame_interval is not None and not args.frame_interval >= 0:
        parser.error("--frame-interval must be 0 or more seconds")
    if args.reset_at is not None and not 0 <= args.reset_at < 100:
        parser.error("--reset-at must be a percentage from 0 to below 100")
    if args.unknown_every is not None and not args.unknown_every > 0:
        parser.error("--unknown-every must be more than 0 seconds")
    if args.version_string is not None and not args.version_string.strip():
        parser.error("--version-string cannot be empty")


def habits_of(args: argparse.Namespace) -> Habits:
    return build_habits(
        args.pieces_os_habits,
        start_delay=args.start_delay,
        frame_interval=args.frame_interval,
        snapshot=args.snapshot,
        keep_socket_open=args.keep_socket_open,
        cancel_discards=args.cancel_discards,
        reset_at=args.reset_at,
        unknown_every=args.unknown_every,
        version=args.version_string,
        as_pieces_os=args.as_pieces_os,
    )


async def serve(args: argparse.Namespace) -> None:
    if (refusal := bind_refusal(args.host, args.allow_remote)) is not None:
        sys.exit(f"error: {refusal}")  # before any socket exists
    lock = DataDirLock(args.data_dir)
    try:
        lock.acquire()
    except DataDirBusy as exc:
        sys.exit(f"error: {exc}")
    except OSError as exc:
        if exc.errno != errno.EROFS or not lock.data_dir.is_dir():
            sys.exit(f"error: cannot use data directory {lock.data_dir}: {disk_error(exc, 'it')}")
        # Nothing can be written there, so nothing to guard: serve what is on disk.
        log.warning("data directory %s is read-only: downloads and edits will fail", lock.data_dir)
    token, about_token = require_token(lock.data_dir) if args.allow_remote else (None, "")
    sock = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as exc:
        sys.exit(f"error: cannot listen on {args.host}:{args.port}: {exc.strerror}")
    host, port = sock.getsockname()[:2]
    url_host = f"[{host}]" if ":" in host else host
    base_url = f"http://{url_host}:{port}"
    if lock.held:
        lock.record(base_url)
    try:
        catalog = load_catalog(args.catalog, base_url, lock.data_dir / "hub")
    except CatalogError as exc:
        sys.exit(f"error: {exc}")
    options = SourceOptions(
        stall_timeout=args.stall_timeout,
        retries=args.retries,
        backoff=args.retry_backoff,
        own_origins=frozenset({base_url}),  # hub blobs are fetched from this server
        token=token,
    )
    policy = AccessPolicy.build(args.allow_host, args.allow_origin, token)
    try:
        app = create_app(
            args.data_dir,
            catalog,
            args.hub_rate,
            policy,
            options,
            habits_of(args),
            OllamaOptions(
                installed=not args.without_ollama, update_required=args.ollama_update_required
            ),
        )
    except OSError as exc:
        sys.exit(f"error: cannot use data directory {lock.data_dir}: {disk_error(exc, 'it')}")
    runner = web.AppRunner(
        app, access_log_format=ACCESS_LOG, handle_signals=False, shutdown_timeout=SHUTDOWN_TIMEOUT
    )
    await runner.setup()
    await web.SockSite(runner, sock).start()
    print(f"pieces_widget.server: listening on {base_url} ({len(catalog)} models)", flush=True)
    if token is not None:
        print(f"pieces_widget.server: {about_token}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except NotImplementedError:  # Windows' event loop: a plain handler wakes the loop
            signal.signal(sig, lambda *_: loop.call_soon_threadsafe(stop.set))
    await stop.wait()
    await runner.cleanup()
    lock.release()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:  # Ctrl-C before the signal handlers were installed
        sys.exit(130)


if __name__ == "__main__":
    main()
