"""The beat grid: a line per beat, stronger on downbeats."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QLineF, QRectF
from PySide6.QtGui import QColor, QPainter, QPicture

from explorer.analysis.types import Analysis
from explorer.ui.common import theme
from explorer.ui.song.structure_style import cosmetic_pen, with_alpha


class BeatGridItem(pg.GraphicsObject):
    """Light vertical lines on beats, stronger on bars; beats fade out when they would be too dense."""

    #: Fewest pixels between two lines drawn.
    MIN_SPACING_PX = 6.0

    def __init__(self):
        super().__init__()
        self._beats = QPicture()
        self._bars = QPicture()
        self._beat_step = self._bar_step = 0.0
        self._rect = QRectF()

    def set_analysis(self, analysis: Analysis | None) -> None:
        beats = np.asarray(analysis.beats if analysis is not None else (), dtype=float)
        bars = np.asarray(analysis.downbeats if analysis is not None else (), dtype=float)
        self.prepareGeometryChange()
        ink = QColor(theme.colors()["text"])
        self._beats = self._lines(beats, with_alpha(ink, 35))
        self._bars = self._lines(bars, with_alpha(ink, 80))
        self._beat_step = float(np.median(np.diff(beats))) if len(beats) > 1 else 0.0
        self._bar_step = float(np.median(np.diff(bars))) if len(bars) > 1 else 0.0
        self._rect = QRectF(0.0, -1.0, max(analysis.duration if analysis is not None else 0.0, 1e-9), 2.0)
        self.update()

    @staticmethod
    def _lines(times: np.ndarray, color: QColor) -> QPicture:
        pic = QPicture()
        p = QPainter(pic)
        p.setPen(cosmetic_pen(color))
        # one drawLines call for all beats: a call per beat makes recording a new song slower
        p.drawLines([QLineF(t, -1.0, t, 1.0) for t in times.tolist()])
        p.end()
        return pic

    def boundingRect(self) -> QRectF:
        return QRectF(self._rect)

    def paint(self, p, *args):
        px_per_s = abs(p.transform().m11())
        if self._beat_step * px_per_s >= self.MIN_SPACING_PX:
            p.drawPicture(0, 0, self._beats)
        if self._bar_step * px_per_s >= self.MIN_SPACING_PX:
            p.drawPicture(0, 0, self._bars)
