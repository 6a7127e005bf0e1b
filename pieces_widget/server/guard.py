"""Only this machine's own clients get in: Host, Origin and Content-Type checks (middleware).

- ``Host`` must name a loopback address (127.0.0.0/8, ``localhost``, ``[::1]``, any port) or
  an allowed name: a web page behind DNS rebinding (``Host: evil.example:39300``) gets 403.
- ``Origin``, when present (browsers send it), must be a loopback origin or an allowed one:
  a page on any other site can neither POST (even a "simple" request that needs no preflight)
  nor open the progress WebSocket. Requests without ``Origin`` (scripts, SDKs) pass.
- A request body must be ``application/json`` (415 otherwise): no ``text/plain`` form posts.
- With a ``token`` (``--allow-remote``: see ``remote.py``) every request needs it in the
  ``X-Pieces-Server-Token`` header (403 otherwise), compared in constant time.

Allowed origins also get CORS headers and preflight answers, so a trusted web app can call.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web

from .sources import TOKEN_HEADER

HOSTS_ENV = "PIECES_SERVER_ALLOW_HOSTS"
ORIGINS_ENV = "PIECES_SERVER_ALLOW_ORIGINS"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]


def _env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def is_loopback(host: str) -> bool:
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_name(header: str) -> str:
    """``Host`` header -> the name without port (``[::1]:80`` -> ``::1``)."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    name, _, port = header.rpartition(":")
    return name if name and port.isdigit() else header


def normalize_origin(origin: str) -> str:
    """``HTTPS://Example.org:443/`` -> ``https://example.org:443``; anything else as given."""
    parts = urlsplit(origin.strip())
    if parts.scheme and parts.netloc:
        return f"{parts.scheme.lower()}://{parts.netloc.lower()}"
    return origin.strip().lower()


@dataclass(frozen=True)
class AccessPolicy:
    allow_hosts: frozenset[str] = frozenset()
    allow_origins: frozenset[str] = frozenset()
    token: str | None = None  # required from every client when set

    @classmethod
    def build(
        cls, hosts: Iterable[str] = (), origins: Iterable[str] = (), token: str | None = None
    ) -> AccessPolicy:
        """From command-line values plus the environment variables. With a token, any Host is
        accepted: the Host check stops DNS rebinding, which cannot send the token."""
        hosts = [*hosts, *_env_list(HOSTS_ENV), *(["*"] if token else [])]
        return cls(
            frozenset(h.strip().lower().strip("[]") for h in hosts),
            frozenset(normalize_origin(o) for o in [*origins, *_env_list(ORIGINS_ENV)]),
            token,
        )

    def token_ok(self, header: str | None) -> bool:
        if self.token is None:
            return True
        return header is not None and hmac.compare_digest(
            header.encode("utf-8", "surrogateescape"), self.token.encode()
        )

    def host_ok(self, header: str | None) -> bool:
        if header is None:  # HTTP/1.0 without Host: not a browser
            return True
        name = host_name(header)
        return is_loopback(name) or name in self.allow_hosts or "*" in self.allow_hosts

    def origin_ok(self, origin: str) -> bool:
        if "*" in self.allow_origins or normalize_origin(origin) in self.allow_origins:
            return True
        parts = urlsplit(origin.strip())
        return parts.scheme in ("http", "https") and is_loopback(parts.hostname or "")


def _forbidden(text: str) -> web.Response:
    return web.Response(status=403, text=text, content_type="text/plain")


def _has_body(request: web.Request) -> bool:
    return (
        bool(request.content_length)
        or "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    )


def guard_middleware(policy: AccessPolicy) -> Middleware:
    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        host = request.headers.get("Host")
        if not policy.host_ok(host):
            name = host_name(host or "")
            return _forbidden(
                f"forbidden: Host {host!r} is not a loopback name; to allow it, start the "
                f"server with --allow-host {name} (or set {HOSTS_ENV})"
            )
        origin = request.headers.get("Origin")
        if origin is not None and not policy.origin_ok(origin):
            return _forbidden(
                f"forbidden: Origin {origin!r} is not allowed; to trust it, start the server "
                f"with --allow-origin {normalize_origin(origin)} (or set {ORIGINS_ENV})"
            )
        if origin is not None and request.method == "OPTIONS":  # CORS preflight
            response: web.StreamResponse = web.Response(status=204)
        elif not policy.token_ok(request.headers.get(TOKEN_HEADER)):
            return _forbidden(
                f"forbidden: this server takes requests from other machines, so each needs its "
                f"token in the {TOKEN_HEADER} header (clients read it from PIECES_SERVER_TOKEN)"
            )
        elif _has_body(request) and request.content_type != "application/json":
            return web.Response(
                status=415,
                text=(
                    "request bodies must be JSON with Content-Type: application/json, "
                    f"got {request.content_type!r}"
                ),
                content_type="text/plain",
            )
        else:
            response = await handler(request)
        if origin is not None and not response.prepared:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
            if request.method == "OPTIONS":
                response.headers["Access-Control-Allow-Methods"] = "GET, POST"
                response.headers["Access-Control-Allow-Headers"] = f"Content-Type, {TOKEN_HEADER}"
        return response

    return guard
