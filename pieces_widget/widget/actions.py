"""The manager's model actions: load, unload, snapshot, edit, delete, remove, add, in threads."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from typing import Any

from ..core.models import Model, check_id
from .background import Background


class ModelActions(Background):
    """The ModelManager's one-call actions on models: each runs in a background thread, marks
    its row busy, and shows the server's answer (a mixin: the state it uses is the manager's)."""

    _refresh: Callable[[], list[Model]]  # ConnectionWatch's: the list read again

    def _model_action(
        self, model_id: str, busy: str, call: Callable[[str], Model], writes: bool = True
    ) -> concurrent.futures.Future[Model]:
        check_id(model_id)
        return self._background(lambda: self._show(lambda: call(model_id), writes), model_id, busy)

    def load(self, model_id: str) -> concurrent.futures.Future[Model]:
        """Load into memory in the background; the returned future holds the Model."""
        return self._model_action(model_id, "loading", self.client.load)

    def unload(self, model_id: str) -> concurrent.futures.Future[Model]:
        return self._model_action(model_id, "unloading", self.client.unload)

    def snapshot(self, model_id: str) -> concurrent.futures.Future[Model]:
        """Fetch the model's snapshot (``GET /model/{id}``) into the list."""
        return self._model_action(model_id, "", self.client.snapshot, writes=False)

    def update_model(self, model_id: str, **fields: Any) -> concurrent.futures.Future[Model]:
        """Edit a custom model (the whole Model is sent, with ``fields`` merged in)."""
        return self._model_action(
            model_id, "saving", lambda i: self.client.update({"id": i, **fields})
        )

    def delete(self, model_id: str) -> concurrent.futures.Future[Model]:
        """Delete the model's weights from disk (unloading it first; a download in flight is
        canceled by the server)."""

        def delete(i: str) -> Model:
            self.client.delete(i)
            self._state.set_entry("downloads", i, None)
            return self.client.snapshot(i)

        return self._model_action(model_id, "deleting", delete)

    def remove(self, model_id: str) -> concurrent.futures.Future[None]:
        """Remove a custom model (``POST /models/{id}/delete``)."""
        check_id(model_id)

        def work() -> None:
            with self._jobs_lock:
                job = self._jobs.pop(model_id, None)
            if job is not None:
                job.stop()  # the server cancels the download; its job has nothing more to say
            self.client.remove(model_id)
            self._state.drop_model(model_id, self._state.ticket())  # a write: as new as its answer
            for trait in ("downloads", "_row_errors"):
                self._state.set_entry(trait, model_id, None)

        return self._background(work, model_id, "removing")

    def unload_all(self) -> concurrent.futures.Future[list[Model]]:
        """Unload every loaded model, then reload the list."""

        def work() -> list[Model]:
            self.client.unload_all()
            return self._refresh()

        return self._background(work)

    def add_model(
        self, name: str, url: str, sha256: str | None = None, **fields: Any
    ) -> concurrent.futures.Future[Model]:
        """Add a custom model whose weights are at ``url`` (servers that accept sources)."""
        if not isinstance(name, str) or not name.strip():
            raise ValueError("a model needs a name")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ValueError(f"the model's URL must be http(s)://..., got {url!r}")
        source = {"url": url, **({"sha256": sha256} if sha256 else {})}

        def work() -> Model:
            self._set_add(busy=True)
            try:
                model = self.client.create_model({"name": name.strip(), "source": source, **fields})
            except Exception as exc:
                self._set_add(error=str(exc))
                raise
            # ``added`` changes, so the browser sees the end even when busy was coalesced away
            self._set_add(added=model.id)
            self._state.put_model(model.raw, self._state.ticket())  # a write: as new as its answer
            return model

        return self._background(work)

    def _set_add(self, busy: bool = False, error: str = "", added: str | None = None) -> None:
        """The Add model form's state; ``added`` (the last added id) is kept unless given."""
        last = self._state.get("_add")["added"] if added is None else added
        self._state.set(_add={"busy": busy, "error": error, "added": last})
