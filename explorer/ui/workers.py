"""Long jobs off the GUI thread: one job class per kind of work, run in a QThreadPool.

Every job carries the id of the request that started it and emits, through its ``signals``
object (created in, and so living in, the GUI thread):

``progress(request_id, fraction, stage)``
    at most ~15 times a second (stage changes and completion always get through);
``partial(request_id, kind, value)``
    an intermediate result the window can show before the job ends (a song's audio
    before its analysis, a cached analysis before the audio);
``finished(request_id, result)``, ``failed(request_id, message)``, ``cancelled(request_id)``
    exactly one of them, last.

The receiver compares ``request_id`` with the request it still cares about and drops the
rest.  A job checks its cancel flag between stages (and the decoder and the analysis check it
inside theirs).  Inputs are immutable (paths, :class:`~explorer.audio.buffer.AudioBuffer`) and
so are results; no job touches a widget.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from functools import partial

from PySide6.QtCore import QCoreApplication, QObject, QRunnable, QThread, QThreadPool, QTimer, Signal, Slot

from explorer.audio.buffer import AudioBuffer
from explorer.audio.peaks import PeakPyramid, build_peaks
from explorer.errors import Cancelled, ExplorerError
from explorer.util.threads import JobThread, lower_this_thread
from explorer.services import analysis_helper as analysis_process

log = logging.getLogger(__name__)

#: Minimum seconds between two progress signals of one job.
PROGRESS_INTERVAL = 1.0 / 15
#: Writes the structure edits the window makes to the library, in order (a commit that waits for
#: the disk, and the JSON backup after it, are never made in the GUI thread).  :class:`SongJob`
#: waits for it before it reads a song's edits.
EDITS_WRITER = JobThread("explorer-edits-writer", "saving an edited structure")
#: Longest wait (s) for edits still being written before a song's edits are read anyway.
EDITS_WAIT = 10.0
#: How long after its end a job is kept alive, milliseconds.
RELEASE_DELAY_MS = 1000


class JobSignals(QObject):
    progress = Signal(int, float, str)
    partial = Signal(int, str, object)
    finished = Signal(int, object)
    failed = Signal(int, str)
    cancelled = Signal(int)
    ended = Signal()  # after any of the three above: the runner lets go of the job


class Job(QRunnable):
    """Base of every job: request id, cancel flag, throttled progress, one final signal."""

    def __init__(self, request_id: int):
        super().__init__()
        self.setAutoDelete(False)  # the Python object owns it; the pool must not delete it under us
        self.request_id = request_id
        self.signals = JobSignals()
        self._cancel = threading.Event()
        self._last_progress = 0.0
        self._last_stage = ""
        self.done = threading.Event()

    # -- called from the GUI thread ----------------------------------------------------
    def cancel(self) -> None:
        self._cancel.set()

    # -- called from the job's thread --------------------------------------------------
    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        """Raise :class:`Cancelled` if cancel was asked for (call between stages)."""
        if self._cancel.is_set():
            raise Cancelled("cancelled")

    def emit(self, name: str, *args) -> None:
        """Emit signal ``name`` of :attr:`signals`; when the program is quitting and the signals
        object is already gone, stop the job instead of failing."""
        try:
            getattr(self.signals, name).emit(*args)
        except RuntimeError:
            self._cancel.set()

    def report(self, fraction: float, stage: str) -> None:
        now = time.monotonic()
        if stage == self._last_stage and fraction < 1.0 and now - self._last_progress < PROGRESS_INTERVAL:
            return
        self._last_progress, self._last_stage = now, stage
        self.emit("progress", self.request_id, float(min(max(fraction, 0.0), 1.0)), stage)

    def work(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def run(self) -> None:
        lower_this_thread()  # the pool's threads only do background work: the GUI thread goes first
        try:
            self.check()
            result = self.work()
            self.check()
        except Cancelled:
            self.emit("cancelled", self.request_id)
        except ExplorerError as e:
            self.emit("failed", self.request_id, e.message)
        except Exception as e:  # a bug: logged with its traceback and shown, never swallowed silently
            log.exception("%s failed", type(self).__name__)
            self.emit("failed", self.request_id, f"internal error in {type(self).__name__}: {e!r}")
        else:
            self.emit("finished", self.request_id, result)
        finally:
            self.done.set()
            self.emit("ended")


@dataclass(frozen=True, eq=False)
class SongAudio:
    """A decoded song, its peak pyramid and the hash of its file's bytes (the key of its cache and edits)."""

    buffer: AudioBuffer
    peaks: PeakPyramid
    content_hash: str | None = None


