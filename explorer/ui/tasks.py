"""The window's one way to run work in the background.

A :class:`Task` is a piece of work with an **owner** (the widget that started it and receives its
result), a **request id** (so that the owner can drop the results of requests it no longer cares
about), throttled **progress**, a **cancel** flag that the work checks between its stages, and
exactly one end: ``finished``, ``failed`` or ``cancelled``.  Its signals object lives in the GUI
thread, so every signal reaches the owner's slots in the GUI thread.  No task touches a widget.

The :class:`TaskManager` runs tasks in *lanes*, thread pools by kind of work: ``work`` (opening
songs, decoding previews), ``scan`` (library scans), and lanes of a single thread that run
their tasks in order: ``recommend`` (a rating lands before the ranking after it; the lane's thread
keeps its own catalogue connection), ``edits`` (structure edits written in the order they were
made) and ``settings`` (the settings file, saved after a burst of changes).  The manager keeps
each task alive until it has ended, lets go of it in the GUI thread, and holds the one shutdown
path: :meth:`TaskManager.shutdown` cancels every task, stops the helper processes registered with
:meth:`TaskManager.at_shutdown`, and waits until every task has ended, before any QObject goes
away.  A task's owner that is destroyed first has its tasks cancelled.  The application's manager
(:func:`manager`) is a child of the application and shuts down when the application is about to
quit.

With :attr:`TaskManager.synchronous` set, a task runs at once in the calling thread (tests about
what the window shows, not about threading).
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable
from functools import partial
from typing import Any, cast

from PySide6.QtCore import QCoreApplication, QObject, QRunnable, QThreadPool, QTimer, Signal

from explorer.errors import Cancelled, ExplorerError
from explorer.util.threads import lower_this_thread

log = logging.getLogger(__name__)

#: Minimum seconds between two progress signals of one task (stage changes and completion pass).
PROGRESS_INTERVAL = 1.0 / 15
#: How long after its end a task is kept alive, milliseconds: the pool thread is still returning
#: from ``run()`` when ``ended`` arrives, and must never be the one that frees the task.
RELEASE_DELAY_MS = 1000
#: Threads of each lane.  One thread keeps a lane's tasks in the order they were started.
LANES = {"work": 2, "scan": 2, "recommend": 1, "edits": 1, "settings": 1}
#: The object name of the application's manager.
MANAGER_NAME = "explorer-tasks"

_current = threading.local()  # the task running in this thread, if any


class TaskSignals(QObject):
    """What a task says, always with its request id; ``ended`` comes after the one final signal."""

    progress = Signal(int, float, str)
    partial = Signal(int, str, object)
    finished = Signal(int, object)
    failed = Signal(int, str)
    cancelled = Signal(int)
    ended = Signal()


class Task(QRunnable):
    """Base of every background task: override :meth:`work` (runs in a lane's thread).

    Parameters
    ----------
    request_id : int
        Carried by every signal; the owner compares it with the request it still waits for.
    lane : str or None
        The lane it runs in (default: the class' :attr:`LANE`).
    """

    LANE = "work"
    #: Whether a cancel asked for before the work starts or after it ends turns the task's end into
    #: ``cancelled``; False leaves it to the work (to finish what was asked, or report a partial result).
    CHECK_CANCEL = True

    def __init__(self, request_id: int = 0, *, lane: str | None = None):
        super().__init__()
        self.setAutoDelete(False)  # the manager owns it; the pool must not delete it under us
        self.request_id = request_id
        self.lane = lane or self.LANE
        self._owner: weakref.ReferenceType[QObject] | None = None
        self.owner_key = 0  # id() of the owner when the task started
        self.signals = TaskSignals()
        self.done = threading.Event()
        self._cancel = threading.Event()
        self._last_progress = 0.0
        self._last_stage = ""

    @property
    def owner(self) -> QObject | None:
        """The object the task works for (held weakly: a task never keeps its owner alive)."""
        return self._owner() if self._owner is not None else None

    # -- any thread ----------------------------------------------------------------------------
    def cancel(self) -> None:
        self._cancel.set()

    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the task has ended; False when ``timeout`` seconds passed first."""
        return self.done.wait(timeout)

    def pause(self, seconds: float) -> bool:
        """Sleep ``seconds`` in the task's thread, or less when cancel is asked for; True if it was."""
        return self._cancel.wait(seconds)

    # -- the task's thread ---------------------------------------------------------------------
    def check(self) -> None:
        """Raise :class:`~explorer.errors.Cancelled` when cancel was asked for (call between stages)."""
        if self._cancel.is_set():
            raise Cancelled("cancelled")

    def emit(self, name: str, *args) -> None:
        """Emit signal ``name``; when the program is quitting and the signals object is gone, the
        task stops instead of failing."""
        try:
            getattr(self.signals, name).emit(*args)
        except RuntimeError:
            self._cancel.set()

    def report(self, fraction: float, stage: str) -> None:
        """Progress, at most every :data:`PROGRESS_INTERVAL` s unless the stage changes or it is done."""
        now = time.monotonic()
        if stage == self._last_stage and fraction < 1.0 and now - self._last_progress < PROGRESS_INTERVAL:
            return
        self._last_progress, self._last_stage = now, stage
        self.emit("progress", self.request_id, float(min(max(fraction, 0.0), 1.0)), stage)

    def send(self, kind: str, value: Any) -> None:
        """An intermediate result the owner can show before the task ends."""
        self.emit("partial", self.request_id, kind, value)

    def work(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def run(self) -> None:
        threading.current_thread().name = f"explorer-{self.lane}"  # in logs and tracebacks
        lower_this_thread()  # lanes only do background work: the GUI thread goes first
        self.execute()

    def execute(self) -> None:
        """Do the work in the calling thread and end with one final signal."""
        _current.task = self
        try:
            if self.CHECK_CANCEL:
                self.check()
            result = self.work()
            if self.CHECK_CANCEL:
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
            _current.task = None
            self.done.set()
            self.emit("ended")


class FunctionTask(Task):
    """A task made of a function ``fn(task) -> result``; the function may call ``task.report``,
    ``task.send`` and ``task.check``."""

    def __init__(
        self, fn: Callable[[Task], Any], request_id: int = 0, *, lane: str | None = None, check_cancel: bool = True
    ):
        super().__init__(request_id, lane=lane)
        self.fn = fn
        self.CHECK_CANCEL = check_cancel

    def work(self) -> Any:
        return self.fn(self)


class TaskManager(QObject):
    """Runs tasks in lanes and holds the one shutdown path (see the module's docstring)."""

    def __init__(self, parent: QObject | None = None, *, lanes: dict[str, int] | None = None):
        super().__init__(parent)
        self._lanes: dict[str, QThreadPool] = {}
        for name, threads in (lanes or LANES).items():
            pool = QThreadPool(self)
            pool.setMaxThreadCount(threads)
            if threads == 1:
                pool.setExpiryTimeout(-1)  # the same thread for every task: its connections stay valid
            self._lanes[name] = pool
        self._lock = threading.RLock()
        self._running: dict[TaskSignals, Task] = {}
        self._watched: set[int] = set()
        self._stoppers: list[Callable[[], None]] = []
        self._closed = False
        #: Run each task at once in the calling thread (for tests that are not about threading).
        self.synchronous = False

    # -- starting ------------------------------------------------------------------------------
    def start(self, task: Task, *, owner: QObject) -> Task:
        """Run ``task`` for ``owner`` in its lane; returns it (connect its signals before the next
        turn of the event loop, or before calling this when :attr:`synchronous`)."""
        if task.lane not in self._lanes:
            raise ValueError(f"unknown task lane {task.lane!r}")
        task._owner, task.owner_key = weakref.ref(owner), id(owner)
        if self._closed:
            task.cancel()
        self._watch(owner)
        with self._lock:
            self._running[task.signals] = task
        task.signals.ended.connect(self._release)
        if self.synchronous:
            task.execute()
        else:
            self._lanes[task.lane].start(task)
        return task

    def run(
        self,
        fn: Callable[[Task], Any],
        *,
        owner: QObject,
        lane: str = "work",
        request_id: int = 0,
        finished: Callable | None = None,
        failed: Callable | None = None,
        check_cancel: bool = True,
    ) -> Task:
        """Run ``fn(task)`` in ``lane`` for ``owner``; ``finished(request_id, result)`` and
        ``failed(request_id, message)`` are called in the GUI thread.  With ``check_cancel`` False
        the function runs even when cancelled (work that must be done, such as writing an edit)."""
        task = FunctionTask(fn, request_id, lane=lane, check_cancel=check_cancel)
        if finished is not None:
            task.signals.finished.connect(finished)
        if failed is not None:
            task.signals.failed.connect(failed)
        return self.start(task, owner=owner)

    def _watch(self, owner: QObject) -> None:
        key = id(owner)
        if key in self._watched:
            return
        self._watched.add(key)
        owner.destroyed.connect(partial(self._owner_destroyed, key))

    def _owner_destroyed(self, key: int, *_args) -> None:
        self._watched.discard(key)
        for task in self.tasks():
            if task.owner_key == key:
                task.cancel()

    def _release(self) -> None:
        QTimer.singleShot(RELEASE_DELAY_MS, partial(self._forget, cast(TaskSignals, self.sender())))

    def _forget(self, signals: TaskSignals) -> None:
        with self._lock:
            task = self._running.pop(signals, None)
        # outside the lock: the last reference to a task may be the last to its owner, whose
        # destruction looks up that owner's tasks
        del task

    # -- looking, cancelling, waiting (any thread) ---------------------------------------------
    def tasks(self, *owners: QObject, lane: str | None = None) -> list[Task]:
        """The tasks not yet let go of, of ``owners`` (all without) in ``lane`` (any without)."""
        with self._lock:
            found = list(self._running.values())
        if owners:
            keys = {id(o) for o in owners}
            found = [t for t in found if t.owner_key in keys and any(t.owner is o for o in owners)]
        return [t for t in found if lane is None or t.lane == lane]

    def running(self, *owners: QObject, lane: str | None = None) -> list[Task]:
        return [t for t in self.tasks(*owners, lane=lane) if not t.done.is_set()]

    def cancel(self, *owners: QObject, lane: str | None = None) -> None:
        """Ask the tasks of ``owners`` (all without) to stop; each ends as soon as it notices."""
        for task in self.tasks(*owners, lane=lane):
            task.cancel()

    def wait(self, *owners: QObject, lane: str | None = None, timeout: float | None = None) -> bool:
        """Block until the tasks of ``owners`` (all without) in ``lane`` started so far have ended;
        False when ``timeout`` seconds passed first.  From a task of that lane it does not wait for
        itself."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for task in self.tasks(*owners, lane=lane):
            if task.done.is_set() or getattr(_current, "task", None) is task:
                continue
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not task.wait(left):
                return False
        return True

    # -- the one shutdown path -----------------------------------------------------------------
    def at_shutdown(self, stop: Callable[[], None]) -> None:
        """Call ``stop()`` at shutdown, after the cancel and before the wait (once per function):
        it ends helper processes whose work the tasks wait for."""
        if stop not in self._stoppers:
            self._stoppers.append(stop)

    def shutdown(self) -> None:
        """Cancel every task, stop the registered helper processes, wait until every task has ended.

        The wait has no time limit: each cancel reaches the work in flight (a scan ends its worker
        processes, an analysis in the helper process is dropped, a decode stops)."""
        self._closed = True
        self.cancel()
        for stop in self._stoppers:
            try:
                stop()
            except Exception:  # noqa: BLE001 - one failed stop must not keep the others from running
                log.exception("stopping background work failed")
        self.wait()
        for pool in self._lanes.values():
            pool.waitForDone(-1)


def manager() -> TaskManager:
    """The application's task manager (made on first use, from the GUI thread)."""
    app = QCoreApplication.instance()
    if app is None:
        raise RuntimeError("background tasks need a running QApplication")
    found = app.findChild(TaskManager, MANAGER_NAME)
    if found is None:
        found = TaskManager(app)
        found.setObjectName(MANAGER_NAME)
        app.aboutToQuit.connect(found.shutdown)
    return found
