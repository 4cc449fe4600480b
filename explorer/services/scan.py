"""Scan folders into the catalogue: walk, detect changes, analyse new songs on all cores.

How a scan decides what to do with each audio file it finds
(extensions: :data:`explorer.audio.decode.AUDIO_EXTENSIONS`, any case):

1. known path, same size and mtime, already ``analysed`` or ``failed`` → nothing (that is what
   makes an interrupted scan resumable: finished work is committed one song at a time);
   — unless that was done by another analysis version (``analysis_version`` of the analysis
   pipeline and the genre model), then it is analysed again;
2. otherwise its bytes are hashed (blake2b): a new path whose hash belongs to a track whose file
   is gone is that track *moved or renamed* — its row, likes and history follow the file;
3. new or changed files are read for tags and left ``pending``; catalogue tracks under the
   scanned folders that were not found are marked ``missing`` (never deleted: their likes stay);
4. pending tracks are analysed in a pool of worker *processes* (one per core by default, kept for
   the whole scan) by :func:`analyse_one`: each file is decoded straight to the analysis rate in
   mono and analysed by :func:`explorer.services.analyze.analyze_path` on one thread, which fills
   the analysis cache; this process is
   the only writer and commits each result as it arrives.  A file that cannot be analysed is
   recorded ``failed`` with the reason and the scan goes on — unless the computer, not the file,
   failed (:func:`~explorer.services.scan_worker.is_environment_failure`: out of memory, of file descriptors, a
   numba cache error, a timeout on a busy machine): then the reason is kept but the song stays
   ``pending`` and the next scan tries it again (``retry_failed`` retries every failure); a worker
   that dies (killed, crashed)
   is replaced, and the songs it had are retried one at a time, each alone in a new process: a song
   that kills its process again is recorded as failed.

A track marked ``missing`` whose file is back at its path (same content) is restored as it was,
with its likes and history.  Our own temp files (:func:`explorer.util.fs.is_temp_name`) are never
taken for songs; any other name is.
"""

from __future__ import annotations

import multiprocessing
import os
import stat
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

from explorer.errors import Cancelled, ExplorerError, FileMissing
from explorer.library.cache import AnalysisCache, content_hash
from explorer.library.store import Library, Track, normalize_path, read_tags
from explorer.services.scan_worker import RETRY_NOTE, _init_worker, _task, analyse_one, is_environment_failure
from explorer.util.fs import is_temp_name
from explorer.util.procs import stop_executor

ProgressFn = Callable[[int, int, "str | None"], None]
CancelFn = Callable[[], bool]

#: A scan gives up (rather than fail every song) when this many pools in a row die before finishing any song.
MAX_FRUITLESS_POOLS = 3
#: Seconds between polls of ``cancel`` while waiting for workers.
POLL_SECONDS = 0.2


@dataclass
class ScanReport:
    found: int = 0  #: audio files found under the folders
    added: int = 0  #: new tracks
    changed: int = 0  #: known paths whose content changed
    moved: int = 0  #: tracks whose file was found under a new path
    missing: int = 0  #: tracks whose file is gone
    unchanged: int = 0
    outdated: int = 0  #: analysed (or failed) by another analysis version: analysed again
    analysed: int = 0  #: analyses finished by this scan
    failed: int = 0  #: files that failed in this scan (those that failed because of the computer are retried)
    returned: int = 0  #: missing tracks whose file is back at its path
    retried: int = 0  #: failed tracks analysed again (``retry_failed``, or failed because of the computer)
    failures: list[tuple[str, str]] = field(default_factory=list)  #: (path, reason)
    cancelled: bool = False
    elapsed: float = 0.0  #: seconds


def unscannable(folder: str | os.PathLike) -> str | None:
    """Why ``folder`` cannot be scanned ("no such folder", "is not a folder or an audio file"), or None
    for a folder or an audio file."""
    from explorer.audio.decode import AUDIO_EXTENSIONS

    folder = os.fspath(folder)
    if os.path.isdir(folder) or (os.path.lexists(folder) and folder.lower().endswith(tuple(AUDIO_EXTENSIONS))):
        return None
    return "is not a folder or an audio file" if os.path.lexists(folder) else "no such folder"


