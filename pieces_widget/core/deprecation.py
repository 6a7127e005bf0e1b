"""Old public names kept for one release: each warns once per call site and calls the new one."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any


def renamed(old: str, new: str) -> Callable[..., Any]:
    """A method ``old`` that says it is now ``new`` (DeprecationWarning) and calls it."""

    def alias(self: Any, *args: Any, **kwargs: Any) -> Any:
        warnings.warn(
            f"{type(self).__name__}.{old}() is now {new}(); the old name goes in the next release",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(self, new)(*args, **kwargs)

    alias.__name__ = old
    alias.__doc__ = f"Deprecated: use ``{new}()``."
    return alias
