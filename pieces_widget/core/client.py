"""PiecesClient: one method per Model API endpoint (and the Ollama runtime's), over the
``Transport`` call layer.

Discovery is lazy (first call). Every failure becomes a ``PiecesError`` with a one-line message;
ids are quoted into paths, so an id is never a path.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

from .deprecation import renamed
from .errors import PiecesServerError
from .models import DownloadProgress, Model, check_id
from .progress import iterate_progress
from .transport import Transport


class PiecesClient(Transport):
    """A client for the Pieces OS Model API (or the reference server, which speaks the same).

    ``PiecesClient()`` discovers Pieces OS on its first call; ``PiecesClient(url)`` uses ``url``.
    """

    @staticmethod
    def model_path(model_id: str, action: str = "") -> str:
        return f"/model/{quote(model_id, safe='')}" + (f"/{action}" if action else "")

    def _model(self, method: str, model_id: str, action: str = "", **kwargs: Any) -> Model:
        check_id(model_id)
        data = self._json(method, self.model_path(model_id, action), model_id=model_id, **kwargs)
        try:
            return Model.from_json(data)
        except ValueError as exc:
            raise PiecesServerError(200, str(data)[:200], f"unexpected answer: {exc}") from None

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

    def snapshot(self, model_id: str) -> Model:
        """One model as Pieces OS has it now (``GET /model/{id}``, the model snapshot)."""
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
        whole = {**self.snapshot(model_id).raw, **fields}
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

    def update_ollama(self, version: str | None = None) -> dict[str, Any]:
        """Start updating Ollama to ``version`` (the one ``updateRequired`` names when None;
        returns at once): the ``OllamaDeployment`` to follow."""
        if version is None:
            required = (self.ollama_status() or {}).get("updateRequired")
            version = required.get("version") if isinstance(required, dict) else None
        body = {"version": version} if isinstance(version, str) else None
        return self._deployment("POST", "/ollama/update", json=body)

    def ollama_update(self, update_id: str) -> dict[str, Any]:
        """One update's ``OllamaDeployment``."""
        return self._deployment("GET", f"/ollama/update/{quote(check_id(update_id), safe='')}")

    def cancel_ollama_update(self, update_id: str) -> dict[str, Any]:
        path = f"/ollama/update/{quote(check_id(update_id), safe='')}/cancel"
        return self._deployment("POST", path)

    def uninstall_ollama(self, installation: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Uninstall Ollama (``installation``: the status's ``installation``, read when None):
        local models cannot run until it is installed again."""
        if installation is None:
            installation = (self.ollama_status() or {}).get("installation")
        body = dict(installation) if isinstance(installation, Mapping) else None
        return self._deployment("POST", "/ollama/uninstall", json=body)

    def _deployment(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        data = self._json(method, path, **kwargs)
        if not isinstance(data, dict):
            raise PiecesServerError(200, str(data)[:200], f"{method} {path} sent no object")
        return data

    def watch_download(
        self, model_id: str, timeout: float | None = None
    ) -> Iterator[DownloadProgress]:
        """Progress of the download of ``model_id`` until a terminal status (for scripts)."""
        return iterate_progress(self, model_id, timeout=timeout)

    # One verb per operation (issue 16): the old names, for one release.
    delete_weights = renamed("delete_weights", "delete")
    delete_model = renamed("delete_model", "remove")
    model = renamed("model", "snapshot")

    def __repr__(self) -> str:
        return f"PiecesClient({self._base_url or 'not yet discovered'!r})"
