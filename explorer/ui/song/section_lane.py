"""The section lane: section names and the choruses above the waveform."""

from __future__ import annotations

from PySide6.QtCore import QRectF
from PySide6.QtGui import QBrush, QColor, QPainter

from explorer.analysis.edits import section_index_at
from explorer.analysis.types import Analysis
from explorer.ui.common import theme
from explorer.ui.song.lane_item import LaneItem
from explorer.ui.song.structure_style import CHORUS_BOTTOM, CHORUS_COLOR, SECTION_TOP, cosmetic_pen, label_color


class SectionLaneItem(LaneItem):
    """Section boxes with "label · Function" and, above them, the choruses as gold bars; a song
    without a chorus has the reason written where its choruses would be."""

    def set_analysis(self, analysis: Analysis | None) -> None:
        self.sections = analysis.sections if analysis is not None else ()
        self.choruses = analysis.choruses if analysis is not None else ()
        duration = analysis.duration if analysis is not None else 0.0
        self.duration = duration
        #: Why the song has no chorus (empty when it has one, or nothing is analysed).
        self.no_chorus_text = (
            f"No chorus — {analysis.chorus_note}"
            if analysis is not None and not self.choruses and analysis.chorus_note
            else ""
        )

        def draw(p: QPainter):
            for s in self.sections:
                c = label_color(s.label)
                p.setBrush(QBrush(c if s.function != "chorus" else c.lighter(115)))
                p.setPen(cosmetic_pen(c.darker(160)))
                p.drawRect(self._section_rect(s))
            p.setBrush(QBrush(CHORUS_COLOR))
            p.setPen(cosmetic_pen(CHORUS_COLOR.darker(150)))
            for ch in self.choruses:
                p.drawRect(self._chorus_rect(ch))

        self._record(draw, QRectF(0.0, 0.0, max(duration, 1e-9), 1.0))

    @staticmethod
    def _section_rect(s) -> QRectF:
        return QRectF(s.start, 0.04, s.end - s.start, SECTION_TOP - 0.04)

    @staticmethod
    def _chorus_rect(c) -> QRectF:
        return QRectF(c.start, CHORUS_BOTTOM, c.end - c.start, 0.97 - CHORUS_BOTTOM)

    def hit(self, x: float, y: float):
        if y >= CHORUS_BOTTOM:
            for k, c in enumerate(self.choruses):
                if c.start <= x < c.end:
                    return ("chorus", k)
            return None
        i = section_index_at(self.sections, time=x)
        return None if i is None else ("section", i)

    def paint(self, p, *args):
        super().paint(p, *args)
        for s in self.sections:
            text = s.label if s.function in ("", "other") else f"{s.label} · {s.function.capitalize()}"
            self._paint_text(p, self._section_rect(s), text, QColor(16, 16, 16), short=s.label)
        for c in self.choruses:
            self._paint_text(p, self._chorus_rect(c), "Chorus", QColor(40, 30, 0))
        if self.no_chorus_text:
            row = QRectF(0.0, CHORUS_BOTTOM, self.duration, 0.97 - CHORUS_BOTTOM)
            self._paint_text(p, row, self.no_chorus_text, QColor(theme.colors()["dim_text"]))
        if self._highlight is not None:
            a, b = self._highlight
            rects = [self._section_rect(s) for s in self.sections if abs(s.start - a) < 1e-3 and abs(s.end - b) < 1e-3]
            rects += [self._chorus_rect(c) for c in self.choruses if abs(c.start - a) < 1e-3 and abs(c.end - b) < 1e-3]
            self._paint_highlight(p, rects)