def find_audio_files(folders: Sequence[str | os.PathLike], *, errors: list[tuple[str, str]] | None = None) -> list[str]:
    """Audio files under ``folders`` (recursively; a file given directly counts too), sorted, normalised."""
    from explorer.audio.decode import AUDIO_EXTENSIONS

    exts = tuple(AUDIO_EXTENSIONS)
    out: set[str] = set()

    def onerror(e: OSError):
        if errors is not None:
            errors.append((e.filename or "?", f"cannot read the folder ({e.strerror})"))

    for folder in folders:
        folder = normalize_path(folder)
        if not os.path.isdir(folder):
            reason = unscannable(folder)
            if reason is None:
                out.add(folder)
            elif errors is not None:
                errors.append((folder, reason))
            continue
        for root, _dirs, names in os.walk(folder, onerror=onerror):
            for name in names:
                if name.lower().endswith(exts) and not is_temp_name(name):
                    out.add(os.path.join(root, name))
    named = sorted(p for p in out if _utf8(p))
    for path in sorted(out.difference(named)):  # SQLite text is UTF-8: such a name cannot be stored (#6)
        if errors is not None:
            errors.append((path, f"{path}: the file name is not valid UTF-8 (rename the file to add it)"))
    return named


def _utf8(path: str) -> bool:
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _under(path: str, folders: Sequence[str]) -> bool:
    return any(path == f or path.startswith(f.rstrip(os.sep) + os.sep) for f in folders)


# -- the scan --------------------------------------------------------------------------------
def scan(
    folders: Sequence[str | os.PathLike],
    *,
    db_path: str | os.PathLike | None = None,
    workers: int | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    cache_folder: str | os.PathLike | None = None,
    library: Library | None = None,
    retry_failed: bool = False,
) -> ScanReport:
    """Bring the catalogue up to date with ``folders`` and analyse what is new.

    Parameters
    ----------
    folders : sequence of paths
    db_path : path or None
        The catalogue (default: the user's); ignored when ``library`` is given.
    workers : int or None
        Analysis processes; None = one per core; 0 = analyse in this process.
    progress : callable(done, total, path) or None
        Called when the analysis of a file has finished (``total`` = files to analyse).
    cancel : callable() -> bool or None
        Polled often; a cancelled scan stops soon, keeps what it finished and reports ``cancelled``.
    cache_folder : path or None
        Analysis cache folder (default: the user's).
    library : Library or None
        An open catalogue to use instead of opening ``db_path``.
    retry_failed : bool
        Analyse again the tracks that failed before (by default only those that failed because of the
        computer, not of the file, are).

    Returns
    -------
    ScanReport
    """
    t0 = time.monotonic()
    report = ScanReport()
    own = library is None
    lib = Library(db_path) if library is None else library
    try:
        _scan(
            lib,
            [normalize_path(f) for f in folders],
            workers,
            progress,
            cancel,
            None if cache_folder is None else os.fspath(cache_folder),
            report,
            retry_failed,
        )
    except Cancelled:
        report.cancelled = True
    finally:
        if own:
            lib.close()
    report.elapsed = time.monotonic() - t0
    return report


def _check(cancel: CancelFn | None) -> None:
    if cancel is not None and cancel():
        raise Cancelled("scan cancelled")


