"""The window's one background mechanism (explorer.ui.tasks): real lanes, real threads, real event loop."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QObject

from explorer.errors import ExplorerError
from explorer.ui.tasks import Task, TaskManager

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def tasks(qapp):
    m = TaskManager()
    yield m
    m.shutdown()


class Counting(Task):
    """Reports progress, sends a partial result, then waits until it is released or cancelled."""

    def __init__(self, request_id: int, gate: threading.Event):
        super().__init__(request_id)
        self.gate = gate
        self.thread_name = ""

    def work(self):
        self.thread_name = threading.current_thread().name
        self.report(0.5, "counting")
        self.send("half", 21)
        while not self.gate.wait(0.01):
            self.check()
        return 42


def test_a_task_delivers_progress_partial_and_result_in_the_gui_thread(qtbot, tasks):
    owner, gate = QObject(), threading.Event()
    task = Counting(7, gate)
    seen = []
    gui = threading.current_thread()
    task.signals.progress.connect(lambda rid, f, stage: seen.append(("progress", rid, f, stage)))
    task.signals.partial.connect(lambda rid, kind, value: seen.append(("partial", rid, kind, value)))
    task.signals.finished.connect(
        lambda rid, result: seen.append(("finished", rid, result, threading.current_thread() is gui))
    )
    with qtbot.waitSignal(task.signals.ended, timeout=10000):
        tasks.start(task, owner=owner)
        gate.set()
    assert seen == [("progress", 7, 0.5, "counting"), ("partial", 7, "half", 21), ("finished", 7, 42, True)]
    assert task.thread_name == "explorer-work"
    assert task.owner is owner and task.done.is_set()


def test_cancel_ends_a_task_as_cancelled_and_failures_are_messages(qtbot, tasks):
    owner = QObject()
    task = Counting(1, threading.Event())
    with qtbot.waitSignal(task.signals.cancelled, timeout=10000) as blocker:
        tasks.start(task, owner=owner)
        tasks.cancel(owner)
    assert blocker.args == [1]

    def broken(_task):
        raise ExplorerError("the disk is full")

    failed = []
    t = tasks.run(broken, owner=owner, request_id=3, failed=lambda rid, message: failed.append((rid, message)))
    qtbot.waitUntil(lambda: bool(failed), timeout=10000)
    assert failed == [(3, "the disk is full")] and t.wait(5)


def test_a_single_thread_lane_keeps_order_and_wait_flushes_it(qtbot, tasks):
    owner, order = QObject(), []
    for i in range(5):
        tasks.run(lambda _t, i=i: order.append(i), owner=owner, lane="edits", check_cancel=False)
    assert tasks.wait(owner, lane="edits", timeout=10)
    assert order == [0, 1, 2, 3, 4]


def test_shutdown_cancels_runs_the_stoppers_and_waits_for_every_task(qtbot, tasks):
    owner, gate, calls = QObject(), threading.Event(), []
    running = [tasks.start(Counting(i, gate), owner=owner) for i in range(2)]
    tasks.at_shutdown(lambda: calls.append("stopped"))
    tasks.shutdown()
    assert calls == ["stopped"]
    assert all(t.done.is_set() and t.is_cancelled() for t in running)
    late = tasks.start(Counting(9, gate), owner=owner)  # after shutdown: cancelled before it starts
    assert late.wait(10) and late.is_cancelled()


def test_a_destroyed_owner_has_its_tasks_cancelled(qtbot, tasks):
    owner, gate = QObject(), threading.Event()
    task = tasks.start(Counting(1, gate), owner=owner)
    owner.deleteLater()
    qtbot.waitUntil(task.is_cancelled, timeout=10000)
    assert task.wait(10)


def test_synchronous_mode_runs_the_task_at_once_in_the_calling_thread(qtbot, tasks):
    tasks.synchronous = True
    results = []
    task = tasks.run(
        lambda _t: threading.current_thread().name, owner=QObject(), finished=lambda rid, name: results.append(name)
    )
    assert task.done.is_set()
    assert results == [threading.current_thread().name]


def test_a_task_never_keeps_its_owner_alive(qtbot, tasks):
    """An owner whose last reference goes is destroyed (its destruction looks up its tasks: no deadlock)."""
    destroyed = []

    def start() -> None:
        owner = QObject()
        owner.destroyed.connect(lambda *_: destroyed.append(True))
        tasks.run(lambda _t: None, owner=owner).wait(10)

    start()  # the task holds its owner weakly: the owner goes now, and its task is let go of later
    assert destroyed
    qtbot.waitUntil(lambda: not tasks.tasks(), timeout=10000)
