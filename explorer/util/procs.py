"""Helper processes that never outlive the program that started them."""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import time
from collections.abc import Iterable

#: Seconds a process stopped by :func:`stop_processes` gets to end on SIGTERM before it gets SIGKILL.
TERMINATE_GRACE = 0.5


def exit_with_parent() -> bool:
    """In a ``multiprocessing`` child: end this process as soon as its parent is gone.

    A pool worker waits for work on a pipe whose writing end it holds itself, so a parent that is
    killed (SIGKILL, a crash) would leave it waiting forever, holding its memory.  A daemon thread
    waits on the parent's sentinel and ends the process when it fires.  Call it from a pool's
    initializer; returns False (and does nothing) in a process that has no multiprocessing parent.
    """
    parent = multiprocessing.parent_process()
    if parent is None or parent.sentinel is None:
        return False
    sentinel = parent.sentinel

    def watch() -> None:
        multiprocessing.connection.wait([sentinel])
        os._exit(1)  # no clean-up to run: the results would have nowhere to go

    threading.Thread(target=watch, name="explorer-parent-watch", daemon=True).start()
    return True


def become_background_child(niceness: int) -> None:
    """Set up a pool worker as background work: it ends with its parent (:func:`exit_with_parent`)
    and runs ``niceness`` steps below it, so that the program's own threads (the window) win the
    CPU when both want it (where lowering the priority is not permitted, it keeps its priority).

    It also ignores SIGINT: a terminal's Ctrl-C reaches the whole process group, and the parent,
    which owns the results, decides when its workers stop (:func:`stop_processes`) instead of each
    worker printing its own ``KeyboardInterrupt`` traceback from wherever it was.
    """
    exit_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        os.nice(niceness)
    except OSError:  # pragma: no cover - not permitted here
        pass


def stop_processes(processes: Iterable, *, grace: float = TERMINATE_GRACE) -> None:
    """End ``processes`` (:class:`multiprocessing.Process` objects) now, whatever they are doing.

    Each gets SIGTERM at once (no waiting for the work in hand: a worker deep in an analysis would
    take seconds to reach its next cancel check); one still there after ``grace`` s (stopped,
    or stuck in the kernel) gets SIGKILL.  Then each is reaped.  Their results are lost, which is
    the point: callers use this on cancel and on quit, and commit only results that came back.
    """
    processes = [p for p in processes if p.pid is not None]
    for p in processes:
        _signal(p, "terminate")
    deadline = time.monotonic() + grace
    for p in processes:
        p.join(max(0.0, deadline - time.monotonic()))
    for p in processes:
        if p.exitcode is None:
            _signal(p, "kill")
            p.join(grace)


def _signal(p, how: str) -> None:
    try:
        getattr(p, how)()
    except (OSError, ValueError, AttributeError):  # already reaped, or closed
        pass


def executor_processes(executor) -> list:
    """The worker processes of a :class:`concurrent.futures.ProcessPoolExecutor` (its ``_processes``;
    Python 3.14's ``terminate_workers`` does the same from inside)."""
    return list((getattr(executor, "_processes", None) or {}).values())


def stop_executor(executor, *, grace: float = TERMINATE_GRACE) -> None:
    """Shut ``executor`` (a ProcessPoolExecutor) down without waiting for its running work: queued
    work is dropped, its workers are ended by :func:`stop_processes`, and its manager thread, which
    sees them gone, marks their futures broken and ends; it is joined (briefly: nothing is left for
    it to wait for) so that no thread of the pool outlives this call."""
    processes = executor_processes(executor)
    manager = getattr(executor, "_executor_manager_thread", None)  # shutdown() forgets it
    executor.shutdown(wait=False, cancel_futures=True)
    stop_processes(processes, grace=grace)
    if manager is not None:
        manager.join(max(grace, 5.0))