def _scan(
    lib: Library,
    folders: list[str],
    workers,
    progress,
    cancel,
    cache_folder,
    report: ScanReport,
    retry_failed: bool = False,
) -> None:
    version = AnalysisCache(cache_folder).version
    walk_errors: list[tuple[str, str]] = []
    files = find_audio_files(folders, errors=walk_errors)
    report.failures += walk_errors
    report.found = len(files)
    known = {t.path: t for t in lib.tracks()}
    found = set(files)
    gone_by_hash: dict[str, list] = {}
    t: Track | None
    for t in known.values():
        if t.path not in found and t.content_hash and not os.path.exists(t.path):
            gone_by_hash.setdefault(t.content_hash, []).append(t)

    new_entries, failed_entries = [], []
    moved: set[int] = set()
    outdated: list[int] = []  # analysed or failed by another analysis version: done again
    retry: list[int] = []  # failed before, analysed again

    def settled(t) -> None:
        """``t`` (analysed or failed, its file unchanged) is done, unless its failure is to be retried or it was
        done by another analysis version."""
        if t.state == "failed" and (retry_failed or is_environment_failure(t.error or "", t.path)):
            retry.append(t.id)
        elif t.analysis_version == version:
            report.unchanged += 1
        else:
            outdated.append(t.id)

    for path in files:
        _check(cancel)
        t = known.get(path)
        try:
            st = os.stat(path)
            if not stat.S_ISREG(st.st_mode):
                raise FileMissing(f"{path}: is not a regular file", path=path)
            size, mtime = st.st_size, st.st_mtime
            if t is not None and t.state == "missing":  # its file is back: the same song, or a new one
                h = content_hash(path)
                if h == t.content_hash:
                    lib.relocate(t.id, path, size, mtime)  # analysed (or pending) again, likes and history kept
                    report.returned += 1
                    if t.analysis_version != version:
                        outdated.append(t.id)
                    continue
            elif t is not None and t.size == size and t.mtime == mtime and t.content_hash:
                if t.state in ("analysed", "failed"):
                    settled(t)
                continue  # pending from an interrupted scan: analysed below
            else:
                h = content_hash(path)
        except FileNotFoundError:
            reason = f"{path}: is a broken symbolic link" if os.path.islink(path) else f"{path}: file not found"
            failed_entries.append((path, reason, False))
            continue
        except (OSError, ExplorerError) as e:
            reason = e.message if isinstance(e, ExplorerError) else f"{path}: cannot read the file ({e.strerror})"
            failed_entries.append((path, reason, is_environment_failure(e, path)))
            continue
        if t is None and gone_by_hash.get(h):
            old = gone_by_hash[h].pop(0)
            lib.relocate(old.id, path, size, mtime)
            moved.add(old.id)
            report.moved += 1
            continue
        if t is None:
            report.added += 1
        elif t.content_hash != h:
            report.changed += 1
        elif t.state in ("analysed", "failed"):
            lib.touch(t.id, size, mtime)
            settled(t)
            continue
        new_entries.append((path, size, mtime, read_tags(path), h))
        if len(new_entries) >= 200:
            lib.upsert_files(new_entries)
            new_entries.clear()
    if new_entries:
        lib.upsert_files(new_entries)
    for path, reason, transient in failed_entries:
        if transient:  # the computer's problem, not the file's: nothing recorded, the next scan looks again
            report.failed += 1
            report.failures.append((path, reason + RETRY_NOTE))
            continue
        t = known.get(path)
        if t is not None and t.state == "failed" and t.error == reason and t.analysis_version == version:
            report.unchanged += 1  # still the same problem: already recorded
            continue
        if t is None:
            report.added += 1
            tid = lib.upsert_files([(path, None, None, {}, None)])[0]
        else:
            tid = t.id
        lib.record_failure(tid, reason)
        report.failed += 1
        report.failures.append((path, reason))

    if outdated:
        lib.mark_pending(outdated)
        report.outdated += len(outdated)
    if retry:
        lib.mark_pending(retry)
        report.retried += len(retry)
    vanished = [
        t.id
        for p, t in known.items()
        if p not in found
        and t.state != "missing"
        and t.id not in moved
        and _under(p, folders)
        and not os.path.exists(p)
    ]
    if vanished:
        lib.mark_missing(vanished)
        report.missing += len(vanished)

    jobs = [
        (t.id, t.path, t.content_hash, t.size, t.mtime)
        for t in lib.tracks()
        if t.state in ("pending", "analysing") and t.content_hash and t.size is not None and _under(t.path, folders)
    ]
    _analyse(lib, jobs, workers, progress, cancel, cache_folder, report)


