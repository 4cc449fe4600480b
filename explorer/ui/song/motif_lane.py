"""The motif lane: a row per motif with its occurrences."""

from __future__ import annotations

from PySide6.QtCore import QRectF
from PySide6.QtGui import QBrush, QColor, QPainter

from explorer.analysis.types import Analysis
from explorer.ui.common import theme
from explorer.ui.song.lane_item import LaneItem
from explorer.ui.song.structure_style import MAX_MOTIF_ROWS, cosmetic_pen, motif_color, with_alpha


class MotifLaneItem(LaneItem):
    """One row per motif, each occurrence a mark in the motif's colour; hovering one lights up all of it."""

    def set_analysis(self, analysis: Analysis | None) -> None:
        motifs = analysis.motifs if analysis is not None else ()
        self.motifs = tuple(sorted(motifs, key=lambda m: -m.score)[:MAX_MOTIF_ROWS])
        self.hovered_motif: int | None = None
        duration = analysis.duration if analysis is not None else 0.0

        def draw(p: QPainter):
            for row, m in enumerate(self.motifs):
                c = motif_color(m.id)
                p.setBrush(QBrush(with_alpha(c, 200)))
                p.setPen(cosmetic_pen(c.darker(150)))
                for o in m.occurrences:
                    p.drawRoundedRect(self._rect_of(row, o), 0, 0)

        self._record(draw, QRectF(0.0, 0.0, max(duration, 1e-9), 1.0))

    def _row_height(self) -> float:
        return 1.0 / max(1, len(self.motifs))

    def _rect_of(self, row: int, o) -> QRectF:
        h = self._row_height()
        y = 1.0 - (row + 1) * h
        return QRectF(o.start, y + 0.12 * h, o.end - o.start, 0.76 * h)

    def hit(self, x: float, y: float):
        if not self.motifs:
            return None
        row = int((1.0 - y) / self._row_height())
        if not 0 <= row < len(self.motifs):
            return None
        m = self.motifs[row]
        for k, o in enumerate(m.occurrences):
            if o.start <= x < o.end:
                return ("motif", row, k)
        return None

    def set_hovered(self, row: int | None) -> None:
        if row != self.hovered_motif:
            self.hovered_motif = row
            self.update()

    def paint(self, p, *args):
        super().paint(p, *args)
        if self.hovered_motif is not None:
            row = self.hovered_motif
            m = self.motifs[row]
            p.setBrush(QBrush(motif_color(m.id).lighter(140)))
            p.setPen(cosmetic_pen(QColor(theme.colors()["text"]), 2.0))
            for o in m.occurrences:
                p.drawRect(self._rect_of(row, o))
        if self._highlight is not None:
            a, b = self._highlight
            self._paint_highlight(
                p,
                [
                    self._rect_of(row, o)
                    for row, m in enumerate(self.motifs)
                    for o in m.occurrences
                    if abs(o.start - a) < 1e-3 and abs(o.end - b) < 1e-3
                ],
            )
