"""What crosses from Python to the browser: the shapes of the synced traits and commands.

The JS typedefs (``js/src/types.js``) point here; DESIGN.md section 4 describes the same shapes.
Keep the three in step: a key added here is added there in the same commit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, TypedDict, get_args

# Shapes the core defines that cross to the browser too (re-exported: this is the list).
from ..core.runtime_status import RuntimeInfo as RuntimeInfo
from ..core.summary import Resources as Resources

if TYPE_CHECKING:
    from ..core.jobs import DownloadJob

ConnectionState = Literal["connected", "connecting", "unreachable", "error"]
SortKey = Literal["name", "size", "ram", "state"]
SORT_KEYS: tuple[str, ...] = get_args(SortKey)

# The synced traits the browser draws from (``error`` is for code only). js/src/wire.gen.js
# carries this list and the shapes below to the front end (``wire_js.py`` writes it).
SYNCED_TRAITS = ("models", "downloads", "connection", "runtime", "_busy", "_row_errors",
                 "_resources", "_capabilities", "_view", "_add")  # fmt: skip


class DownloadEntry(TypedDict):
    """``downloads[model_id]``: one download as the row shows it (the JS draws, never derives).

    ``eta`` is None until a speed is known and again once no bytes arrived for
    ``job_state.ETA_UNKNOWN_AFTER`` s; ``stalled`` turns True after ``job_state.STALL_AFTER`` s
    without bytes and ``stalled_for`` then counts the seconds since the last byte.
    """

    status: str  # the wire status: INITIALIZED, IN-PROGRESS, COMPLETED, FAILED, CANCELED, ...
    percentage: float | None  # 0-100
    bytes_done: int | None
    bytes_total: int | None
    speed: float | None  # bytes/s over a ~10 s window
    eta: float | None  # s
    stalled: bool
    stalled_for: float  # s since the last byte, 0 unless stalled
    error: str | None  # why it FAILED, in words for people
    waiting_for: float  # s since asked while the server has not started it (0 once started)
    slow_start: bool  # no sign of life for ``job_state.START_PATIENCE`` s: the row says it waits


def download_entry(job: DownloadJob) -> DownloadEntry:
    """The widget's ``downloads[model_id]`` entry for ``job``."""
    speed, eta = job.speed, job.eta
    return {
        "status": job.status,
        "percentage": None if job.percentage is None else round(job.percentage, 2),
        "bytes_done": job.bytes_done,
        "bytes_total": job.bytes_total,
        "speed": None if speed is None else round(speed),
        "eta": None if eta is None else round(eta, 1),
        "stalled": job.stalled,
        "stalled_for": round(job.stalled_for),
        "error": job.error,
        "waiting_for": round(job.waiting_for),
        "slow_start": job.slow_start,
    }


class Connection(TypedDict):
    """``connection``: the one place the widget says whether Pieces OS answers."""

    state: ConnectionState
    base_url: str
    version: str
    message: str  # plain words for people, e.g. "Can't reach Pieces OS at 127.0.0.1:39300."


class Capabilities(TypedDict):
    """``_capabilities``: what the server offers beyond the spec."""

    sources: bool  # POST /models/create accepts a ``source``: the Add model form shows


class ViewPrefs(TypedDict):
    """``_view``: sort and grouping, set by the browser, remembered per widget instance."""

    sort: SortKey
    group: bool  # On device / Available / Cloud sections


class AddState(TypedDict):
    """``_add``: the Add model form's state; ``added`` is the id of the last model added, so the
    end of an add is a change even when ``busy`` was coalesced away."""

    busy: bool
    error: str
    added: str


# Commands the browser sends with ``model.send({...})``. ``id`` is a model id.
Command = Literal[
    "refresh",  # {}
    "download",  # {id}   (also Resume and Retry of a failed download)
    "cancel",  # {id}
    "load",  # {id}
    "unload",  # {id}
    "snapshot",  # {id}  GET /model/{id} as the Details panel opens (then it follows ``models``)
    "update",  # {id, fields: {name, description}}
    "delete",  # {id}   delete the weights (POST /models/{id}/delete/cache)
    "remove",  # {id}   remove a custom model (POST /models/{id}/delete)
    "unload_all",  # {}
    "add",  # {fields: {name, url, sha256?}}
    "view",  # {open: bool, view: str}  a view was displayed / went away (runs the health watch)
    "install_runtime",  # {}   ask Pieces OS to install Ollama (the ``runtime`` trait follows)
]
COMMANDS: frozenset[str] = frozenset(Command.__args__)  # type: ignore[attr-defined]

# ``runtime`` (public): ``RuntimeInfo`` from ``core.runtime_status``: {state, version, percentage,
# message}; state in installed | missing | installing | update-required | failed | none.

# Extra fields the reference server adds to its Model JSON (the official SDK ignores them):
#   "error": str         why the last download failed, kept until the next download starts
#   "partialBytes": int  bytes of a partial download kept on disk for a resume
# (``Model.error`` reads the first; the browser reads both.)

# Other synced traits (private, free to change together with the JS):
#   _busy: {model_id: "loading" | "unloading" | "saving" | "deleting" | "removing"}
#   _row_errors: {model_id: str}  a row's own failed action, cleared on success or reconnect
#   _add: {"busy": bool, "error": str, "added": str}  the Add model form's state; ``added`` is the
#     id of the last model added, so the end of an add is a change even when busy was coalesced
#   error (public): the latest error message, for code; the browser shows errors in the row or
#     the banner, never a third time.