def _analyse(lib: Library, jobs: list[tuple], workers, progress, cancel, cache_folder, report: ScanReport) -> None:
    from explorer.library.genre_model import relabeller

    total = len(jobs)
    done = 0
    relabel = relabeller(lib)  # the library's own genre model, when it has one
    if progress is not None:
        progress(0, total, None)

    def finish(job, status, payload):
        nonlocal done
        tid, path, h = job[0], job[1], job[2]
        if status == "ok":
            lib.record_analysis(tid, relabel(payload), h)
            report.analysed += 1
        else:  # ("retry": the computer failed, not the file; it stays pending for the next scan)
            lib.record_failure(tid, payload, permanent=status != "retry")
            report.failed += 1
            report.failures.append((path, payload))
        done += 1
        if progress is not None:
            progress(done, total, path)

    if workers == 0:
        for job in jobs:
            _check(cancel)
            lib.mark_analysing([job[0]])
            _, path, expected_hash, size, mtime = job
            status, payload = analyse_one(path, expected_hash, size, mtime, cache_folder, cancel)
            if status == "cancelled":
                raise Cancelled("scan cancelled")
            finish(job, status, payload)
        return
    if not jobs:
        return
    n = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    ctx = multiprocessing.get_context("spawn")  # no fork: the caller may be a threaded GUI
    event = ctx.Event()
    queue = deque(jobs)
    fruitless = 0  # pools in a row that died before finishing any song
    proven = False  # some pool finished a song: workers can run, so a song that kills one is to blame

    def check_fruitless(finished: int) -> None:
        nonlocal fruitless, proven
        fruitless = 0 if finished else fruitless + 1
        proven = proven or finished > 0
        if fruitless >= MAX_FRUITLESS_POOLS:
            raise ExplorerError(
                "the analysis processes keep stopping before finishing any song (out of memory? "
                "a script that starts a scan needs an `if __name__ == '__main__':` guard)"
            )

    while queue:
        suspects, finished = _pool_round(queue, n, ctx, event, cache_folder, lib, finish, cancel)
        check_fruitless(finished)
        for job in suspects:  # a worker died: find the culprit by running each of its songs alone
            again, finished = _pool_round(deque([job]), 1, ctx, event, cache_folder, lib, finish, cancel)
            check_fruitless(finished)
            if again and proven:
                finish(job, "failed", f"{job[1]}: the analysis process crashed on this file")
            # (not proven: left 'analysing' for the next scan, unless a later round proves the workers)


def _pool_round(queue: deque, n: int, ctx, event, cache_folder, lib: Library, finish, cancel) -> tuple[list, int]:
    """Analyse ``queue``'s jobs in a pool of ``n`` processes until it is empty or a worker dies.

    Returns the jobs that were in flight when a worker died ([] if none did) and how many finished.
    A cancel (or anything else that ends the round early: Ctrl-C, an error while committing) ends
    the workers at once (:func:`~explorer.util.procs.stop_executor`) instead of waiting for the songs
    they are analysing; only this process commits, so a killed worker takes no half-written row
    with it, and its songs, left 'analysing', are the next scan's.
    """
    finished = 0
    pool = ProcessPoolExecutor(n, mp_context=ctx, initializer=_init_worker, initargs=(event,))
    try:
        inflight: dict = {}
        suspects: list = []
        broken = False  # a worker died: submit nothing more, collect what is in flight
        while queue or inflight:
            if queue and not suspects and not broken and len(inflight) < 2 * n:
                batch = [queue.popleft() for _ in range(min(len(queue), 2 * n - len(inflight)))]
                lib.mark_analysing([job[0] for job in batch])
                for i, job in enumerate(batch):
                    try:
                        fut = pool.submit(_task, job[1], job[2], job[3], job[4], cache_folder)
                    except BrokenProcessPool:  # died between two checks: the rest go to the next pool
                        queue.extendleft(reversed(batch[i:]))
                        broken = True
                        break
                    inflight[fut] = job
            if broken and not inflight:
                break
            ready, _ = wait(inflight, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
            for fut in ready:  # what came back is committed even when a cancel came with it
                job = inflight.pop(fut)
                try:
                    status, payload = fut.result()
                except BrokenProcessPool:
                    suspects.append(job)
                    continue
                finished += 1
                finish(job, status, payload)
            _check(cancel)
            if suspects and not inflight:
                break
    except BaseException:
        event.set()
        stop_executor(pool)
        raise
    pool.shutdown(wait=True)  # every job has come back (or the pool is broken): nothing to wait for
    return suspects, finished
