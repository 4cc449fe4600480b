"""The view box of the song's lanes: x-only zoom and pan, selection by dragging, and the thin lane plots
that share its x range."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal

from explorer.ui.song.time_axis import AXIS_WIDTH


class DetailViewBox(pg.ViewBox):
    """x-only zoom and pan; left-drag selects, left-click places the cursor, right-click asks for a menu."""

    sigSelecting = Signal(float, float, bool)  # start, end, finished
    sigClicked = Signal(float)
    sigContextMenu = Signal(float, object)  # time, QPoint on screen

    def __init__(self, **kw):
        super().__init__(**kw)
        self.setMouseEnabled(x=True, y=False)
        self.setMenuEnabled(False)

    def mouseDragEvent(self, ev, axis=None):
        pan = ev.button() == Qt.MouseButton.MiddleButton or (
            ev.button() == Qt.MouseButton.LeftButton and ev.modifiers() & Qt.KeyboardModifier.ShiftModifier
        )
        if pan:
            super().mouseDragEvent(ev, axis=0)
            return
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        ev.accept()
        a = self.mapSceneToView(ev.buttonDownScenePos()).x()
        b = self.mapSceneToView(ev.scenePos()).x()
        self.sigSelecting.emit(min(a, b), max(a, b), ev.isFinish())

    def mouseClickEvent(self, ev):
        x = self.mapSceneToView(ev.scenePos()).x()
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self.sigClicked.emit(x)
        elif ev.button() == Qt.MouseButton.RightButton:
            ev.accept()
            self.sigContextMenu.emit(x, ev.screenPos().toPoint())


def lane_plot(
    layout: pg.GraphicsLayout, row: int, height: int, *, name: str = "", viewbox: pg.ViewBox | None = None
) -> pg.PlotItem:
    """A thin plot without axes that shares the detail view's x range."""
    vb = viewbox or DetailViewBox()
    plot = layout.addPlot(row=row, col=0, viewBox=vb)
    plot.hideAxis("bottom")
    plot.getAxis("left").setWidth(AXIS_WIDTH)
    plot.getAxis("left").setTicks([[]])
    if name:
        plot.getAxis("left").setLabel(name)
    plot.setMouseEnabled(x=True, y=False)
    plot.setMenuEnabled(False)
    plot.hideButtons()
    plot.setFixedHeight(height)
    plot.setYRange(0, 1, padding=0)
    return plot
