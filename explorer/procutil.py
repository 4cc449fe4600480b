"""Helper processes that never outlive the program that started them."""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import threading


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
    CPU when both want it (where lowering the priority is not permitted, it keeps its priority)."""
    exit_with_parent()
    try:
        os.nice(niceness)
    except OSError:  # pragma: no cover - not permitted here
        pass