class SongJob(Job):
    """Open a song: hash → cached analysis (if any) → decode + peaks → analysis.

    Emits ``partial(rid, "automatic", (sections, choruses, edited))`` before each analysis (see
    :meth:`_with_edits`), ``partial(rid, "analysis", Analysis)`` first when the cache knows the song (so its
    structure is on screen before the audio is decoded), ``partial(rid, "audio", SongAudio)`` as
    soon as the audio is ready, and finally ``finished(rid, Analysis)``.  With ``audio`` given
    (the window still holds the song), decoding is skipped.  With a ``library``, the user's edited
    sections replace the automatic ones and the song is entered in the catalogue.  ``cache`` None
    means the user's default analysis cache.
    """

    #: Share of the progress bar that decoding takes.
    DECODE_SHARE = 0.3

    def __init__(self, request_id: int, path: str, *, audio: SongAudio | None = None, library=None,
                 cache=None, analyze: bool = True):
        super().__init__(request_id)
        self.path = path
        self.audio = audio
        self.library = library
        self.cache = cache
        self.analyze = analyze

    def work(self):
        from explorer.audio.decode import check_file
        from explorer.library.cache import content_hash

        check_file(self.path)
        audio = self.audio
        h = audio.content_hash if audio is not None else content_hash(self.path)
        if self.cache is None:  # made here, not in the GUI thread: it reads the model manifest
            from explorer.library.cache import default_cache

            self.cache = default_cache()
        analysis = None
        if self.library is not None:
            EDITS_WRITER.flush(EDITS_WAIT)  # an edit made just before is read back, not the one before it
        if self.analyze:
            analysis = self.cache.lookup(h)
            if analysis is not None:
                analysis = self._with_edits(analysis.replace(file=self.path), h)
                self.emit("partial", self.request_id, "analysis", analysis)
        if audio is None:
            self.report(0.0, "decoding")
            buffer = _decode(self.path, lambda f: self.report(f * self.DECODE_SHARE, "decoding"), self.is_cancelled)
            self.check()
            audio = SongAudio(buffer, build_peaks(buffer), h)
        self.emit("partial", self.request_id, "audio", audio)
        if not self.analyze:
            return None
        if analysis is None:
            self.check()
            self.report(self.DECODE_SHARE, "analysing")
            share = 1.0 - self.DECODE_SHARE
            # in the helper process (it decodes the file itself, at the analysis rate), so that
            # the analysis never holds this process' GIL; it fills the cache as before
            analysis = analysis_process.analyse(
                self.path, content_hash=h, cache=self.cache,
                progress=lambda f, stage: self.report(self.DECODE_SHARE + share * f, stage),
                cancelled=self.is_cancelled)
            self.check()
            analysis = self._with_edits(analysis, h)
        if self.library is not None:
            track = self.library.add_or_update_file(self.path, content_hash=h)
            self.library.record_analysis(track.id, analysis, h)
        self.report(1.0, "done")
        return analysis


    def _with_edits(self, analysis, h):
        """``analysis`` with the user's edited sections, if any; first emits
        ``partial(rid, "automatic", (sections, choruses, edited))``: what the analysis found, to
        revert to, and whether the user's edits replace it."""
        edited = self.library.apply_edits(analysis, h) if self.library is not None else analysis
        self.emit("partial", self.request_id, "automatic",
                  (analysis.sections, analysis.choruses, edited is not analysis))
        if self.library is None:
            return edited
        from explorer.library.genre_model import relabeller

        return relabeller(self.library)(edited)  # the library's own genre model, when it has one


class DecodeJob(Job):
    """Decode a song to play a part of it (a preview from the sidebar); finishes with the buffer."""

    def __init__(self, request_id: int, path: str):
        super().__init__(request_id)
        self.path = path

    def work(self) -> AudioBuffer:
        return _decode(self.path, lambda f: self.report(f, "decoding"), self.is_cancelled)


def _decode(path, progress, cancel) -> AudioBuffer:
    from explorer.audio.decode import decode

    return decode(path, progress=progress, cancel=cancel)


