"""A song's analysis in a helper process, so that its Python-heavy work never holds the GUI's GIL.

One persistent process (a ``spawn``-ed :class:`~concurrent.futures.ProcessPoolExecutor` with one
worker) imports the analysis stack once and then runs
:func:`explorer.services.analyze.analyze_path` for each request; the GUI process only waits for it
(a wait releases the GIL).  Progress comes back through a :class:`multiprocessing.Queue`; cancel is
a shared counter, "every request up to this number is cancelled", that the analysis' cancel
callback reads.  Results are our own :class:`~explorer.analysis.types.Analysis` objects, pickled
between our own two processes.  A dead process is reported as an error and replaced on the next
request; :func:`shutdown` ends it at program exit at once, whatever it is analysing (its result
would have nowhere to go, and the analysis cache is written atomically, so nothing is half-written).
"""

from __future__ import annotations

import itertools
import multiprocessing
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from explorer.errors import Cancelled, ExplorerError
from explorer.util.procs import TERMINATE_GRACE, become_background_child, stop_executor

#: Minimum seconds between two progress messages from the helper process.
PROGRESS_INTERVAL = 1.0 / 15
#: How often the waiting thread looks at progress and at its cancel flag, seconds.
POLL_INTERVAL = 0.05
#: Niceness added to the helper process: the GUI thread must win the CPU when both want it.
NICENESS = 5
#: Modules the helper process imports when it starts.
MODULES = ("explorer.services.analyze", "explorer.analysis.pipeline", "explorer.genre.model", "explorer.library.cache")

_lock = threading.Lock()
_tokens = itertools.count(1)
_pool: _Pool | None = None

# -- in the helper process ---------------------------------------------------------------
_child_queue: Any = None
_child_cancelled: Any = None


def _init_child(progress_queue, cancelled) -> None:
    import importlib

    global _child_queue, _child_cancelled
    _child_queue, _child_cancelled = progress_queue, cancelled
    become_background_child(NICENESS)
    for name in MODULES:
        importlib.import_module(name)


def _analyse_in_child(token: int, path: str, content_hash: str | None, cache):
    from explorer.services.analyze import analyze_path

    last: list[Any] = [0.0, ""]

    def progress(fraction: float, stage: str) -> None:
        now = time.monotonic()
        if stage == last[1] and fraction < 1.0 and now - last[0] < PROGRESS_INTERVAL:
            return
        last[0], last[1] = now, stage
        _child_queue.put((token, float(fraction), stage))

    return analyze_path(
        path, content_hash=content_hash, cache=cache, progress=progress, cancel=lambda: _child_cancelled.value >= token
    )


# -- in the GUI process ------------------------------------------------------------------
class _Pool:
    def __init__(self):
        ctx = multiprocessing.get_context("spawn")
        self.queue = ctx.Queue()
        self.cancelled = ctx.Value("q", 0, lock=False)
        self.executor = ProcessPoolExecutor(
            max_workers=1, mp_context=ctx, initializer=_init_child, initargs=(self.queue, self.cancelled)
        )

    def cancel(self, token: int) -> None:
        if self.cancelled.value < token:
            self.cancelled.value = token

    def close(self, grace: float = TERMINATE_GRACE) -> None:
        """End the helper now (see :func:`explorer.util.procs.stop_executor`); a waiting
        :func:`analyse` gets :class:`BrokenProcessPool`, i.e. "the analysis process stopped"."""
        self.cancel(2**62)
        stop_executor(self.executor, grace=grace)
        self.queue.close()
        self.queue.cancel_join_thread()


def _get_pool() -> _Pool:
    global _pool
    with _lock:
        if _pool is None:
            _pool = _Pool()
        return _pool


def _drop_pool(pool: _Pool) -> None:
    global _pool
    with _lock:
        if _pool is pool:
            _pool = None
    pool.close()


def start() -> None:
    """Start the helper process now (it imports the analysis stack while the user looks around)."""
    _get_pool().executor.submit(int)


def analyse(
    path: str,
    *,
    content_hash: str | None,
    cache,
    progress: Callable[[float, str], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
):
    """Run ``analyze_path(path, content_hash=, cache=)`` in the helper process and wait for it.

    ``progress(fraction, stage)`` is called in the waiting thread; ``cancelled()`` is polled
    there every :data:`POLL_INTERVAL` s, and when it turns True the helper is told to stop and
    :class:`~explorer.errors.Cancelled` is raised at once (the helper's late result is dropped).

    Raises
    ------
    Cancelled, ExplorerError
        As :func:`~explorer.services.analyze.analyze_path`; also when the helper process died.
    """
    pool = _get_pool()
    token = next(_tokens)
    try:
        future = pool.executor.submit(_analyse_in_child, token, path, content_hash, cache)
        while True:
            try:
                return future.result(timeout=POLL_INTERVAL)
            except TimeoutError:
                pass
            finally:
                _drain(pool, token, progress)
            if cancelled is not None and cancelled():
                pool.cancel(token)
                future.cancel()
                raise Cancelled(f"{path}: analysis cancelled", path=path)
    except BrokenProcessPool as e:
        _drop_pool(pool)
        raise ExplorerError(f"{path}: the analysis process stopped unexpectedly", path=path) from e


def _drain(pool: _Pool, token: int, progress) -> None:
    while True:
        try:
            t, fraction, stage = pool.queue.get_nowait()
        except (queue.Empty, OSError, ValueError):
            return
        if t == token and progress is not None:
            progress(fraction, stage)


def shutdown(grace: float = TERMINATE_GRACE) -> None:
    """End the helper process now, whatever it runs (it gets ``grace`` s after SIGTERM before SIGKILL)."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.close(grace)
