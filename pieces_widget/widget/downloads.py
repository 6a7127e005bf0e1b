"""The manager's downloads: jobs started, joined or followed, their progress in ``downloads``."""

from __future__ import annotations

import concurrent.futures
import contextlib
from collections.abc import Iterable

from ..core.errors import ModelNotFoundError, PiecesError
from ..core.jobs import DownloadJob
from ..core.models import COMPLETED, Model, check_id
from .background import Background
from .wire import download_entry

ID_CHECK_WAIT = 0.5  # s download() waits for the server to say an unlisted id is unknown
MAX_WATCHERS = 4  # downloads started elsewhere followed live at once; the rest show from the list


class Downloads(Background):
    """The ModelManager's download side: one ``DownloadJob`` a model, started here or followed
    from elsewhere, the model read again when it ends (a mixin: the state it uses is the
    manager's)."""

    _quiet: set[DownloadJob]  # jobs whose "unknown id" download() will raise

    def _watch_download(self, model_id: str) -> None:
        """Follow a download in flight that this manager did not start (another client, an
        earlier manager): at most ``MAX_WATCHERS`` at once, so a list of thousands downloading
        costs a few threads and sockets; the others show from the list's refreshes."""
        with self._jobs_lock:
            job = self._jobs.get(model_id)
            if job is not None and not job.done:
                return
            watching = sum(1 for j in self._jobs.values() if j.attach_only and not j.done)
            if watching >= MAX_WATCHERS:
                return
        with contextlib.suppress(RuntimeError):  # closed meanwhile: nothing to attach
            self._start_job(model_id, attach_only=True)

    def _start_job(self, model_id: str, attach_only: bool = False) -> DownloadJob:
        with self._jobs_lock:
            self._ensure_open()
            job = self._jobs.get(model_id)
            if job is not None and not job.done:
                return job
            self._state.set_entry("_row_errors", model_id, None)
            job = DownloadJob(
                self.client, model_id, on_update=self._on_job_update, attach_only=attach_only
            )
            self._jobs[model_id] = job
        return job

    def _on_job_update(self, job: DownloadJob) -> None:
        if self._closed or job.found_nothing or self._jobs.get(job.model_id) is not job:
            return  # a stale job (its model removed, a newer job started) says nothing
        if job.unknown and job in self._quiet:
            return  # download() is about to raise ModelNotFoundError for it
        self._state.set_entry("downloads", job.model_id, download_entry(job))
        if job.done:
            if job.error:
                self._state.set(error=job.error)
            self._spawn(lambda: self._refetch(job.model_id))

    def _refetch(self, model_id: str) -> None:
        """The model as the server has it now (after a download ended)."""
        with contextlib.suppress(PiecesError):  # gone or unreachable: the watch tells
            self._show(lambda: self.client.snapshot(model_id))

    def download(self, model_id: str) -> DownloadJob:
        """Start (or join) the download of ``model_id``; returns at once.

        For an id the list does not show, the server is asked: ``ModelNotFoundError`` when it
        says within ``ID_CHECK_WAIT`` s that it does not know the id, else the job reports it."""
        self._ensure_open()
        check_id(model_id)
        if any(m.get("id") == model_id for m in self._state.get("models")):
            return self._start_job(model_id)
        job = self._start_job(model_id)
        with self._jobs_lock:
            self._quiet.add(job)
        job.checked.wait(ID_CHECK_WAIT)  # the job asks the server; never longer than this
        with self._jobs_lock:
            self._quiet.discard(job)
            unknown = job.unknown
            if unknown and self._jobs.get(model_id) is job:
                del self._jobs[model_id]
        if unknown:
            raise ModelNotFoundError(model_id)
        if job.unknown and job.done:  # the answer came just after the wait: the job says it
            self._on_job_update(job)
        return job

    def cancel(self, model_id: str) -> concurrent.futures.Future[None]:
        """Ask the server to stop the download; the row then offers Download (or Resume)."""
        check_id(model_id)

        def work() -> None:
            job = self._jobs.get(model_id)
            if job is not None and not job.done:
                job.cancel()
            else:
                self._show(lambda: self.client.cancel_download(model_id), writes=True)

        return self._background(work, model_id)

    def ensure(
        self, model_ids: str | Iterable[str], load: bool = False, timeout: float | None = None
    ) -> list[Model]:
        """Download what is missing, wait, and load if asked; idempotent. Blocks until done."""
        ids = [check_id(model_ids)] if isinstance(model_ids, str) else list(model_ids)
        jobs = [self.download(i) for i in ids if not self.client.snapshot(i).downloaded]
        failed = []
        for job in jobs:
            status = job.wait(timeout)
            if status != COMPLETED:
                failed.append(f"{job.model_id}: {status}{f' ({job.error})' if job.error else ''}")
        if failed:
            raise PiecesError("ensure failed for " + "; ".join(failed))
        read = self.client.load if load else self.client.snapshot
        models = [self._show(lambda i=i: read(i), writes=load) for i in ids]
        self._state.flush()  # what ensure did is in the traits when it returns
        return models
