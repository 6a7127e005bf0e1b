"""The HTTP layer under ``PiecesClient``: each call has a total deadline, a cap on what its
answer may weigh, and can be cut from another thread.

requests' timeouts are per socket read: a server that drips a byte every 2 s keeps a call going
as long as it likes, and nothing bounds an answer (a 400 KB gzip body inflates to gigabytes).
So every call runs as a ``Call``: the sockets it reads from wait at most what is left of its
deadline before each read, its body is read in chunks and counted after decompression, and
``Calls.cut`` shuts the socket of calls in flight, so that a thread blocked in a read returns at
once (``close()`` leaves no thread and no socket behind, even while Pieces OS hangs).

The deadline is enforced where the connection reads a plain socket: http, which Pieces OS
speaks on loopback. Over TLS each read still has the per-read timeout, and ``cut`` still works.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import weakref
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from .models import loads

MAX_ANSWER_BYTES = 64 * 1024 * 1024  # a JSON answer, counted after decompression
MAX_ERROR_TEXT = 64 * 1024  # what is read of an error answer's body (the rest is not needed)
CHUNK = 64 * 1024

_current = threading.local()  # .call: the Call the current thread is making, if any


class CallCut(Exception):
    """The call was cut by ``Calls.cut`` (the client is closing)."""


class AnswerTooLarge(Exception):
    """The answer's body went over the cap."""

    def __init__(self, cap: int) -> None:
        super().__init__(f"over {cap} bytes")
        self.cap = cap


class Call:
    """One request in flight: its deadline, its thread, the sockets it read from."""

    def __init__(self, total: float) -> None:
        self.total = total
        self.deadline = time.monotonic() + total
        self.thread = threading.current_thread()
        self.expired = False  # the deadline passed while it ran
        self.cut = False
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()

    def left(self) -> float:
        """Seconds left; ``TimeoutError`` (a socket timeout) once none are, ``CallCut`` once cut."""
        if self.cut:
            raise CallCut
        left = self.deadline - time.monotonic()
        if left <= 0:
            self.expired = True
            raise TimeoutError("the call's deadline passed")
        return left

    def attach(self, sock: socket.socket) -> None:
        with self._lock:
            if self.cut:
                raise CallCut
            self._sockets.add(sock)

    def shut(self) -> None:
        """Cut the call: a read blocked on its socket returns at once, later reads fail."""
        with self._lock:
            self.cut = True
            sockets = list(self._sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class Calls:
    """The calls a client has in flight."""

    def __init__(self) -> None:
        self._calls: set[Call] = set()
        self._cut_threads: weakref.WeakSet[threading.Thread] = weakref.WeakSet()
        self._lock = threading.Lock()
        self.closed = False

    @contextlib.contextmanager
    def run(self, total: float) -> Iterator[Call]:
        """Make the current thread's requests inside this block one ``Call`` of ``total`` s."""
        call = Call(total)
        with self._lock:
            if self.closed or call.thread in self._cut_threads:
                raise CallCut
            self._calls.add(call)
        outer = getattr(_current, "call", None)
        _current.call = call
        try:
            yield call
        finally:
            _current.call = outer
            with self._lock:
                self._calls.discard(call)

    def cut(self, threads: Collection[threading.Thread] | None = None) -> None:
        """Cut the calls in flight from ``threads``, and refuse their later calls (threads
        that are stopping); None: every call, and no new one (the client is closed)."""
        with self._lock:
            if threads is None:
                self.closed = True
            else:
                self._cut_threads.update(threads)
            calls = [c for c in self._calls if threads is None or c.thread in threads]
        for call in calls:
            call.shut()


class _DeadlineSocket(socket.socket):
    """A socket whose reads wait at most what is left of the current thread's ``Call``."""

    _asked: float | None = None

    def settimeout(self, value: float | None) -> None:
        self._asked = value
        super().settimeout(value)

    def _before_read(self) -> None:
        call: Call | None = getattr(_current, "call", None)
        if call is None:
            return
        call.attach(self)
        left = call.left()
        super().settimeout(left if self._asked is None else min(self._asked, left))

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        self._before_read()
        return super().recv_into(buffer, nbytes, flags)

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        self._before_read()
        return super().recv(bufsize, flags)


def _deadline_socket(sock: socket.socket) -> socket.socket:
    timeout = sock.gettimeout()
    wrapped = _DeadlineSocket(sock.family, sock.type, sock.proto, fileno=sock.detach())
    wrapped.settimeout(timeout)
    call: Call | None = getattr(_current, "call", None)
    if call is not None:
        call.attach(wrapped)
    return wrapped


class _Connection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return _deadline_socket(super()._new_conn())


class _TLSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()  # TLS reads bypass a Python-level recv: attach only
        call: Call | None = getattr(_current, "call", None)
        if call is not None:
            call.attach(sock)
        return sock


class _Pool(HTTPConnectionPool):
    ConnectionCls = _Connection


class _TLSPool(HTTPSConnectionPool):
    ConnectionCls = _TLSConnection


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter on connections whose sockets follow the current ``Call``."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _Pool, "https": _TLSPool}


def session() -> requests.Session:
    """A ``requests.Session`` whose calls follow ``Calls.run``."""
    made = requests.Session()
    adapter = DeadlineAdapter()
    made.mount("http://", adapter)
    made.mount("https://", adapter)
    return made


def read_body(response: requests.Response, cap: int, truncate: bool = False) -> bytes:
    """The (decoded) body of a streamed response, at most ``cap`` bytes: ``AnswerTooLarge``
    past it, or with ``truncate`` the first ``cap`` bytes. Compressed bodies are counted as
    they inflate, a chunk at a time, so a gzip bomb costs at most ``cap`` bytes of memory."""
    body = bytearray()
    try:
        for chunk in response.iter_content(CHUNK):
            body += chunk
            if len(body) > cap:
                if truncate:
                    return bytes(body[:cap])
                raise AnswerTooLarge(cap)
    finally:
        response.close()
    return bytes(body)


# Exceptions that mean "the transport failed" while a body is read (requests wraps urllib3's).
BODY_ERRORS = (requests.RequestException, urllib3.exceptions.HTTPError, OSError, CallCut)


@dataclass(frozen=True)
class Answer:
    """A server's answer, its body read whole (and capped)."""

    status: int
    body: bytes

    @property
    def ok(self) -> bool:
        return self.status < 400

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body as JSON (``models.loads``: safe for any shape); ``ValueError`` if not."""
        return loads(self.body)


def timed_out(exc: BaseException) -> bool:
    """True when ``exc`` is (or wraps) a timeout: requests wraps urllib3's, which wrap the
    socket's."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None or isinstance(seen, urllib3.exceptions.NewConnectionError):
            return False  # refused (urllib3 files it under connect timeouts, for history)
        if isinstance(seen, (requests.Timeout, TimeoutError, urllib3.exceptions.TimeoutError)):
            return True
        inner = getattr(seen, "reason", None)
        if not isinstance(inner, BaseException) and seen.args:
            inner = seen.args[0] if isinstance(seen.args[0], BaseException) else None
        seen = inner or seen.__context__
    return False
