"""The base of the structure's static items: shapes recorded once into a picture and replayed on every paint."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QPainter, QPicture


# == items =============================================================================
class PictureItem(pg.GraphicsObject):
    """Static shapes recorded once into a QPicture; the bounding rect is given, not measured."""

    def __init__(self):
        super().__init__()
        self._picture = QPicture()
        self._rect = QRectF()

    def _record(self, draw, rect: QRectF) -> None:
        self.prepareGeometryChange()
        pic = QPicture()
        p = QPainter(pic)
        draw(p)
        p.end()
        self._picture, self._rect = pic, QRectF(rect)
        self.update()

    def boundingRect(self) -> QRectF:
        return QRectF(self._rect)

    def paint(self, p, *args):
        p.drawPicture(0, 0, self._picture)
