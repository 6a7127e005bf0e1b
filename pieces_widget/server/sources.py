"""Talking to model sources: the HTTP session, redirects, which failures are worth a retry, and
every failure in plain words for the user."""

from __future__ import annotations

import asyncio
import errno
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import aiohttp
import yarl

MAX_REDIRECTS = 10
TOKEN_HEADER = "X-Pieces-Server-Token"
MAX_SIZE = 1 << 50  # 1 PiB: a bigger model file is a typo or a lie
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class SourceOptions:
    """How patient the server is with a source (``--stall-timeout``, ``--retries``, ...)."""

    stall_timeout: float = 30.0  # seconds without a byte before a try counts as stalled
    retries: int = 5  # retries in a row without progress, then FAILED
    backoff: float = 1.0  # first wait between tries; doubles each retry
    backoff_max: float = 30.0
    connect_timeout: float = 10.0
    # This server's own origins (``http://host:port``) and the token its requests need
    # (``--allow-remote``): it fetches its hub blobs from itself. No other source sees it.
    own_origins: frozenset[str] = frozenset()
    token: str | None = None

    def delay(self, attempt: int) -> float:
        return min(self.backoff * 2 ** (attempt - 1), self.backoff_max)

    def headers_for(self, url: str) -> dict[str, str]:
        """Extra request headers for a source at ``url``: the token, for this server only."""
        if self.token is None or _origin(url) not in self.own_origins:
            return {}
        return {TOKEN_HEADER: self.token}


def _origin(url: str) -> str:
    try:
        return str(yarl.URL(url).origin())
    except ValueError:
        return ""


def session_factory(options: SourceOptions) -> Callable[[], aiohttp.ClientSession]:
    def make() -> aiohttp.ClientSession:
        return aiohttp.ClientSession(
            read_bufsize=4 << 20,
            auto_decompress=False,
            # aiohttp asks for gzip/deflate by default, and we store bodies as they come: a
            # compressed body would become the weights. Ask for the bytes themselves, as curl -o.
            headers={"Accept-Encoding": "identity"},
            trust_env=False,
            timeout=aiohttp.ClientTimeout(
                total=None,
                sock_connect=options.connect_timeout,
                sock_read=options.stall_timeout,  # the stall watchdog
            ),
        )

    return make


class SourceError(Exception):
    """A failure of the source, in words for the user; ``retry`` if another try may help."""

    def __init__(self, message: str, retry: bool = False) -> None:
        super().__init__(message)
        self.retry = retry


def status_error(status: int, reason: str | None) -> SourceError:
    """In words with the next step: "the source answered 404 Not Found: check the URL"."""
    if status in (404, 410):
        step = "check the URL"
    elif status in (401, 403):
        step = "the source needs a sign-in: use a public URL"
    elif status >= 500 or status == 429:
        step = "the source is down or busy: retry later"
    else:
        step = "check the URL"
    text = f"the source answered {status}{f' {reason}' if reason else ''}: {step}"
    return SourceError(text, retry=status in RETRY_STATUSES)


def describe_client_error(exc: BaseException, stall_timeout: float) -> SourceError:
    """An aiohttp/network exception as a ``SourceError`` (retry or not)."""
    if isinstance(exc, aiohttp.TooManyRedirects):
        urls = [str(r.url) for r in exc.history]
        if len(set(urls)) < len(urls):
            return SourceError(f"redirect loop at {_short(urls[-1])}")
        return SourceError(f"too many redirects (more than {MAX_REDIRECTS}) from {_short(urls[0])}")
    if isinstance(exc, aiohttp.NonHttpUrlRedirectClientError):
        return SourceError(f"the source redirected to a non-http(s) URL: {_short(str(exc))}")
    if isinstance(exc, aiohttp.InvalidUrlRedirectClientError):
        return SourceError(f"the source redirected to an invalid URL: {_short(str(exc))}")
    if isinstance(exc, aiohttp.InvalidURL):
        return SourceError(f"invalid source URL: {_short(str(exc))}")
    if isinstance(exc, (aiohttp.SocketTimeoutError, asyncio.TimeoutError)):
        return SourceError(f"source stalled: no data for {stall_timeout:g} s", retry=True)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return SourceError(f"cannot reach the source: {exc.strerror or exc}", retry=True)
    if isinstance(exc, aiohttp.ClientPayloadError):
        return SourceError("the source broke off the transfer (connection reset)", retry=True)
    if isinstance(exc, (aiohttp.ServerDisconnectedError, aiohttp.ClientConnectionResetError)):
        return SourceError("the source closed the connection (connection reset)", retry=True)
    if isinstance(exc, aiohttp.ClientConnectionError):
        return SourceError(f"connection to the source failed: {exc}", retry=True)
    return SourceError(f"source error: {exc or type(exc).__name__}")


def disk_error(exc: OSError, where: str) -> str:
    """A file-system failure in plain words."""
    if exc.errno == errno.ENOSPC or exc.errno == errno.EDQUOT:
        return "disk full"
    if exc.errno == errno.EROFS:
        return f"the data directory is read-only ({where})"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"permission denied writing to {where}"
    if exc.errno == errno.ELOOP:
        return f"refusing to follow a symlink at {where}"
    return f"cannot write to {where}: {exc.strerror or exc}"


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_identity(headers: Mapping[str, str]) -> None:
    """Refuse a body the source encoded although we asked for ``identity``: its bytes are not
    the file's."""
    encoding = headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise SourceError(
            f"the source sent encoded data (Content-Encoding: {_short(encoding, 40)}) "
            "though asked for the file as is"
        )


def check_announced(size: int) -> int:
    """A size a source announced, if this server can hold it; SourceError otherwise."""
    if size <= 0:
        raise SourceError("the source says its file is empty (0 bytes)")
    if size > MAX_SIZE:
        raise SourceError(
            f"the source announces {size} bytes, more than the {MAX_SIZE} (1 PiB) this server "
            "accepts"
        )
    return size


def content_range_start(header: str | None) -> int | None:
    match = re.match(r"bytes (\d+)-\d+/(\d+|\*)", header or "")
    return int(match.group(1)) if match else None


async def probe_size(
    session: aiohttp.ClientSession,
    url: str,
    stall_timeout: float,
    headers: Mapping[str, str] | None = None,
) -> int:
    """The size a source announces (HEAD, else a one-byte ranged GET); SourceError otherwise."""
    kwargs = {"max_redirects": MAX_REDIRECTS + 1, "timeout": aiohttp.ClientTimeout(total=30)}
    extra = dict(headers or {})
    try:
        async with session.head(url, allow_redirects=True, headers=extra, **kwargs) as response:
            if response.status == 200 and response.content_length:  # 0: ask with a GET
                check_identity(response.headers)
                return check_announced(response.content_length)
        async with session.get(url, headers={**extra, "Range": "bytes=0-0"}, **kwargs) as response:
            check_identity(response.headers)
            total = re.fullmatch(r"bytes 0-0/(\d{1,20})", response.headers.get("Content-Range", ""))
            if response.status == 206 and total:
                return check_announced(int(total.group(1)))
            if response.status == 200 and response.content_length is not None:
                return check_announced(response.content_length)
            if response.status >= 400:
                raise status_error(response.status, response.reason)
    except aiohttp.ClientError as exc:
        raise describe_client_error(exc, stall_timeout) from None
    except asyncio.TimeoutError:
        raise SourceError("the source did not answer within 30 s") from None
    raise SourceError("the source did not say its size (no Content-Length): give source 'bytes'")
