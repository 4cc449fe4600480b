"""Time limits of the tests, scaled to how busy the machine is.

No test measures speed (benchmarks/ do): every time limit in a test is a guard against a hang, and
a guard must not fire just because the machine is slow or loaded.  So each limit is written as
what an idle machine needs with room to spare and passed through :func:`budget`, which multiplies
it by :data:`TIME_FACTOR`:

- ``MUSIC_EXPLORER_TEST_TIME_FACTOR`` when set (e.g. 10 on a very slow machine);
- otherwise 3 × how much slower than an idle core this process runs at the start of the run,
  measured (the CPU time a short busy loop gets in its wall time: a run under ``nice -n 19`` beside
  two CPU hogs gets a few per cent) or read from the load per core, whichever says slower;
  at least 3, at most 100.

pytest-qt's waits (``waitUntil``, ``waitSignal``, …) and pytest-timeout's per-test limit are
scaled the same way by the top conftest, so a test states its limits for an idle machine.
"""

from __future__ import annotations

import os
import time


def _share_of_a_core(seconds: float = 0.3) -> float:
    """The CPU time this thread gets per second of wall time while it wants all of it."""
    wall0, cpu0 = time.perf_counter(), time.thread_time()
    while time.perf_counter() - wall0 < seconds:
        sum(range(1000))
    return max(1e-3, (time.thread_time() - cpu0) / (time.perf_counter() - wall0))


def _factor() -> float:
    value = os.environ.get("MUSIC_EXPLORER_TEST_TIME_FACTOR")
    if value:
        return max(1.0, float(value))
    try:
        load = os.getloadavg()[0] / (os.cpu_count() or 1)
    except OSError:  # pragma: no cover - no load average on this system
        load = 1.0
    slowdown = max(1.0, load, 1.0 / _share_of_a_core())
    return min(100.0, 3.0 * slowdown)


#: What every time limit of the tests is multiplied by.
TIME_FACTOR = _factor()


def budget(seconds: float) -> float:
    """``seconds`` (enough on an idle machine) scaled for this machine: a hang guard, never a speed test."""
    return seconds * TIME_FACTOR


def budget_ms(ms: int) -> int:
    return int(ms * TIME_FACTOR)
