"""The base of the clickable lanes above the waveform: hit tests, hover, highlight and names in device coordinates."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter

from explorer.ui.common import theme
from explorer.ui.song.picture_item import PictureItem
from explorer.ui.song.structure_style import cosmetic_pen

if TYPE_CHECKING:
    from explorer.ui.song.structure_overlay import StructureOverlay


class LaneItem(PictureItem):
    """Shared by the lanes: hit-testing by time and row, clicks, hover, a highlighted region."""

    clicked = None  # set by subclasses to a callable(hit, double)

    def __init__(self, overlay: StructureOverlay):
        super().__init__()
        self.overlay = overlay
        self.setAcceptHoverEvents(True)
        self._highlight: tuple[float, float] | None = None

    def hit(self, x: float, y: float):  # pragma: no cover - abstract
        raise NotImplementedError

    def set_highlight(self, region) -> None:
        self._highlight = region
        self.update()

    def mouseClickEvent(self, ev):
        pos = ev.pos()
        if ev.button() == Qt.MouseButton.RightButton:
            ev.accept()
            self.overlay.contextMenuRequested.emit(float(pos.x()), ev.screenPos().toPoint())
            return
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        h = self.hit(pos.x(), pos.y())
        if h is None:
            return
        ev.accept()
        self.overlay._activate(h, bool(ev.double()))

    def hoverEvent(self, ev):
        if ev.isExit():
            self.overlay._hover(None, self)
            return
        pos = ev.pos()
        self.overlay._hover(self.hit(pos.x(), pos.y()), self)

    def _paint_text(self, p: QPainter, rect: QRectF, text: str, color: QColor, short: str = "") -> None:
        """``text`` in ``rect``; where it does not fit, ``short`` whole (e.g. the label without its
        function) rather than a cut "A · In…"; elided only when even that does not fit."""
        dev = p.transform().mapRect(rect).adjusted(5, 0, -3, 0)
        if dev.width() < 12:
            return
        p.save()
        p.resetTransform()
        p.setFont(self.overlay.font)
        fm = QFontMetricsF(self.overlay.font)
        p.setPen(color)
        if short and fm.horizontalAdvance(text) > dev.width():
            text = short
        p.drawText(
            dev,
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
            fm.elidedText(text, Qt.TextElideMode.ElideRight, dev.width()),
        )
        p.restore()

    def _paint_highlight(self, p: QPainter, rects) -> None:
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(cosmetic_pen(QColor(theme.colors()["text"]), 2.5))
        for r in rects:
            p.drawRect(r)
