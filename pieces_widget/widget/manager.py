"""ModelManager: the anywidget. Traits hold state, custom messages carry commands (``wire.py``),
and every piece of network work runs off the kernel's main thread. Threads hand state to one
writer (``sync.WidgetState``), which reaches the browser at most ~10 times a second.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from ..core.client import PiecesClient
from ..core.deprecation import renamed
from ..core.errors import PiecesError
from ..core.jobs import DownloadJob
from ..core.models import Model
from ..core.runtime import RuntimeInstall
from ..core.runtime_status import NO_API
from ..core.summary import Summary, machine_resources, summarize
from . import reprs
from .actions import ModelActions
from .background import Ticker
from .commands import dispatch
from .downloads import Downloads
from .sync import WidgetState
from .watch import ConnectionWatch, connection_state
from .wire import SORT_KEYS

log = logging.getLogger("pieces_widget.widget")
STATIC = Path(__file__).parent.parent / "static"
# Traits the Python side writes (``_view`` is the browser's: sort and grouping).
WRITTEN = ("models", "downloads", "connection", "error", "_busy", "_row_errors", "_resources",
           "_capabilities", "_add", "runtime")  # fmt: skip


class ModelManager(ModelActions, Downloads, ConnectionWatch, anywidget.AnyWidget):
    """Manage the local AI models of Pieces OS from a notebook cell.

    ``ModelManager()`` discovers Pieces OS; ``ModelManager(base_url=...)`` or
    ``ModelManager(client=...)`` name it. It never raises because Pieces OS is down: the banner
    says so and a background watch (every ``watch_interval`` s) reconnects when it returns.
    """

    _esm = STATIC / "widget.js"
    _css = STATIC / "widget.css"

    models = traitlets.List(traitlets.Dict()).tag(sync=True)
    """The Model JSON of every model, as the server sent it (camelCase keys). Default ``[]``."""
    downloads = traitlets.Dict().tag(sync=True)
    """model id -> ``wire.DownloadEntry``: progress lives here, so a tick never re-sends models."""
    connection = traitlets.Dict().tag(sync=True)
    """``wire.Connection``: state (connected, connecting, unreachable, error), base_url,
    version, message."""
    runtime = traitlets.Dict(dict(NO_API)).tag(sync=True)
    """``runtime.RuntimeInfo``: the Ollama runtime local models need (Pieces OS 11+): state
    (installed, missing, installing, update-required, failed, none), version, percentage,
    message. ``none`` where this Pieces OS has no Ollama API."""
    error = traitlets.Unicode("").tag(sync=True)
    """The latest error message ("" when none), for code; the browser shows it in place."""
    _busy = traitlets.Dict().tag(sync=True)
    _row_errors = traitlets.Dict().tag(sync=True)
    _resources = traitlets.Dict().tag(sync=True)
    _capabilities = traitlets.Dict({"sources": False}).tag(sync=True)
    _view = traitlets.Dict({"sort": "name", "group": False}).tag(sync=True)
    _add = traitlets.Dict({"busy": False, "error": "", "added": ""}).tag(sync=True)

    def __init__(
        self,
        client: PiecesClient | None = None,
        base_url: str | None = None,
        *,
        watch_interval: float | None = 3.0,
        first_answer_timeout: float = 2.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._owns_client = client is None
        self.client = client or PiecesClient(base_url)
        self._jobs: dict[str, DownloadJob] = {}
        self._jobs_lock = threading.Lock()
        self._quiet: set[DownloadJob] = set()  # jobs whose "unknown id" download() will raise
        self._threads: set[threading.Thread] = set()  # short-lived threads this manager runs
        self._last_capabilities: dict[str, Any] = {}  # for summary(): the last answer's disk
        self._capabilities_pending = False
        self._closed = False
        self._watch_interval = watch_interval
        self._watch: Ticker | None = None
        self._views: set[str] = set()  # views on the page now: the health watch runs for them
        self._install: RuntimeInstall | None = None
        self.connection = connection_state("connecting", "", "", "")
        self._state = WidgetState({name: getattr(self, name) for name in WRITTEN}, self._apply)
        self.on_msg(self._on_command)
        first = self.refresh()
        # The first answer (or failure) before the cell ends, so the saved reprs are true.
        with contextlib.suppress(Exception):
            first.result(first_answer_timeout)
        self._state.flush()

    @traitlets.validate("_view")
    def _valid_view(self, proposal: dict[str, Any]) -> dict[str, Any]:
        view = proposal["value"]
        if view.get("sort") not in SORT_KEYS or not isinstance(view.get("group"), bool):
            raise traitlets.TraitError(f"_view needs sort in {SORT_KEYS} and a bool group")
        return {"sort": view["sort"], "group": view["group"]}

    # -- the one writer ----------------------------------------------------------------------
    def _apply(self, updates: dict[str, Any]) -> None:
        if self._closed and self.comm is None:
            return
        with self.hold_sync():
            for name, value in updates.items():
                setattr(self, name, value)

    def summary(self) -> Summary:
        """On-device count and bytes, loaded count and RAM, free disk and available memory.

        Never waits on Pieces OS: the models and free disk are the last figures it sent (memory
        is this machine's, now); a fresh disk figure is asked for in the background."""
        models = [Model.from_json(m) for m in self._state.get("models")]
        resources = machine_resources(self._last_capabilities)
        if not self._closed and not self._capabilities_pending:
            self._capabilities_pending = True
            self._spawn(self._refresh_capabilities)
        return summarize(models, resources)

    def _refresh_capabilities(self) -> None:
        try:
            self._last_capabilities = self.client.capabilities()
            self._state.set(_resources=machine_resources(self._last_capabilities))
        except PiecesError as exc:  # the banner and the watch say what is wrong
            log.info("capabilities: %s", exc)
        finally:
            self._capabilities_pending = False

    def close(self, timeout: float = 2.0) -> None:
        """Stop every thread and socket this manager started, then close the widget. Calls in
        flight are cut, so this returns within ``timeout`` s even while Pieces OS hangs."""
        self._stop_background(timeout)
        self._state.close()
        super().close()
        _forget_file_watch(self)

    remove_model = renamed("remove_model", "remove")  # the old names, for one release
    details = renamed("details", "snapshot")

    def _on_command(self, _: Any, content: Any, buffers: Any) -> None:
        """A message from the browser (``commands.TABLE`` says which method it calls)."""
        dispatch(self, content)

    def _install_runtime_in_background(self) -> None:
        """The Install Ollama button: the request runs off the kernel's main thread."""
        self._background(self.install_runtime)

    # -- reprs for hosts without widgets -----------------------------------------------------
    def __repr__(self) -> str:
        return reprs.text_repr(self._state.get("models"), self._state.get("connection"))

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        models, connection = self._state.get("models"), self._state.get("connection")
        data["text/plain"] = reprs.text_repr(models, connection)
        data["text/html"] = reprs.html_repr(models, connection)
        return bundle


def _forget_file_watch(widget: anywidget.AnyWidget) -> None:
    """anywidget connects a lambda holding each instance to the class's ``_esm``/``_css`` file
    signal and never disconnects it, so no widget is ever collected (anywidget#929). Drop ours."""
    signals = [
        klass.__dict__[key].changed
        for klass in type(widget).__mro__  # add_traits put a subclass in front of ours
        for key in ("_esm", "_css")
        if hasattr(klass.__dict__.get(key), "changed")
    ]
    for changed in signals:
        for slot in list(getattr(changed, "_slots", [])):
            func = getattr(slot, "dereference", lambda: None)()
            cells = getattr(func, "__closure__", None) or ()
            if any(getattr(cell, "cell_contents", None) is widget for cell in cells):
                changed.disconnect(func)  # type: ignore[union-attr]
