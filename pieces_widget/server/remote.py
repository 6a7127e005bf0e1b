"""Listening beyond this machine: refused unless asked for (``--allow-remote``), and then every
request must carry a token.

The Host and Origin checks (``guard.py``) stop web pages; they do not stop another machine,
which sets those headers as it likes. So the server binds loopback addresses only, and a
non-loopback bind (``0.0.0.0``, a LAN address, a name that resolves to one) is refused before
any socket is made. With ``--allow-remote`` every request and WebSocket needs the header
``X-Pieces-Server-Token``: its value comes from ``PIECES_SERVER_TOKEN``, else from the file
``<data-dir>/server-token`` (mode 0600), made with a random token on first use.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import secrets
import socket
import sys
from pathlib import Path

from .atomic import atomic_write, read_small
from .sources import TOKEN_HEADER, disk_error

TOKEN_ENV = "PIECES_SERVER_TOKEN"
TOKEN_FILE = "server-token"
_TOKEN = re.compile(r"[\x21-\x7e]{16,256}")  # printable, no spaces: it travels in a header

__all__ = [
    "TOKEN_ENV",
    "TOKEN_FILE",
    "TOKEN_HEADER",
    "bind_refusal",
    "is_loopback_bind",
    "require_token",
    "token",
]


def is_loopback_bind(host: str) -> bool:
    """Whether binding ``host`` listens on loopback only. An IP literal is judged as it is;
    a name by every address it resolves to locally (``localhost`` without asking anyone)."""
    name = host.strip().strip("[]").lower()
    if not name:
        return False  # "" binds every interface
    with contextlib.suppress(ValueError):
        return ipaddress.ip_address(name.split("%")[0]).is_loopback
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        infos = socket.getaddrinfo(name, None, type=socket.SOCK_STREAM)
    except OSError:
        return False
    addresses = {str(info[4][0]).split("%")[0] for info in infos}
    return bool(addresses) and all(ipaddress.ip_address(a).is_loopback for a in addresses)


def bind_refusal(host: str, allow_remote: bool) -> str | None:
    """The one-line refusal to listen on ``host``, or None."""
    if allow_remote or is_loopback_bind(host):
        return None
    return (
        f"refusing to listen on {host or '(all interfaces)'}: not a loopback address, so other "
        "machines could reach the server; to allow that, add --allow-remote (every request "
        f"then needs the {TOKEN_HEADER} header)"
    )


def token(data_dir: Path) -> tuple[str, str]:
    """The token remote clients must send, and where it came from. ``ValueError`` for an
    unusable ``PIECES_SERVER_TOKEN``; ``OSError`` when the token file cannot be written."""
    given = os.environ.get(TOKEN_ENV)
    if given is not None:
        if not _TOKEN.fullmatch(given):
            raise ValueError(f"{TOKEN_ENV} must be 16 to 256 printable characters without spaces")
        return given, TOKEN_ENV
    path = Path(data_dir) / TOKEN_FILE
    kept = read_small(path, 512)  # never through a symlink
    value = kept.decode("ascii", "replace").strip() if kept is not None else ""
    # Reused only if nobody else could have read it.
    if _TOKEN.fullmatch(value) and path.lstat().st_mode & 0o077 == 0:
        return value, str(path)
    value = secrets.token_urlsafe(32)
    atomic_write(path, (value + "\n").encode(), mode=0o600)
    return value, str(path)


def require_token(data_dir: Path) -> tuple[str, str]:
    """``token`` for the command line, and the line to print about it; exits with one line
    when there can be none."""
    try:
        value, where = token(data_dir)
    except ValueError as exc:
        sys.exit(f"error: {exc}")
    except OSError as exc:
        sys.exit(f"error: cannot write the token file in {data_dir}: {disk_error(exc, 'it')}")
    if where == TOKEN_ENV:
        return value, f"every request needs {TOKEN_HEADER} (the value of {TOKEN_ENV})"
    return value, f"every request needs {TOKEN_HEADER}: {value} (kept in {where})"
