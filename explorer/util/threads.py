"""A background thread that runs submitted jobs one after another, started before it is needed.

``Thread.start()`` waits until the new thread has run, which can take 100 ms while other threads
hold the GIL (decoders, scanners): the GUI thread must not start threads when it is busiest.
So each user of a :class:`JobThread` starts it once, at start-up, and afterwards only submits.

Background threads also step back from the CPU (:func:`lower_this_thread`): on a 2-core machine
the window's own decoder, converter and scan threads competed with the GUI thread at the same
priority, and a repaint that takes 10 ms on an idle machine took 60–90 ms.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections import deque
from collections.abc import Callable

log = logging.getLogger(__name__)

#: Niceness steps that threads doing background work in the window's process take below it.
BACKGROUND_NICENESS = 5

_lowered = threading.local()


def lower_this_thread(steps: int = BACKGROUND_NICENESS) -> bool:
    """Run the calling thread ``steps`` niceness steps below the thread that made it (once per thread).

    Only on Linux, where the nice value belongs to each thread (``setpriority(PRIO_PROCESS, tid)``);
    elsewhere the same call would lower the whole program, so it does nothing.  Threads and
    processes this thread starts afterwards inherit the lower priority.  A thread cannot get its
    priority back without privileges, so call this only from threads that do nothing but
    background work.

    Returns
    -------
    bool : whether the thread now runs lower (also True when an earlier call already did it).
    """
    done = getattr(_lowered, "steps", 0)
    if steps <= done:
        return done > 0
    if not sys.platform.startswith("linux"):
        return False
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + steps - done)
    except OSError:  # pragma: no cover - not permitted here: keep the priority
        return False
    _lowered.steps = steps
    return True


class JobThread:
    """One daemon thread running jobs in the order they were submitted.

    Parameters
    ----------
    name : str
        The thread's name.
    what : str
        What a failed job means, for the log (a job's exception is logged, never raised).
    niceness : int
        Steps below the starting thread's priority that the thread runs at (:func:`lower_this_thread`).
    """

    def __init__(self, name: str, what: str, *, niceness: int = BACKGROUND_NICENESS):
        self.name = name
        self.what = what
        self.niceness = niceness
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

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until the jobs submitted so far have run; False when ``timeout`` (s) passed first.

        From a job of this thread itself it returns at once (waiting there would never end)."""
        with self._cond:
            if threading.current_thread() is self._thread:
                return True
        done = threading.Event()
        self.submit(done.set)
        return done.wait(timeout)

    def _loop(self) -> None:
        lower_this_thread(self.niceness)
        while True:
            with self._cond:
                while not self._jobs:
                    self._cond.wait()
                job = self._jobs.popleft()
            try:
                job()
            except Exception:  # noqa: BLE001 - one failed job must not stop the thread
                log.exception("%s failed", self.what)
