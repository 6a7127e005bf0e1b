"""The browser's messages (``wire.COMMANDS``) -> the ModelManager methods that carry them out.

Each command names a method and what it takes from the message; a bad message from the page is
said in the widget (``error``, and the Add form or the row when it names one), never raised.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..core.errors import ModelNotFoundError
from .wire import COMMANDS

if TYPE_CHECKING:
    from .manager import ModelManager

Message = dict[str, Any]


def _fields(message: Message) -> dict[str, Any]:
    fields = message.get("fields")
    return fields if isinstance(fields, dict) else {}


def _id(message: Message) -> tuple[Any, ...]:
    return (message.get("id"),)  # checked by the method: a bad id is a one-line TypeError


def _none(_: Message) -> tuple[Any, ...]:
    return ()


def _add(message: Message) -> tuple[Any, ...]:
    fields = _fields(message)
    return (fields.get("name", ""), fields.get("url", ""), fields.get("sha256"))


def _view(message: Message) -> tuple[Any, ...]:
    return (message.get("view"), message.get("open") is True)


# command -> (method name, its positional arguments from the message)
TABLE: dict[str, tuple[str, Callable[[Message], tuple[Any, ...]]]] = {
    "refresh": ("refresh", _none),
    "download": ("download", _id),
    "cancel": ("cancel", _id),
    "load": ("load", _id),
    "unload": ("unload", _id),
    "snapshot": ("snapshot", _id),
    "update": ("update_model", _id),  # and the edited fields, below
    "delete": ("delete", _id),
    "remove": ("remove", _id),
    "unload_all": ("unload_all", _none),
    "add": ("add_model", _add),
    "view": ("_on_view", _view),
    "install_runtime": ("_install_runtime_in_background", _none),
}
assert set(TABLE) == COMMANDS, "wire.COMMANDS and the table agree"
EDITABLE = ("name", "description")  # what the Edit form may send


def dispatch(mgr: ModelManager, message: Any) -> None:
    """Carry out one message from the browser."""
    if not isinstance(message, dict) or message.get("action") not in COMMANDS:
        return
    action = message["action"]
    name, arguments = TABLE[action]
    extra = (
        {k: v for k, v in _fields(message).items() if k in EDITABLE} if action == "update" else {}
    )
    try:
        getattr(mgr, name)(*arguments(message), **extra)
    except (TypeError, ValueError) as exc:  # a bad command from the page: said, not raised
        if action == "add":
            mgr._set_add(error=str(exc))
        mgr._state.set(error=str(exc))
    except ModelNotFoundError as exc:  # a model another client removed: in its row
        mgr._state.set(error=str(exc))
        mgr._state.set_entry("_row_errors", exc.model_id, str(exc))
