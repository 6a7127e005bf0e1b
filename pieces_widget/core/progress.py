"""The download-progress stream of one model: a WebSocket thread that follows Pieces OS as it is.

What public clients show of Pieces OS's progress socket: a frame when the percentage changes
(so frames can be seconds apart), INITIALIZED before any percentage, RESET when a download
starts over; a snapshot on connect and a close after the end are not documented. So:

- silence on an open socket is not a failure: the socket is kept, pinged for liveness, and the
  model is reconciled with ``GET /model/{id}`` alongside it every few seconds;
- after a drop or a server restart the stream goes back to the socket (backoff); it polls
  ``GET /model/{id}`` only while no socket can be had, and keeps trying the socket;
- a download that has not started yet is not an end: only a terminal frame, a model that became
  downloaded, a server ``error``, or a model idle after it *was* downloading end the stream;
- percentages are clamped and never go backwards, except after RESET, which starts over;
  UNKNOWN is neither an end nor a failure; malformed frames of any shape are logged and skipped;
- a message over ``MAX_FRAME_BYTES`` is refused from its header, before its payload is read
  (websocket-client has no size limit: it would read any length into memory), and ends the
  stream FAILED: a server that sends one is not one to follow.

A download the server lost (it was unreachable or the socket broke, and the model then reads
neither downloading nor downloaded, with no reason) is handed to ``resume``: asking again
continues from whatever the server kept.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator

from .errors import ModelNotFoundError, PiecesConnectionError, PiecesError
from .models import FAILED, DownloadProgress, Model
from .progress_socket import ModelSource, SocketSession
from .progress_state import ProgressState
from .stream_timing import StreamTiming

log = logging.getLogger("pieces_widget.progress")


class ProgressStream:
    """A thread forwarding one model's download progress to ``on_progress`` until it ends: the
    socket while it can be had (``SocketSession``), else polling; what the frames and the
    model's answers add up to is the ``ProgressState``'s to say (``on_life``, ``resume``,
    ``stale_error``: see there).
    """

    def __init__(
        self,
        client: ModelSource,
        model_id: str,
        on_progress: Callable[[DownloadProgress], None],
        *,
        canceled: Callable[[], bool] = lambda: False,
        resume: Callable[[Model], str | None] | None = None,
        on_life: Callable[[], None] = lambda: None,
        stale_error: str | None = None,
        timing: StreamTiming | None = None,
    ) -> None:
        self.client = client
        self.model_id = model_id
        self.timing = timing or StreamTiming()
        self.state = ProgressState(
            on_progress,
            canceled=canceled,
            resume=resume,
            on_life=on_life,
            stale_error=stale_error,
            idle_grace=self.timing.idle_grace,
        )
        self._stop = threading.Event()
        self._socket = SocketSession(
            client, model_id, self.state, self.timing, self._reconcile, self._stop
        )
        self.mode = "websocket"  # or "polling" while no socket can be had
        self._thread = threading.Thread(
            target=self._run, name=f"pieces-progress:{model_id[:40]}", daemon=True
        )

    # -- control -----------------------------------------------------------------------------
    def start(self) -> ProgressStream:
        self._thread.start()
        return self

    def stop(self, timeout: float = 1.0) -> None:
        """Close the socket, cut a request in flight, and end the thread (within ``timeout``)."""
        self._stop.set()
        self._socket.shutdown()
        self.client.interrupt([self._thread])
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    @property
    def alive_seen(self) -> bool:
        """True once the server has shown this download running."""
        return self.state.alive_seen

    @property
    def finished(self) -> bool:
        return self.state.finished

    def _done(self) -> bool:
        return self._stop.is_set() or self.finished

    # -- the thread --------------------------------------------------------------------------
    def _run(self) -> None:
        delay = self.timing.backoff[0]
        try:
            while not self._done():
                outcome = self._socket.run()
                if self._done():
                    break
                if outcome == "frames":
                    delay = self.timing.backoff[0]
                # No socket now: poll the model until it is time to try the socket again.
                self.mode = "websocket" if outcome == "frames" else "polling"
                if self._poll_for(delay):
                    break
                if outcome != "frames":
                    delay = min(delay * 2, self.timing.backoff[1])
        except Exception:  # never let the thread die silently
            log.exception("progress stream for %r crashed", self.model_id)
            self.state.finish(FAILED, "the progress stream stopped unexpectedly")

    def _poll_for(self, seconds: float) -> bool:
        """Reconcile about every ``poll_every`` s for ``seconds``; True when the stream is done."""
        until = time.monotonic() + seconds
        while not self._done():
            left = until - time.monotonic()
            if left <= 0:
                return False
            if self._stop.wait(min(left, self.timing.poll_every)):
                return True
            self._reconcile()
        return True

    def _reconcile(self) -> None:
        """Ask ``GET /model/{id}``; the state ends the stream when the model shows it ended."""
        try:
            model = self.client.snapshot(self.model_id)
        except ModelNotFoundError as exc:
            self.state.finish(FAILED, str(exc))
            return
        except PiecesError as exc:
            log.info("reconcile of %r failed: %s", self.model_id, exc)
            if isinstance(exc, PiecesConnectionError):
                self.state.lost = True
            return
        self.state.observe(model)


def iterate_progress(
    client: ModelSource, model_id: str, timeout: float | None = None
) -> Iterator[DownloadProgress]:
    """Yield progress until a terminal status; ``TimeoutError`` if ``timeout`` runs out first."""
    updates: queue.Queue[DownloadProgress] = queue.Queue()
    stream = ProgressStream(client, model_id, updates.put).start()
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while True:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise TimeoutError(f"no end of the download of {model_id!r} within {timeout} s")
            try:
                progress = updates.get(timeout=left)
            except queue.Empty:
                continue
            yield progress
            if progress.terminal:
                return
    finally:
        stream.stop()
