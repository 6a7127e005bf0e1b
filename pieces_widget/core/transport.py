"""The HTTP call layer under ``PiecesClient``: where Pieces OS is (discovered once, found again
when it moves), ``POST /connect`` before the first call, and every failure as one-line error.

Ids never reach here unquoted: the endpoints build the paths.
"""

from __future__ import annotations

import os
import platform
import threading
from collections.abc import Collection
from typing import Any

import requests

from .._version import __version__
from . import calls
from .calls import (
    BODY_ERRORS,
    MAX_ANSWER_BYTES,
    MAX_ERROR_TEXT,
    Answer,
    AnswerTooLarge,
    CallCut,
    Calls,
    read_body,
    timed_out,
)
from .discovery import discover
from .errors import (
    ModelNotFoundError,
    PiecesConnectionError,
    PiecesError,
    PiecesServerError,
    PiecesTimeoutError,
)
from .models import JSONTooDeep, readable_bytes

APPLICATION_NAME = "JUPYTER_HUB"
TOKEN_ENV, TOKEN_HEADER = "PIECES_SERVER_TOKEN", "X-Pieces-Server-Token"


def _platform() -> str:
    system = platform.system().upper()
    return {"DARWIN": "MACOS", "WINDOWS": "WINDOWS", "LINUX": "LINUX"}.get(system, "WEB")


def _status_error(answer: Answer, model_id: str | None) -> Exception:
    status, text = answer.status, answer.text
    if status == 410 and model_id is not None:
        return ModelNotFoundError(model_id)
    if status == 401:
        return PiecesServerError(
            status, text, "Pieces OS says you are not signed in: sign in to Pieces OS, then retry"
        )
    if status == 593:
        return PiecesServerError(
            status, text, "Pieces OS needs an update: update Pieces OS, then retry"
        )
    return PiecesServerError(status, text)


