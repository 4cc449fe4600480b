"""The waveform: a zoomable detail view over an overview of the whole song.

Both views draw from the song's :class:`~explorer.audio.peaks.PeakPyramid` through a
:class:`~explorer.ui.song.peak_item.PeakItem` each, whose cost is O(pixels) whatever the length
of the file.

Mouse: wheel zooms around the pointer; left-drag selects a region; a click puts the cursor;
middle-drag or Shift+left-drag pans; dragging the region in the overview moves the detail view.
Keyboard (:meth:`WaveformView.zoom`, :meth:`WaveformView.pan` are bound by the window): +/− zoom,
Shift+←/→ pan.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QLabel, QSizePolicy, QStackedLayout, QWidget

from explorer.audio.peaks import PeakPyramid
from explorer.ui.common import theme
from explorer.ui.song.detail_view_box import DetailViewBox, lane_plot
from explorer.ui.song.peak_item import WAVE_COLOR, PeakItem
from explorer.ui.song.time_axis import AXIS_WIDTH, PLAYHEAD_COLOR, TimeAxis

#: Shortest span the detail view zooms into, seconds.
MIN_SPAN = 0.01


class WaveformView(QWidget):
    """Overview + detail waveform of one song, with a selection, a cursor and a playhead.

    The layout holds, top to bottom: :attr:`section_lane` (section names), :attr:`detail`
    (the zoomable waveform), :attr:`motif_lane` and :attr:`overview`.  The lanes share the
    detail view's x range; :mod:`explorer.ui.song.structure_style` draws into them.
    """

    selectionChanged = Signal(object)  # (start, end) or None
    cursorMoved = Signal(float)
    contextMenuRequested = Signal(float, object)  # time, QPoint
    rangeChanged = Signal(float, float)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.graphics.ci.setSpacing(0)
        self.graphics.ci.setContentsMargins(2, 2, 8, 2)
        # in place of the plots when there is no waveform to show (a song that could not be opened):
        # empty axes from -1 to 1 with sub-second ticks would read as a song of one silent second
        self.placeholder = QLabel(self)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self._stack = QStackedLayout(self)
        self._stack.setContentsMargins(0, 0, 0, 0)
        self._stack.addWidget(self.graphics)
        self._stack.addWidget(self.placeholder)
        g = self.graphics.ci

        self.section_lane = lane_plot(g, 0, 52, name="")
        self.detail_vb = DetailViewBox()
        self.detail = g.addPlot(row=1, col=0, viewBox=self.detail_vb, axisItems={"bottom": TimeAxis("bottom")})
        self.detail.getAxis("left").setWidth(AXIS_WIDTH)
        self.detail.getAxis("left").setTicks([[(-1.0, "−1"), (0.0, "0"), (1.0, "1")]])
        self.detail.hideButtons()
        self.detail.setYRange(-1.05, 1.05, padding=0)
        self.motif_lane = lane_plot(g, 2, 34)
        self.overview_vb = pg.ViewBox(enableMenu=False)
        self.overview_vb.setMouseEnabled(x=False, y=False)
        self.overview = g.addPlot(row=3, col=0, viewBox=self.overview_vb, axisItems={"bottom": TimeAxis("bottom")})
        self.overview.getAxis("left").setWidth(AXIS_WIDTH)
        self.overview.getAxis("left").setTicks([[]])
        self.overview.hideButtons()
        self.overview.setFixedHeight(84)
        self.overview.setYRange(-1.05, 1.05, padding=0)
        for lane in (self.section_lane, self.motif_lane):
            lane.setXLink(self.detail)

        self.wave = PeakItem()
        self.detail.addItem(self.wave)
        self.overview_wave = PeakItem(WAVE_COLOR.darker(115))
        self.overview.addItem(self.overview_wave)

        self.selection = pg.LinearRegionItem(movable=True)
        self.selection.setZValue(20)
        self.selection.hide()
        self.detail.addItem(self.selection, ignoreBounds=True)
        self.cursor_line = pg.InfiniteLine(angle=90, movable=False)
        self.cursor_line.hide()
        self.detail.addItem(self.cursor_line, ignoreBounds=True)
        self.playheads = []
        for plot in (self.detail, self.overview, self.section_lane, self.motif_lane):
            line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(PLAYHEAD_COLOR, width=2))
            line.setZValue(50)
            line.hide()
            plot.addItem(line, ignoreBounds=True)
            self.playheads.append(line)
        # the two moments a click in the self-similarity matrix compares (see mark_moments)
        self.moment_marks = []
        for _ in range(2):
            mark = pg.LinearRegionItem(movable=False)
            mark.setZValue(15)
            mark.hide()
            self.detail.addItem(mark, ignoreBounds=True)
            self.moment_marks.append(mark)
        self.visible_region = pg.LinearRegionItem()
        self.visible_region.setZValue(10)
        self.overview.addItem(self.visible_region, ignoreBounds=True)
        self.apply_theme()
        theme.notifier().changed.connect(self.apply_theme)

        self._peaks: PeakPyramid | None = None
        self._syncing = False
        self.cursor_time = 0.0
        self.detail_vb.sigSelecting.connect(self._on_selecting)
        self.detail_vb.sigClicked.connect(self.set_cursor)
        self.detail_vb.sigContextMenu.connect(self.contextMenuRequested)
        self.detail_vb.sigXRangeChanged.connect(self._on_detail_range)
        self.visible_region.sigRegionChanged.connect(self._on_overview_region)
        self.selection.sigRegionChangeFinished.connect(self._on_selection_edited)
        self.overview_vb.mouseClickEvent = self._on_overview_click
        self.clear()

    def apply_theme(self) -> None:
        """Take the current theme's colours (background, axes, cursor, selection); called again
        whenever a theme is applied, so View ▸ Theme changes the plots at once."""
        c = theme.colors()
        ink, accent = QColor(c["text"]), QColor(c["accent"])
        self.graphics.setBackground(c["base"])
        for plot in (self.section_lane, self.detail, self.motif_lane, self.overview):
            for name in ("left", "bottom"):
                axis = plot.getAxis(name)
                axis.setPen(ink)
                axis.setTextPen(ink)
        self.selection.setBrush(pg.mkBrush(accent.red(), accent.green(), accent.blue(), 60))
        for line in self.selection.lines:
            line.setPen(pg.mkPen(accent, width=1.5))
        self.cursor_line.setPen(pg.mkPen(ink, style=Qt.PenStyle.DashLine))
        for mark in self.moment_marks:
            mark.setBrush(pg.mkBrush(PLAYHEAD_COLOR.red(), PLAYHEAD_COLOR.green(), PLAYHEAD_COLOR.blue(), 55))
            for line in mark.lines:
                line.setPen(pg.mkPen(PLAYHEAD_COLOR, width=1))
        self.visible_region.setBrush(pg.mkBrush(ink.red(), ink.green(), ink.blue(), 28))
        for line in self.visible_region.lines:
            line.setPen(pg.mkPen(ink.red(), ink.green(), ink.blue(), 120))
        self.visible_region.update()
        self.selection.update()

    # -- song ------------------------------------------------------------------------
    @property
    def duration(self) -> float:
        return 0.0 if self._peaks is None else self._peaks.duration

    def clear(self) -> None:
        self.set_peaks(None)

    def show_message(self, text: str) -> None:
        """No song to draw: ``text`` in place of the plots until the next :meth:`set_peaks` or
        :meth:`set_duration`."""
        self.set_peaks(None)
        self.placeholder.setText(text)
        self._stack.setCurrentWidget(self.placeholder)

    def message(self) -> str:
        """The text shown in place of the plots ("" when they are shown)."""
        return self.placeholder.text() if self._stack.currentWidget() is self.placeholder else ""

    def _show_plots(self) -> None:
        if self._stack.currentWidget() is not self.graphics:
            self._stack.setCurrentWidget(self.graphics)

    def set_duration(self, duration: float) -> None:
        """Size the views for a song whose audio is not there yet (a cached analysis came first)."""
        if self._peaks is None and duration > 0:
            self._show_plots()
            self._set_limits(duration)

    def set_peaks(self, peaks: PeakPyramid | None) -> None:
        if peaks is not None:
            self._show_plots()
        self._peaks = peaks
        self.mark_moments([])
        self.clear_selection()
        self.cursor_time = 0.0
        self.cursor_line.hide()
        self.set_playhead(None)
        duration = 1.0 if peaks is None else max(peaks.duration, MIN_SPAN)
        self._set_limits(duration)
        self.wave.set_peaks(peaks)
        self.overview_wave.set_peaks(peaks)
        self.settle()

    def settle(self) -> None:
        """Apply the view boxes' pending range changes now rather than in the next paint: their
        signals make items rebuild and ask for another paint, so a new song cost two repaints."""
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)  # lanes and axes that changed size
        for vb in (self.overview_vb, self.detail_vb, self.section_lane.vb, self.motif_lane.vb):
            vb.prepareForPaint()

    def _set_limits(self, duration: float) -> None:
        for vb in (self.detail_vb, self.section_lane.vb, self.motif_lane.vb):
            vb.setLimits(xMin=0.0, xMax=duration, minXRange=min(MIN_SPAN, duration), maxXRange=duration)
        self.overview_vb.setLimits(xMin=0.0, xMax=duration)
        self.overview.setXRange(0.0, duration, padding=0)
        self.visible_region.setBounds((0.0, duration))
        self.selection.setBounds((0.0, duration))
        self.set_range(0.0, duration)

    # -- range -----------------------------------------------------------------------
    def view_range(self) -> tuple[float, float]:
        (a, b), _ = self.detail_vb.viewRange()
        return float(a), float(b)

    def set_range(self, start: float, end: float) -> None:
        self.detail.setXRange(start, end, padding=0)

    def zoom(self, factor: float, center: float | None = None) -> None:
        """Zoom the detail view by ``factor`` (> 1 zooms in) around ``center`` (default: its middle)."""
        a, b = self.view_range()
        c = (a + b) / 2 if center is None else center
        span = max(MIN_SPAN, (b - a) / factor)
        frac = (c - a) / (b - a) if b > a else 0.5
        start = c - frac * span
        self.set_range(start, start + span)

    def pan(self, fraction: float) -> None:
        """Move the detail view by ``fraction`` of its width (negative: to the left)."""
        a, b = self.view_range()
        d = fraction * (b - a)
        d = max(-a, min(d, self.duration - b)) if self.duration else d
        self.set_range(a + d, b + d)

    def ensure_visible(self, start: float, end: float | None = None) -> None:
        """Pan (and zoom out if needed) so that ``[start, end]`` is in the detail view."""
        end = start if end is None else end
        a, b = self.view_range()
        if start >= a and end <= b:
            return
        span = max(b - a, (end - start) * 1.1)
        left = max(0.0, min(start - 0.05 * span, max(0.0, self.duration - span)))
        self.set_range(left, left + span)

    def _on_detail_range(self, _vb, rng) -> None:
        if self._syncing:
            return
        self._syncing = True
        try:
            self.visible_region.setRegion(rng)
        finally:
            self._syncing = False
        self.rangeChanged.emit(float(rng[0]), float(rng[1]))

    def _on_overview_region(self) -> None:
        if self._syncing:
            return
        self._syncing = True
        try:
            a, b = self.visible_region.getRegion()
            self.detail.setXRange(a, b, padding=0)
        finally:
            self._syncing = False

    def _on_overview_click(self, ev) -> None:
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            x = self.overview_vb.mapSceneToView(ev.scenePos()).x()
            a, b = self.view_range()
            half = (b - a) / 2
            left = max(0.0, min(x - half, self.duration - 2 * half))
            self.set_range(left, left + 2 * half)

    # -- selection, cursor, playhead -------------------------------------------------
    def selected(self) -> tuple[float, float] | None:
        if not self.selection.isVisible():
            return None
        a, b = self.selection.getRegion()
        return (float(a), float(b))

    def set_selection(self, start: float, end: float) -> None:
        start, end = max(0.0, min(start, end)), min(self.duration or end, max(start, end))
        self.selection.blockSignals(True)
        self.selection.setRegion((start, end))
        self.selection.blockSignals(False)
        self.selection.show()
        self.selectionChanged.emit((start, end))

    def clear_selection(self) -> None:
        if self.selection.isVisible():
            self.selection.hide()
            self.selectionChanged.emit(None)

    def set_cursor(self, t: float) -> None:
        self.cursor_time = max(0.0, min(float(t), self.duration))
        self.cursor_line.setValue(self.cursor_time)
        self.cursor_line.show()
        self.clear_selection()
        self.cursorMoved.emit(self.cursor_time)

    def mark_moments(self, moments) -> None:
        """Mark up to two stretches ``[(start, end), …]`` on the detail view (the moments a matrix
        click compares); an empty list removes the marks."""
        moments = list(moments)[: len(self.moment_marks)]
        for k, mark in enumerate(self.moment_marks):
            if k < len(moments):
                mark.setRegion(moments[k])
                mark.show()
            else:
                mark.hide()

    def marked_moments(self) -> list[tuple[float, float]]:
        return [(float(m.getRegion()[0]), float(m.getRegion()[1])) for m in self.moment_marks if m.isVisible()]

    def set_playhead(self, t: float | None) -> None:
        for line in self.playheads:
            if t is None:
                line.hide()
            else:
                line.setValue(t)
                line.show()

    def _on_selecting(self, a: float, b: float, finished: bool) -> None:
        if self._peaks is None:
            return
        a, b = max(0.0, a), min(self.duration, b)
        if b - a <= 0:
            return
        self.selection.blockSignals(True)
        self.selection.setRegion((a, b))
        self.selection.blockSignals(False)
        self.selection.show()
        if finished:
            self.cursor_time = a
            self.cursor_line.setValue(a)
            self.selectionChanged.emit((a, b))

    def _on_selection_edited(self) -> None:
        if self.selection.isVisible():
            a, b = self.selection.getRegion()
            self.selectionChanged.emit((float(a), float(b)))
