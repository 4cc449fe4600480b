"""The song view's time axis: times as ``m:ss`` and the axis that labels them."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QColor

#: Width of the left axis of every plot, pixels, so that the time axes of all lanes line up.
AXIS_WIDTH = 44


PLAYHEAD_COLOR = QColor(255, 120, 40)


def format_time(t: float, decimals: int = 0) -> str:
    """``m:ss`` (``h:mm:ss`` past an hour), with ``decimals`` digits after the seconds.

    >>> format_time(75.25, 1)
    '1:15.2'
    """
    t = max(0.0, float(t))
    scale = 10**decimals
    total = round(t * scale) / scale
    h, rem = divmod(total, 3600)
    m, s = divmod(rem, 60)
    sec = f"{s:0{3 + decimals if decimals else 2}.{decimals}f}"
    return f"{int(h)}:{int(m):02d}:{sec}" if h >= 1 else f"{int(m)}:{sec}"


class TimeAxis(pg.AxisItem):
    """A bottom axis that labels seconds as mm:ss (with tenths or hundredths when zoomed in)."""

    def tickStrings(self, values, scale, spacing):
        decimals = 0 if spacing >= 1 else (1 if spacing >= 0.1 else 2)
        return [format_time(v * scale, decimals) for v in values]
