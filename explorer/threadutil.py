"""A background thread that runs submitted jobs one after another, started before it is needed.

``Thread.start()`` waits until the new thread has run, which can take 100 ms while other threads
hold the GIL (decoders, scanners): the GUI thread must not start threads when it is busiest.
So each user of a :class:`JobThread` starts it once, at start-up, and afterwards only submits.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable

log = logging.getLogger(__name__)


class JobThread:
    """One daemon thread running jobs in the order they were submitted.

    Parameters
    ----------
    name : str
        The thread's name.
    what : str
        What a failed job means, for the log (a job's exception is logged, never raised).
    """

    def __init__(self, name: str, what: str):
        self.name = name
        self.what = what
        self._cond = threading.Condition()
        self._jobs: deque[Callable[[], object]] = deque()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread unless it runs (cheap when it does)."""
        with self._cond:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
                self._thread.start()

    def submit(self, job: Callable[[], object]) -> None:
        """Run ``job()`` in the thread after the jobs submitted before it."""
        with self._cond:
            self._jobs.append(job)
            self._cond.notify()
        self.start()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._jobs:
                    self._cond.wait()
                job = self._jobs.popleft()
            try:
                job()
            except Exception:  # noqa: BLE001 - one failed job must not stop the thread
                log.exception("%s failed", self.what)
