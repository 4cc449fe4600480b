"""Background threads run below the thread that made them (Linux: the nice value is per thread)."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from explorer.util.threads import JobThread, lower_this_thread

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")


def _nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def _in_thread(fn):
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("v", fn()))
    t.start()
    t.join(10)
    return out["v"]


@linux_only
def test_lowers_only_the_calling_thread_and_only_once():
    main_before = _nice()

    def work():
        first = lower_this_thread(3)
        after_first = _nice()
        again = lower_this_thread(3)  # a pool thread runs many jobs: the second call must not lower again
        return first, after_first, again, _nice()

    first, after_first, again, after_again = _in_thread(work)
    assert first and again
    assert after_first == min(19, main_before + 3)
    assert after_again == after_first
    assert _nice() == main_before  # the calling (GUI) thread keeps its priority


@linux_only
def test_job_thread_runs_its_jobs_lower():
    main = _nice()
    jt = JobThread("test-lowered", "a test job", niceness=4)
    seen, done = [], threading.Event()
    jt.submit(lambda: (seen.append(_nice()), done.set()))
    assert done.wait(10)
    assert seen == [min(19, main + 4)]
    assert _nice() == main


@linux_only
def test_children_of_a_lowered_thread_inherit_its_priority():
    main = _nice()

    def work():
        lower_this_thread(2)
        return _in_thread(_nice)

    assert _in_thread(work) == min(19, main + 2)


def test_flush_waits_for_the_jobs_submitted_before_it():
    jt = JobThread("test-flush", "a test job")
    done, gate = [], threading.Event()
    jt.submit(lambda: (gate.wait(5), done.append(1)))
    jt.submit(lambda: done.append(2))
    assert not jt.flush(0.05)  # the first job is still waiting at the gate
    gate.set()
    assert jt.flush(5)
    assert done == [1, 2]
    inner = []
    jt.submit(lambda: inner.append(jt.flush(1)))  # from its own thread: returns at once
    assert jt.flush(5) and inner == [True]
