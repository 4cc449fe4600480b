"""How the library table paints its "Analysis" column."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QStyledItemDelegate

from explorer.ui.common import theme
from explorer.ui.library.model import LibraryModel


class StateDelegate(QStyledItemDelegate):
    """The "Analysis" column: a thin progress bar under the state text (full when analysed)."""

    def paint(self, painter, option, index):
        state = index.data(LibraryModel.StateRole)
        progress = index.data(LibraryModel.ProgressRole)
        super().paint(painter, option, index)
        if progress is None and state not in ("analysed", "pending", "analysing"):
            return
        fm = option.fontMetrics
        h = max(3, fm.height() // 5)
        r = option.rect.adjusted(fm.averageCharWidth() // 2, 0, -fm.averageCharWidth() // 2, 0)
        bar = QRect(r.left(), r.bottom() - h - 1, r.width(), h)
        frac = progress if progress is not None else (1.0 if state == "analysed" else 0.0)
        pal = option.palette
        painter.save()
        painter.setPen(Qt.PenStyle.NoPen)
        track = QColor(pal.color(QPalette.ColorRole.Mid))
        track.setAlpha(90)
        painter.setBrush(track)
        painter.drawRoundedRect(bar, h / 2, h / 2)
        if frac > 0:
            fill = QColor(theme.colors()["good"] if progress is None else pal.color(QPalette.ColorRole.Highlight))
            painter.setBrush(fill)
            painter.drawRoundedRect(QRect(bar.left(), bar.top(), max(h, int(bar.width() * frac)), h), h / 2, h / 2)
        painter.restore()
