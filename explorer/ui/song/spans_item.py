"""Highlighted spans over the waveform (the occurrences of the hovered motif)."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor

from explorer.ui.song.structure_style import with_alpha


class SpansItem(pg.GraphicsObject):
    """A few translucent full-height spans over the waveform (the hovered motif's occurrences)."""

    def __init__(self) -> None:
        super().__init__()
        self._spans: list[tuple[float, float]] = []
        self._color = QColor(0, 0, 0, 0)
        self._duration = 0.0

    def set_spans(self, spans, color: QColor, duration: float) -> None:
        self.prepareGeometryChange()
        self._spans, self._color, self._duration = list(spans), QColor(color), duration
        self.update()

    def boundingRect(self) -> QRectF:
        return QRectF(0.0, -1.05, max(self._duration, 1e-9), 2.1)

    def paint(self, p, *args):
        if not self._spans:
            return
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QBrush(with_alpha(self._color, 70)))
        for a, b in self._spans:
            p.drawRect(QRectF(a, -1.05, b - a, 2.1))