class Transport:
    """Requests to one Pieces OS (or the reference server), each bounded in time and size;
    ``PiecesClient`` adds the endpoints."""

    def __init__(
        self,
        base_url: str | None = None,
        *,
        connect_timeout: float = 2.0,
        read_timeout: float = 30.0,
        application: str = APPLICATION_NAME,
        max_answer_bytes: int = MAX_ANSWER_BYTES,
    ) -> None:
        """``read_timeout`` bounds a whole call (not each read): a call Pieces OS has not
        finished answering by then fails with ``PiecesTimeoutError``. An answer over
        ``max_answer_bytes`` (counted after decompression) is a ``PiecesServerError``."""
        self._explicit_url = base_url.rstrip("/") if base_url else None
        self._base_url = self._explicit_url
        self._how = ""  # how a discovered URL was found: "port scan", "PIECES_OS_URL", ...
        self.timeout = (connect_timeout, read_timeout)
        self.application = application
        self.application_id: str | None = None
        self.max_answer_bytes = max_answer_bytes
        self._calls = Calls()
        self.session = calls.session()
        self.session.trust_env = False  # Pieces OS is on loopback: never through a proxy
        self.session.headers["User-Agent"] = f"pieces-widget/{__version__}"
        if token := os.environ.get(TOKEN_ENV):  # a reference server started with --allow-remote
            self.session.headers[TOKEN_HEADER] = token
        self._lock = threading.Lock()
        self._connected = False

    # -- where -------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """The server's base URL, discovering it on first use."""
        with self._lock:
            if self._base_url is None:
                found = discover()
                self._base_url, self._how = found.base_url, found.how
            return self._base_url

    def _rediscover(self) -> bool:
        """Forget a discovered URL that stopped answering; True when another was found."""
        if self._explicit_url is not None:
            return False
        with self._lock:
            old, self._base_url, self._connected = self._base_url, None, False
        try:
            return self.base_url != old
        except PiecesConnectionError:
            return False

    def ws_url(self, path: str) -> str:
        return "ws" + self.base_url.removeprefix("http") + path

    # -- transport ---------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        model_id: str | None = None,
        timeout: tuple[float, float] | None = None,
    ) -> Answer:
        """Send one request and read its answer; a discovered URL that stopped answering is
        rediscovered once. The call ends within ``timeout[1]`` s whatever the server does."""
        for attempt in (1, 2):
            url = self.base_url + path
            if not self._connected and path != "/connect":
                self._connect(f"{method} {path}")
            try:
                answer = self._send(method, url, json, timeout or self.timeout)
            except requests.ConnectionError:
                if attempt == 1 and self._rediscover():
                    continue
                raise PiecesConnectionError(self._unreachable(url)) from None
            if not answer.ok:
                raise _status_error(answer, model_id)
            return answer
        raise AssertionError("unreachable")

    def _send(
        self,
        method: str,
        url: str,
        body: Any,
        timeout: tuple[float, float],
        label: str | None = None,
    ) -> Answer:
        """One HTTP exchange as a ``Call`` of ``timeout[1]`` s in all: ``PiecesTimeoutError``
        when it runs out, ``requests.ConnectionError`` when the server cannot be reached or
        breaks off, ``PiecesError`` for the rest; never a hang, never an unbounded body.
        ``label`` names the call in messages (the caller's call, for the ``/connect`` before
        it)."""
        path = url.removeprefix(self._base_url or "")
        label = label or f"{method} {path}"
        try:
            with self._calls.run(timeout[1]) as call:
                try:
                    response = self.session.request(
                        method, url, json=body, timeout=timeout, stream=True
                    )
                    ok = response.status_code < 400
                    cap = self.max_answer_bytes if ok else MAX_ERROR_TEXT
                    return Answer(response.status_code, read_body(response, cap, not ok))
                except AnswerTooLarge as exc:
                    raise PiecesServerError(
                        200,
                        "",
                        f"Pieces OS sent more than {readable_bytes(exc.cap)} for {label}: the "
                        "answer was dropped (is this Pieces OS?)",
                    ) from None
                except BODY_ERRORS as exc:
                    if call.cut or isinstance(exc, CallCut):
                        raise CallCut from None
                    if call.expired or timed_out(exc):
                        raise PiecesTimeoutError(
                            f"Pieces OS is too slow to answer: {label} at {self._base_url} "
                            f"took over {timeout[1]:g} s; is it busy or stuck? retry, or "
                            "restart Pieces OS"
                        ) from None
                    if isinstance(exc, requests.ConnectionError):
                        raise
                    raise requests.ConnectionError(str(exc)) from None
        except CallCut:
            raise PiecesConnectionError(
                f"{label} was stopped before Pieces OS answered: the client (or what used it) "
                "is closing"
            ) from None

    def interrupt(self, threads: Collection[threading.Thread]) -> None:
        """Cut the calls in flight from ``threads`` and refuse their later ones: they end at
        once with a ``PiecesConnectionError`` (for threads that are stopping: a job, a manager
        closing on a client it shares)."""
        self._calls.cut(threads)

    def _unreachable(self, url: str) -> str:
        if self._how == "PIECES_OS_URL":
            return f"Pieces OS is not reachable at {url} (from PIECES_OS_URL): is it running there?"
        if self._how:
            return (
                f"Pieces OS is not reachable at {url} (found by {self._how}): start Pieces OS, "
                "or point PIECES_OS_URL at it"
            )
        return f"Pieces OS is not reachable at {url}: is it running there?"

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self.request(method, path, **kwargs)
        try:
            return answer.json()
        except JSONTooDeep as exc:
            raise PiecesServerError(
                answer.status, "", f"Pieces OS sent JSON {exc} for {method} {path}"
            ) from None
        except ValueError:
            raise PiecesServerError(
                answer.status, answer.text[:1000], f"Pieces OS sent no JSON for {method} {path}"
            ) from None

    def _connect(self, before: str) -> None:
        """Register as an application where the server offers ``POST /connect``, before the
        call ``before`` (which a timeout names: that is the call the user made)."""
        self._connected = True
        body = {
            "application": {
                "name": self.application,
                "version": __version__,
                "platform": _platform(),
            }
        }
        try:
            answer = self._send("POST", self.base_url + "/connect", body, self.timeout, before)
        except PiecesTimeoutError:
            self._connected = False  # too slow now: said once, by this call; asked again later
            raise
        except (requests.RequestException, PiecesError):
            return
        if not answer.ok:
            return  # servers without /connect (or refusing this name) are used without it
        try:
            app_id = answer.json()["application"]["id"]
        except (ValueError, KeyError, TypeError):
            return
        if isinstance(app_id, str):
            self.application_id = app_id
            self.session.headers["application"] = app_id
            self.session.headers["X-Application-ID"] = app_id

    def close(self) -> None:
        """Cut every call in flight (their threads return at once) and close the sockets."""
        self._calls.cut()
        self.session.close()
