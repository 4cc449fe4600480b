"""The time axis of the self-similarity matrix: ticks on round times, at the beats that carry them."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from explorer.ui.song.time_axis import format_time

#: Spacings of the matrix's time ticks, seconds: the smallest that leaves room between labels is used.
TICK_SECONDS = (5, 10, 15, 30, 60, 120, 300, 600)
#: Fewest pixels between two time ticks.
TICK_PIXELS = 60


class BeatTimeAxis(pg.AxisItem):
    """An axis in beat indices whose ticks fall on round times (0:30, 1:00 …), labelled mm:ss."""

    def __init__(self, orientation):
        super().__init__(orientation)
        self.times = np.zeros(1)

    def tickValues(self, minVal, maxVal, size):
        times = self.times
        if len(times) < 2 or size <= 0:
            return []
        lo, hi = sorted((minVal, maxVal))
        beats = np.arange(len(times), dtype=np.float64)
        t0, t1 = np.interp([max(lo, 0.0), min(hi, beats[-1])], beats, times)
        px_per_second = size / max(float(np.interp(hi, beats, times) - np.interp(lo, beats, times)), 1e-9)
        step = next((s for s in TICK_SECONDS if s * px_per_second >= TICK_PIXELS), TICK_SECONDS[-1])
        at = np.arange(np.ceil(t0 / step) * step, t1 + 1e-9, step)
        return [(step, list(np.interp(at, times, beats)))]

    def tickStrings(self, values, scale, spacing):
        n = len(self.times)
        beats = np.arange(n, dtype=np.float64)
        return [format_time(float(np.interp(v, beats, self.times))) if 0 <= v <= n - 1 else "" for v in values]