class WarmUpJob(Job):
    """Start the analysis helper process (it imports the analysis stack: librosa, scipy, the genre
    model …) and import what this process needs for the first song and the first scan: decoding,
    the cache (its key names the analysis and model versions), playback and tag reading, while the
    user looks at the new window.
    Finishes with the module names.

    The analysis stack itself is not imported here: only the helper and the scanner's workers
    run it, and importing it in a thread of this process would hold the GIL for seconds (every
    module also passes PySide's import hook), stalling the GUI thread just as the user starts.
    """

    MODULES = ("explorer.audio.decode", "explorer.library.cache", "explorer.audio.playback",
               "simpleaudio", "explorer.services.scan", "mutagen.mp3", "mutagen.flac", "mutagen.oggvorbis",
               "mutagen.mp4", "numpy.ma")  # numpy.ma: pyqtgraph's image levels

    def work(self) -> tuple[str, ...]:
        import importlib

        analysis_process.start()
        for name in self.MODULES:
            self.check()
            importlib.import_module(name)
        from explorer.library.cache import analysis_version

        analysis_version()
        return self.MODULES


class JobRunner(QObject):
    """Starts jobs in a thread pool and keeps them alive until they have signalled their end.

    Jobs are let go of in the GUI thread (a queued slot of this object), so that their signal
    objects, which live in the GUI thread, are never destroyed by a worker thread.
    """

    def __init__(self, parent=None, *, max_threads: int = 2):
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max_threads)
        self._running: dict[JobSignals, Job] = {}

    def start(self, job: Job) -> Job:
        self._running[job.signals] = job
        job.signals.ended.connect(self._release)
        self.pool.start(job)
        return job

    def _release(self) -> None:
        # The pool thread is still returning from run() when this arrives: let go a little later, so
        # that the job (and its signals object) is never freed by that thread.
        QTimer.singleShot(RELEASE_DELAY_MS, partial(self._running.pop, self.sender(), None))

    def cancel_all(self) -> None:
        for job in list(self._running.values()):
            job.cancel()

    def wait(self, timeout_ms: int = 10000) -> bool:
        """Block until every job has ended (used when closing the window and in tests)."""
        return self.pool.waitForDone(timeout_ms)


class ThreadKeeper(QObject):
    """Holds each QThread it is given (and the objects that work in it) until the thread has ended.

    Qt aborts the program when a QThread object is destroyed while its thread runs ("QThread:
    Destroyed while thread … is still running").  A widget that owned its thread would destroy it
    with itself when the window closes, whatever the thread was doing; so no widget owns one:
    :func:`keep_thread` gives it to the one keeper, which lets go of it in the GUI thread once it
    has finished, and which, when the application quits, cancels (``cancel()`` of each object that
    has one) and waits for every thread it still holds.  A wait is short because a stop reaches the
    work in flight (a scan ends its worker processes, see :mod:`explorer.services.scan`).
    """

    def __init__(self):
        super().__init__()
        self._kept: dict[QThread, tuple] = {}
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.stop_all)

    def keep(self, thread: QThread, *objects) -> None:
        """Hold ``thread`` and ``objects`` until ``thread`` has finished (call before starting it)."""
        if thread.parent() is not None:
            raise ValueError("a kept thread must not have a parent: the parent would destroy it while it runs")
        self._kept[thread] = objects
        thread.finished.connect(self._release)  # a slot of this object: runs in the GUI thread

    def running(self) -> list[QThread]:
        return [t for t in self._kept if t.isRunning()]

    @Slot()
    def _release(self) -> None:
        thread = self.sender()
        if thread not in self._kept:
            return
        thread.wait()  # 'finished' comes just before the thread's very end: let it get there
        objects = self._kept.pop(thread)
        for obj in objects:
            obj.deleteLater()
        thread.deleteLater()

    @Slot()
    def stop_all(self) -> None:
        """Cancel every thread still held and wait until each has ended (at quit)."""
        for thread, objects in list(self._kept.items()):
            for obj in objects:
                cancel = getattr(obj, "cancel", None)
                if cancel is not None:
                    cancel()
            thread.quit()
        for thread in list(self._kept):
            thread.wait()


_keeper: ThreadKeeper | None = None


def keep_thread(thread: QThread, *objects) -> None:
    """Give ``thread`` (without a parent) and the objects that work in it to the application's
    :class:`ThreadKeeper` (from the GUI thread)."""
    global _keeper
    if _keeper is None:
        _keeper = ThreadKeeper()
    _keeper.keep(thread, *objects)
