"""The genre chart of the current song: its most likely genres as bars."""

from __future__ import annotations

from PySide6.QtCore import QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

from explorer.ui.common import theme

#: Genres drawn in the chart of the current song.
CHART_GENRES = 6


class GenreChart(QWidget):
    """Horizontal bars of the current song's most probable genres (painted; sized by the font)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.probabilities: list[tuple[str, float]] = []
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def set_probabilities(self, probabilities: dict[str, float] | None) -> None:
        items = sorted(((str(k), float(v)) for k, v in (probabilities or {}).items()), key=lambda kv: -kv[1])
        self.probabilities = items[:CHART_GENRES]
        self.setToolTip("\n".join(f"{k}: {v:.1%}" for k, v in items))
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:
        fm = self.fontMetrics()
        rows = max(1, len(self.probabilities))
        return QSize(fm.averageCharWidth() * 30, rows * int(fm.height() * 1.25) + fm.height() // 2)

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        fm = self.fontMetrics()
        pal = self.palette()
        c = theme.colors()
        if not self.probabilities:
            p.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, "No genre estimate yet")
            return
        row_h = int(fm.height() * 1.25)
        label_w = min(
            max(fm.horizontalAdvance(k) for k, _ in self.probabilities) + fm.averageCharWidth(), self.width() // 3
        )
        pct_w = fm.horizontalAdvance("100%") + fm.averageCharWidth()
        bar_w = max(1, self.width() - label_w - pct_w - fm.averageCharWidth())
        top = max(p for _, p in self.probabilities) or 1.0
        for i, (label, prob) in enumerate(self.probabilities):
            y = fm.height() // 4 + i * row_h
            p.setPen(pal.color(QPalette.ColorRole.WindowText))
            p.drawText(
                QRect(0, y, label_w, row_h),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                fm.elidedText(label, Qt.TextElideMode.ElideRight, label_w),
            )
            bh = max(4, int(fm.height() * 0.55))
            r = QRectF(label_w, y + (row_h - bh) / 2, max(bh, bar_w * prob / top), bh)
            color = QColor(c["bar"])
            if i:
                color.setAlpha(170)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(color)
            p.drawRoundedRect(r, bh / 3, bh / 3)
            p.setPen(pal.color(QPalette.ColorRole.WindowText))
            p.drawText(
                QRect(label_w + bar_w + fm.averageCharWidth(), y, pct_w, row_h),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                f"{prob:.0%}",
            )
        p.end()
