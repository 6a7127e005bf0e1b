"""``python -m pieces_widget.server``: run the reference server until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import socket
import sys
from pathlib import Path

from aiohttp import web

from .app import create_app
from .catalog import DEMO_CATALOG, CatalogError, load_catalog

ACCESS_LOG = '%a "%r" %s %b Range:%{Range}i'


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
    parser.add_argument("--quiet", action="store_true", help="no access log")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    sock = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as exc:
        sys.exit(f"error: cannot listen on {args.host}:{args.port}: {exc.strerror}")
    host, port = sock.getsockname()[:2]
    url_host = f"[{host}]" if ":" in host else host
    base_url = f"http://{url_host}:{port}"
    try:
        catalog = load_catalog(args.catalog, base_url, args.data_dir.resolve() / "hub")
    except CatalogError as exc:
        sys.exit(f"error: {exc}")
    app = create_app(args.data_dir, catalog, hub_rate=args.hub_rate)
    runner = web.AppRunner(app, access_log_format=ACCESS_LOG, handle_signals=False)
    await runner.setup()
    await web.SockSite(runner, sock, shutdown_timeout=1).start()
    print(f"pieces_widget.server: listening on {base_url} ({len(catalog)} models)", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
