"""``python tests/nonposix.py ARGS``: the reference server's command line on an OS without
``fcntl``, ``os.O_NOFOLLOW``, ``os.pread``/``os.pwrite`` and event-loop signal handlers (as on
Windows), so its portable code paths run here for real.

filelock is imported first and keeps the ``fcntl`` it found: the OS lock it takes on the
server's descriptor is real (on Windows it is ``LockFileEx``). Every import of ``fcntl`` after
that fails, as it does on Windows.
"""

from __future__ import annotations

import asyncio
import os
import runpy
import sys

import filelock  # noqa: F401 - before fcntl goes away

sys.modules["fcntl"] = None  # type: ignore[assignment]
for name in ("O_NOFOLLOW", "pread", "pwrite"):
    if hasattr(os, name):
        delattr(os, name)


def _no_signal_handlers(*_: object) -> None:
    raise NotImplementedError  # what Windows' event loops raise


asyncio.unix_events._UnixSelectorEventLoop.add_signal_handler = _no_signal_handlers  # type: ignore[method-assign]

if __name__ == "__main__":
    runpy.run_module("pieces_widget.server", run_name="__main__", alter_sys=True)
