"""Section bands: one coloured band per section behind the waveform."""

from __future__ import annotations

from PySide6.QtCore import QLineF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter

from explorer.analysis.types import Analysis
from explorer.ui.common import theme
from explorer.ui.song.picture_item import PictureItem
from explorer.ui.song.structure_style import CHORUS_COLOR, cosmetic_pen, label_color, with_alpha


class SectionBandsItem(PictureItem):
    """Full-height translucent bands behind the waveform, one colour per label; choruses framed in gold."""

    def set_analysis(self, analysis: Analysis | None) -> None:
        sections = analysis.sections if analysis is not None else ()
        choruses = analysis.choruses if analysis is not None else ()
        duration = analysis.duration if analysis is not None else 0.0

        def draw(p: QPainter):
            p.setPen(Qt.PenStyle.NoPen)
            for s in sections:
                p.setBrush(QBrush(with_alpha(label_color(s.label), 34)))
                p.drawRect(QRectF(s.start, -1.05, s.end - s.start, 2.1))
            p.setBrush(QBrush(with_alpha(CHORUS_COLOR, 30)))
            p.setPen(cosmetic_pen(with_alpha(CHORUS_COLOR, 200), 2.0))
            for c in choruses:
                p.drawRect(QRectF(c.start, -1.04, c.end - c.start, 2.08))
            p.setPen(cosmetic_pen(with_alpha(QColor(theme.colors()["text"]), 110), 1.0))
            p.drawLines([QLineF(s.start, -1.05, s.start, 1.05) for s in sections[1:]])

        self._record(draw, QRectF(0.0, -1.05, max(duration, 1e-9), 2.1))
