"""PiecesClient: one method per Model API endpoint, over a ``requests.Session``.

Discovery is lazy (first call). Every failure becomes a ``PiecesError`` with a one-line message;
ids are quoted into paths, so an id is never a path.
"""

from __future__ import annotations

import os
import platform
import threading
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests
import urllib3

from .._version import __version__
from . import calls
from .calls import (
    BODY_ERRORS,
    MAX_ANSWER_BYTES,
    MAX_ERROR_TEXT,
    AnswerTooLarge,
    CallCut,
    Calls,
    read_body,
)
from .deprecation import renamed
from .discovery import discover
from .errors import (
    ModelNotFoundError,
    PiecesConnectionError,
    PiecesError,
    PiecesServerError,
    PiecesTimeoutError,
)
from .models import DownloadProgress, JSONTooDeep, Model, check_id, loads, readable_bytes

APPLICATION_NAME = "JUPYTER_HUB"
TOKEN_ENV, TOKEN_HEADER = "PIECES_SERVER_TOKEN", "X-Pieces-Server-Token"


def _platform() -> str:
    system = platform.system().upper()
    return {"DARWIN": "MACOS", "WINDOWS": "WINDOWS", "LINUX": "LINUX"}.get(system, "WEB")


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


def _timed_out(exc: BaseException) -> bool:
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


class PiecesClient:
    """A client for the Pieces OS Model API (or the reference server, which speaks the same).

    ``PiecesClient()`` discovers Pieces OS on its first call; ``PiecesClient(url)`` uses ``url``.
    """

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

    @staticmethod
    def model_path(model_id: str, action: str = "") -> str:
        return f"/model/{quote(model_id, safe='')}" + (f"/{action}" if action else "")

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
                    if call.expired or _timed_out(exc):
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

    def _model(self, method: str, model_id: str, action: str = "", **kwargs: Any) -> Model:
        check_id(model_id)
        data = self._json(method, self.model_path(model_id, action), model_id=model_id, **kwargs)
        try:
            return Model.from_json(data)
        except ValueError as exc:
            raise PiecesServerError(200, str(data)[:200], f"unexpected answer: {exc}") from None

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

    # -- endpoints ---------------------------------------------------------------------------
    def health(self, timeout: tuple[float, float] | None = None) -> str:
        """The health text, e.g. ``ok:<uuid>`` (``migrating`` while Pieces OS starts)."""
        return self.request("GET", "/.well-known/health", timeout=timeout).text

    def version(self) -> str:
        return self.request("GET", "/.well-known/version").text.strip().strip('"')

    def models(self) -> list[Model]:
        data = self._json("GET", "/models")
        items = data.get("iterable") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise PiecesServerError(200, str(data)[:200], "GET /models sent no 'iterable' list")
        # a model without a string id cannot be named in any call: it is left out, not an error
        return [
            Model.from_json(item)
            for item in items
            if isinstance(item, dict) and isinstance(item.get("id"), str)
        ]

    def model(self, model_id: str) -> Model:
        return self._model("GET", model_id)

    def download(self, model_id: str) -> Model:
        return self._model("POST", model_id, "download")

    def cancel_download(self, model_id: str) -> Model:
        return self._model("POST", model_id, "download/cancel")

    def load(self, model_id: str) -> Model:
        return self._model("POST", model_id, "load", timeout=(self.timeout[0], 300))

    def unload(self, model_id: str) -> Model:
        return self._model("POST", model_id, "unload")

    def update(self, model: Model | Mapping[str, Any]) -> Model:
        """Update a custom model: the current Model with the given fields merged in is sent."""
        fields = dict(model.raw if isinstance(model, Model) else model)
        model_id = fields.get("id")
        if not isinstance(model_id, str):
            raise ValueError("update needs a Model or a dict with a string 'id'")
        whole = {**self.model(model_id).raw, **fields}
        data = self._json("POST", "/model/update", json=whole, model_id=model_id)
        return Model.from_json(data)

    def delete(self, model_id: str) -> dict[str, Any]:
        """Delete the downloaded weights (and any partial file): ``ModelDeleteCacheOutput``."""
        check_id(model_id)
        path = f"/models/{quote(model_id, safe='')}/delete/cache"
        data = self._json("POST", path, json={}, model_id=model_id)
        return data if isinstance(data, dict) else {}

    def unload_all(self) -> None:
        """Unload every loaded model (``POST /models/unload``)."""
        self.request("POST", "/models/unload")

    def create_model(self, seeded: Mapping[str, Any]) -> Model:
        """Create a custom model from a ``SeededModel`` (the reference server also takes a
        ``source``: ``{"url", "sha256"?, "bytes"?}``)."""
        if not isinstance(seeded, Mapping):
            raise TypeError("create_model needs a SeededModel dict")
        data = self._json("POST", "/models/create", json=dict(seeded))
        try:
            return Model.from_json(data)
        except ValueError as exc:
            raise PiecesServerError(200, str(data)[:200], f"unexpected answer: {exc}") from None

    def remove(self, model_id: str) -> None:
        """Remove a custom model (``POST /models/{id}/delete``; custom models only)."""
        check_id(model_id)
        self.request("POST", f"/models/{quote(model_id, safe='')}/delete", model_id=model_id)

    def capabilities(self) -> dict[str, Any]:
        """What the server offers beyond the spec (the reference server's
        ``/.well-known/capabilities``); ``{}`` for a server without that route (Pieces OS)."""
        try:
            data = self._json("GET", "/.well-known/capabilities")
        except PiecesServerError:
            return {}
        return data if isinstance(data, dict) else {}

    # -- the Ollama runtime (Pieces OS 11+) ---------------------------------------------------
    def ollama_status(self) -> dict[str, Any] | None:
        """``OllamaStatus`` JSON, or None where the route answers 404 (an older Pieces OS)."""
        try:
            data = self._json("GET", "/ollama/status")
        except PiecesServerError as exc:
            if exc.status == 404:
                return None
            raise
        return data if isinstance(data, dict) else {}

    def install_ollama(self) -> dict[str, Any]:
        """Start installing Ollama (returns at once): the ``OllamaDeployment`` to follow."""
        return self._deployment("POST", "/ollama/install")

    def ollama_install(self, install_id: str) -> dict[str, Any]:
        """One install's ``OllamaDeployment``: status, percentage, version."""
        return self._deployment("GET", f"/ollama/install/{quote(check_id(install_id), safe='')}")

    def cancel_ollama_install(self, install_id: str) -> dict[str, Any]:
        path = f"/ollama/install/{quote(check_id(install_id), safe='')}/cancel"
        return self._deployment("POST", path)

    def _deployment(self, method: str, path: str) -> dict[str, Any]:
        data = self._json(method, path)
        if not isinstance(data, dict):
            raise PiecesServerError(200, str(data)[:200], f"{method} {path} sent no object")
        return data

    def watch_download(
        self, model_id: str, timeout: float | None = None
    ) -> Iterator[DownloadProgress]:
        """Progress of the download of ``model_id`` until a terminal status (for scripts)."""
        from .progress import iterate_progress

        return iterate_progress(self, model_id, timeout=timeout)

    # One verb per operation (issue 16): the old names, for one release.
    delete_weights = renamed("delete_weights", "delete")
    delete_model = renamed("delete_model", "remove")

    def close(self) -> None:
        """Cut every call in flight (their threads return at once) and close the sockets."""
        self._calls.cut()
        self.session.close()

    def __repr__(self) -> str:
        return f"PiecesClient({self._base_url or 'not yet discovered'!r})"
