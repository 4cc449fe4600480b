"""A library scan as a background task of the library pane."""

from __future__ import annotations

import logging
import time

from explorer.errors import ExplorerError
from explorer.ui.tasks import Task

log = logging.getLogger(__name__)

#: The scan reports to the pane at most this often.
SCAN_UPDATES_PER_SECOND = 8


class ScanTask(Task):
    """One library scan (in the ``scan`` lane).

    Sends ``partial(rid, "progress", (done, total, paths))`` at most :data:`SCAN_UPDATES_PER_SECOND`
    times a second (and once at the end): the paths whose analysis finished since the last report;
    an empty list with ``total`` at the start (the files found are in the catalogue by then).
    Finishes with a :class:`~explorer.services.scan.ScanReport` (``report.cancelled`` after a cancel:
    a cancelled scan still finishes, with what it did); fails when the scan could not run.
    """

    LANE = "scan"
    CHECK_CANCEL = False  # a cancelled scan finishes too: its report says what it did before the cancel

    def __init__(
        self, folders: list[str], db_path: str, *, workers: int | None = None, cache_folder: str | None = None
    ):
        super().__init__()
        self.folders = list(folders)
        self.db_path = db_path
        self.workers = workers
        self.cache_folder = cache_folder
        self._pending: list[str] = []
        self._last_emit = 0.0
        self._counts = (0, 0)  # (done, total) last reported by the scan

    def _on_progress(self, done: int, total: int, path: str | None) -> None:
        self._counts = (done, total)
        if path is not None:
            self._pending.append(path)
        now = time.monotonic()
        if path is None or done == total or now - self._last_emit >= 1.0 / SCAN_UPDATES_PER_SECOND:
            self._last_emit = now
            batch, self._pending = self._pending, []
            self.send("progress", (done, total, batch))

    def work(self):
        from explorer.services.scan import scan

        try:
            report = scan(
                self.folders,
                db_path=self.db_path,
                workers=self.workers,
                progress=self._on_progress,
                cancel=self.is_cancelled,
                cache_folder=self.cache_folder,
            )
        except ExplorerError:
            raise
        except Exception as e:
            log.exception("the scan failed")
            raise ExplorerError(f"The scan stopped because of an internal error ({type(e).__name__}: {e}).") from e
        if self._pending:  # held back by the rate limit when the scan stopped
            self.send("progress", (*self._counts, self._pending))
            self._pending = []
        return report
