"""Talking to model sources: the HTTP session, redirects, which failures are worth a retry, and
every failure in plain words for the user."""

from __future__ import annotations

import asyncio
import errno
import re
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp

MAX_REDIRECTS = 10
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class SourceOptions:
    """How patient the server is with a source (``--stall-timeout``, ``--retries``, ...)."""

    stall_timeout: float = 30.0  # seconds without a byte before a try counts as stalled
    retries: int = 5  # retries in a row without progress, then FAILED
    backoff: float = 1.0  # first wait between tries; doubles each retry
    backoff_max: float = 30.0
    connect_timeout: float = 10.0

    def delay(self, attempt: int) -> float:
        return min(self.backoff * 2 ** (attempt - 1), self.backoff_max)


def session_factory(options: SourceOptions) -> Callable[[], aiohttp.ClientSession]:
    def make() -> aiohttp.ClientSession:
        return aiohttp.ClientSession(
            read_bufsize=4 << 20,
            auto_decompress=False,
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


def content_range_start(header: str | None) -> int | None:
    match = re.match(r"bytes (\d+)-\d+/(\d+|\*)", header or "")
    return int(match.group(1)) if match else None


async def probe_size(session: aiohttp.ClientSession, url: str, stall_timeout: float) -> int:
    """The size a source announces (HEAD, else a one-byte ranged GET); SourceError otherwise."""
    kwargs = {"max_redirects": MAX_REDIRECTS + 1, "timeout": aiohttp.ClientTimeout(total=30)}
    try:
        async with session.head(url, allow_redirects=True, **kwargs) as response:
            if response.status == 200 and response.content_length:
                return response.content_length
        async with session.get(url, headers={"Range": "bytes=0-0"}, **kwargs) as response:
            total = re.fullmatch(r"bytes 0-0/(\d+)", response.headers.get("Content-Range", ""))
            if response.status == 206 and total:
                return int(total.group(1))
            if response.status == 200 and response.content_length:
                return response.content_length
            if response.status >= 400:
                raise status_error(response.status, response.reason)
    except aiohttp.ClientError as exc:
        raise describe_client_error(exc, stall_timeout) from None
    except asyncio.TimeoutError:
        raise SourceError("the source did not answer within 30 s") from None
    raise SourceError("the source did not say its size (no Content-Length): give source 'bytes'")
