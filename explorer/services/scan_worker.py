"""The worker side of a library scan: what runs in each worker process, and whose failure a failure is
(the file's, recorded for good, or the computer's, tried again at the next scan)."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable

from explorer.errors import Cancelled, ExplorerError
from explorer.library.cache import AnalysisCache
from explorer.util.procs import become_background_child

CancelFn = Callable[[], bool]

#: Niceness added to scan worker processes: a scan is background work; the window and the song the
#: user opened (niceness 5, see explorer.services.analysis_helper) come first.
WORKER_NICENESS = 10


# -- whose failure: the file's, or the computer's ---------------------------------------------------
#: OSError numbers that mean the computer ran short of something, not that the file is bad.
ENVIRONMENT_ERRNOS = frozenset(
    {errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOSPC, errno.EAGAIN, errno.ENOBUFS, errno.EDQUOT, errno.EINTR}
)
#: Words of messages (file name removed) that mean the same: threads, memory, numba's cache, an ffmpeg
#: or ffprobe that did not finish in time on a busy machine, a missing tool or model file.
ENVIRONMENT_WORDS = (
    "MemoryError",
    "can't start new thread",
    "cannot cache function",
    "Too many open files",
    "Cannot allocate memory",
    "out of memory",
    "bad_alloc",
    "Failed to allocate",
    "No space left on device",
    "Resource temporarily unavailable",
    "timed out",
    "took longer than",
    "is not installed",
    # a model file of the installation, missing or damaged: the songs are fine
    "model file is",
    "model file cannot be read",
    "model manifest",
)
#: Appended to the reason of a failure that is tried again.
RETRY_NOTE = " (a problem of this computer, not of the file: it is tried again at the next scan)"


def is_environment_failure(error: BaseException | str, path: str = "") -> bool:
    """Whether ``error`` (an exception, with its causes, or a recorded reason) was caused by the computer
    (memory, file descriptors, threads, numba's cache, a timeout) rather than by the file ``path``."""
    if isinstance(error, str):
        text = error.replace(path, "") if path else error
        return any(w in text for w in ENVIRONMENT_WORDS)
    seen: set[int] = set()
    exc: BaseException | None = error
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, MemoryError) or (isinstance(exc, OSError) and exc.errno in ENVIRONMENT_ERRNOS):
            return True
        if type(exc).__module__.startswith(("numba", "llvmlite")):
            return True
        if is_environment_failure(str(exc), path):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _failure(path: str, error: BaseException, reason: str) -> tuple[str, str]:
    if is_environment_failure(error, path):
        return "retry", reason + RETRY_NOTE
    return "failed", reason


# -- the worker side ---------------------------------------------------------------------------
_cancel_event = None


def _init_worker(event) -> None:
    """Set up a worker process: one thread per process (the pool already uses every core), models loaded."""
    global _cancel_event
    _cancel_event = event
    become_background_child(WORKER_NICENESS)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        pass
    import explorer.analysis.pipeline  # noqa: F401 - imported once here, before the first song
    from explorer.genre.model import load_models

    try:
        load_models(threads=1)
    except ExplorerError:  # a missing or damaged model: each song records the reason
        pass


def _stamp(path: str) -> tuple[int, float]:
    st = os.stat(path)
    return st.st_size, st.st_mtime


class _Changed(Exception):
    """The file's size or mtime is no longer what the scan recorded."""


def analyse_one(
    path: str, expected_hash: str, size: int, mtime: float, cache_folder: str | None, cancel: CancelFn | None = None
):
    """Analyse one file for the scanner: ("ok", Analysis without its matrix), ("failed", reason) or, when the
    computer rather than the file failed, ("retry", reason)."""

    def unchanged(stage: str) -> None:
        if _stamp(path) != (size, mtime):
            raise _Changed(
                f"{path}: the file changed while the scan was running"
                if stage == "decode"
                else f"{path}: the file changed while it was being analysed"
            )

    try:
        from explorer.services.analyze import analyze_path

        hit = analyze_path(
            path, content_hash=expected_hash, cache=AnalysisCache(cache_folder), cancel=cancel, guard=unchanged
        )
    except _Changed as e:
        return "failed", str(e)
    except Cancelled:
        return "cancelled", ""
    except FileNotFoundError:
        return "failed", f"{path}: the file disappeared while it was being analysed"
    except ExplorerError as e:
        return _failure(path, e, e.message)
    except Exception as e:  # noqa: BLE001 - a bug on one odd file must not stop a whole scan: record it
        return _failure(path, e, f"{path}: analysis failed ({type(e).__name__}: {e})")
    return "ok", hit.replace(recurrence=None, recurrence_times=None)


def _task(path, expected_hash, size, mtime, cache_folder):
    cancel = None if _cancel_event is None else _cancel_event.is_set
    return analyse_one(path, expected_hash, size, mtime, cache_folder, cancel)
