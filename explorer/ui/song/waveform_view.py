"""The waveform: a zoomable detail view over an overview of the whole song.

Both views draw from the song's :class:`~explorer.audio.peaks.PeakPyramid`: on every change of
the visible range, :class:`PeakItem` asks the pyramid for the level that gives one to four bins per
pixel and paints only the visible bins, as one min–max span per pixel column, so drawing costs
O(pixels) whatever the length of the file.

Mouse: wheel zooms around the pointer; left-drag selects a region; a click puts the cursor;
middle-drag or Shift+left-drag pans; dragging the region in the overview moves the detail view.
Keyboard (:meth:`WaveformView.zoom`, :meth:`WaveformView.pan` are bound by the window): +/− zoom,
Shift+←/→ pan.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QApplication, QLabel, QSizePolicy, QStackedLayout, QWidget

from explorer.audio.peaks import PeakPyramid
from explorer.ui.common import theme

#: Width of the left axis of every plot, pixels, so that the time axes of all lanes line up.
AXIS_WIDTH = 44
#: Fewest peak bins per pixel drawn (the pyramid level gives between this and 4× this).
BINS_PER_PIXEL = 1.0
#: Shortest span the detail view zooms into, seconds.
MIN_SPAN = 0.01
WAVE_COLOR = QColor(86, 156, 214)
PLAYHEAD_COLOR = QColor(255, 120, 40)


def format_time(t: float, decimals: int = 0) -> str:
    """``m:ss`` (``h:mm:ss`` past an hour), with ``decimals`` digits after the seconds.

    >>> format_time(75.25, 1)
    '1:15.2'
    """
    t = max(0.0, float(t))
    scale = 10**decimals
    total = round(t * scale) / scale
    h, rem = divmod(total, 3600)
    m, s = divmod(rem, 60)
    sec = f"{s:0{3 + decimals if decimals else 2}.{decimals}f}"
    return f"{int(h)}:{int(m):02d}:{sec}" if h >= 1 else f"{int(m)}:{sec}"


class TimeAxis(pg.AxisItem):
    """A bottom axis that labels seconds as mm:ss (with tenths or hundredths when zoomed in)."""

    def tickStrings(self, values, scale, spacing):
        decimals = 0 if spacing >= 1 else (1 if spacing >= 0.1 else 2)
        return [format_time(v * scale, decimals) for v in values]


class PeakItem(pg.GraphicsObject):
    """The min/max waveform of a song, taken from the peak pyramid for the visible range only.

    Its bounding rect is always the whole song, ``[0, duration] × [-1, 1]``.  What it shows is the
    filled outline through the bins' maxima and back through their minima (:func:`outline_path`),
    with a 1-pixel cosmetic pen around it; but it paints that shape as one vertical span per device
    pixel column (:func:`column_spans`), rendered into an image in device pixels and drawn
    untransformed.  Filling the ~2 × 1000-vertex polygon as a path cost 4–13 ms per paint (antialiased
    or not); the image costs about 1 ms to make and 0.1 ms to draw, and is kept while the item's
    device transform does not change, so a repaint for the playhead or the selection only draws it.
    """

    def __init__(self, color: QColor = WAVE_COLOR):
        super().__init__()
        self._peaks: PeakPyramid | None = None
        self._range: tuple[float, float, int] | None = None
        # the bins of the visible range: centres (seconds), minima, maxima
        self._x = self._lo = self._hi = np.zeros(0)
        self._bin_seconds = 0.0
        self._brush = QBrush(color)
        pen = QPen(color)
        pen.setCosmetic(True)
        pen.setWidth(1)
        self._pen = pen
        self._colors = coverage_colors(color)
        # the last image: (cache key, QImage, its top-left in device-independent pixels)
        self._image: tuple | None = None
        self.level = 0  # level of the pyramid drawn last (for tests and benchmarks)
        self.n_bins = 0

    def set_peaks(self, peaks: PeakPyramid | None) -> None:
        self.prepareGeometryChange()
        self._peaks = peaks
        self._range = None
        self._x = self._lo = self._hi = np.zeros(0)
        self._image = None
        self.update_path()

    @property
    def duration(self) -> float:
        return 0.0 if self._peaks is None else self._peaks.duration

    def boundingRect(self) -> QRectF:
        return QRectF(0.0, -1.0, max(self.duration, 1e-9), 2.0)

    def viewRangeChanged(self):
        self.update_path()

    def update_path(self) -> None:
        """Take the bins for the current view range and width from the pyramid (cheap when nothing changed)."""
        vb = self.getViewBox()
        if self._peaks is None or vb is None:
            return
        (x0, x1), _ = vb.viewRange()
        width = max(1, int(vb.width()))
        key = (x0, x1, width)
        if key == self._range:
            return
        self._range = key
        a, b = max(0.0, x0), min(self.duration, x1)
        t, lo, hi = self._peaks.window(a, b, width, oversample=BINS_PER_PIXEL)
        self.n_bins = len(t)
        self.level = self._peaks.choose_level(a, b, width, oversample=BINS_PER_PIXEL)
        self._bin_seconds = self._peaks.samples_per_bin(self.level) / self._peaks.sr
        self._x = np.asarray(t, dtype=np.float64) + self._bin_seconds / 2
        self._lo = np.asarray(lo, dtype=np.float64)
        self._hi = np.asarray(hi, dtype=np.float64)
        self._image = None
        self.update()

    def paint(self, p, *args):
        if len(self._x) == 0:
            return
        tr = p.transform()
        if tr.m12() or tr.m21() or not tr.m11() or not tr.m22():
            # rotated or sheared (never in a plot): pixel columns do not apply, fill the outline
            p.setPen(self._pen)
            p.setBrush(self._brush)
            p.drawPath(outline_path(self._x - self._bin_seconds / 2, self._lo, self._hi, self._bin_seconds))
            return
        device = p.device()
        dpr = device.devicePixelRatioF() if device is not None else 1.0
        antialias = bool(p.renderHints() & QPainter.RenderHint.Antialiasing)
        view = self.viewRect()  # the visible part of the view box, in the item's coordinates
        clip = tr.mapRect(view if view is not None else self.boundingRect())
        key = (tr.m11(), tr.m22(), tr.dx(), tr.dy(), dpr, antialias, clip.getRect())
        if self._image is None or self._image[0] != key:
            self._image = (key, *self._render(tr, dpr, antialias, clip))
        _, image, pos = self._image
        if image is None:
            return
        p.save()
        p.resetTransform()  # device-independent pixels of the paint device; the image carries the dpr
        p.drawImage(pos, image)
        p.restore()

    def _render(self, tr, dpr: float, antialias: bool, clip: QRectF):
        """The image of the visible columns and its top-left corner (``None, None`` if there is none)."""
        # item → physical device pixels
        sx, sy, dx, dy = tr.m11() * dpr, tr.m22() * dpr, tr.dx() * dpr, tr.dy() * dpr
        xd = self._x * sx + dx
        c0 = max(int(np.floor(min(xd[0], xd[-1]))), int(np.floor(clip.left() * dpr)))
        c1 = min(int(np.ceil(max(xd[0], xd[-1]))), int(np.ceil(clip.right() * dpr)))
        if c1 <= c0:
            return None, None
        bottom, top = column_spans(xd, self._lo, self._hi, c0, c1)
        ya, yb = top * sy + dy, bottom * sy + dy
        half_pen = 0.5 * dpr  # the old outline's cosmetic 1-px pen, half of it outside the fill
        y0 = np.minimum(ya, yb) - half_pen
        y1 = np.maximum(ya, yb) + half_pen
        if not antialias:  # whole pixels: those whose centre the shape covers, at least one
            y0 = np.floor(y0 + 0.5)
            y1 = np.maximum(np.floor(y1 + 0.5), y0 + 1)
        empty = np.isnan(y0)
        y0[empty] = y1[empty] = 0.0
        if empty.all():
            return None, None
        r0 = max(int(np.floor(y0[~empty].min())), int(np.floor(clip.top() * dpr)))
        r1 = min(int(np.ceil(y1[~empty].max())), int(np.ceil(clip.bottom() * dpr)))
        if r1 <= r0:
            return None, None
        # one byte of coverage per pixel: 255 in the rows the span covers whole, a fraction in its
        # end rows (antialiased); columns padded to 4 bytes, as QImage wants its scanlines aligned
        w, h = c1 - c0, r1 - r0
        stride = (w + 3) // 4 * 4
        y0 = np.concatenate([y0, np.zeros(stride - w)]) - r0
        y1 = np.concatenate([y1, np.zeros(stride - w)]) - r0
        first, last = np.ceil(y0), np.floor(y1)  # the whole rows are [first, last)
        rows = np.arange(h, dtype=np.int32)[:, None]
        coverage = ((rows >= first.astype(np.int32)) & (rows < last.astype(np.int32))).view(np.uint8) * np.uint8(255)
        cols = np.arange(stride)
        for row, part in ((first - 1, np.minimum(first, y1) - y0), (last, y1 - np.maximum(last, y0))):
            ok = (part > 0) & (row >= 0) & (row < h)
            coverage[row[ok].astype(np.intp), cols[ok]] = np.round(part[ok] * 255).astype(np.uint8)
        # the colour table turns coverage into the wave's colour; Qt converts to 32-bit pixels in C++
        # (a numpy lookup took 3× as long) into an image that owns its memory
        indexed = QImage(coverage.data, w, h, stride, QImage.Format.Format_Indexed8)
        indexed.setColorTable(self._colors)
        image = indexed.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
        image.setDevicePixelRatio(dpr)
        return image, QPointF(c0 / dpr, r0 / dpr)


def coverage_colors(color: QColor) -> list[int]:
    """``color`` at every coverage 0…255 (its own alpha scaled), as a colour table of QRgb."""
    return [QColor(color.red(), color.green(), color.blue(), round(k * color.alpha() / 255)).rgba()
            for k in range(256)]


def column_spans(x: np.ndarray, lo: np.ndarray, hi: np.ndarray, c0: int, c1: int):
    """Lowest and highest value the outline of :func:`outline_path` takes in each pixel column.

    The outline joins the points ``(x[i], hi[i])`` by straight lines and comes back through
    ``(x[i], lo[i])``.  A straight line has its extremes at its ends, so over column
    ``[c, c + 1)`` the top is the highest of the maxima inside the column and of the top line
    where it crosses the column's two edges; the bottom likewise.  At one or more bins per pixel
    a column is the min–max of its own bins (and reaches its neighbours halfway: no gaps);
    zoomed in past the finest level the columns follow the lines between the bins.

    Parameters
    ----------
    x : np.ndarray [shape=(n,)]
        Positions of the bins in device pixels, monotonic (increasing or decreasing).
    lo, hi : np.ndarray [shape=(n,)]
        Minimum and maximum of each bin.
    c0, c1 : int
        The columns ``c0 … c1 - 1``.

    Returns
    -------
    bottom, top : np.ndarray [shape=(c1 - c0,), float64]
        NaN in columns the outline does not reach.

    Examples
    --------
    >>> bottom, top = column_spans(np.array([0.5, 2.5]), np.array([-1.0, -1.0]), np.array([1.0, 3.0]), 0, 4)
    >>> top.tolist(), bottom.tolist()
    ([1.5, 2.5, 3.0, nan], [-1.0, -1.0, -1.0, nan])
    """
    x = np.asarray(x, dtype=np.float64)
    lo = np.asarray(lo, dtype=np.float64)
    hi = np.asarray(hi, dtype=np.float64)
    if len(x) > 1 and x[0] > x[-1]:
        x, lo, hi = x[::-1], lo[::-1], hi[::-1]
    n = c1 - c0
    edges = np.arange(c0, c1 + 1, dtype=np.float64)
    at_edges = np.clip(edges, x[0], x[-1])  # a column the outline only enters: up to its end
    top_e, bottom_e = np.interp(at_edges, x, hi), np.interp(at_edges, x, lo)
    top = np.maximum(top_e[:-1], top_e[1:])
    bottom = np.minimum(bottom_e[:-1], bottom_e[1:])
    col = np.floor(x).astype(np.int64) - c0
    inside = (col >= 0) & (col < n)
    np.maximum.at(top, col[inside], hi[inside])
    np.minimum.at(bottom, col[inside], lo[inside])
    outside = (edges[1:] <= x[0]) | (edges[:-1] >= x[-1])
    top[outside] = bottom[outside] = np.nan
    return bottom, top


def outline_path(t: np.ndarray, lo: np.ndarray, hi: np.ndarray, bin_seconds: float) -> QPainterPath:
    """A closed polygon through the maxima at the bins' centres and back through the minima."""
    if len(t) == 0:
        return QPainterPath()
    x = np.asarray(t, dtype=np.float64) + bin_seconds / 2
    path = pg.arrayToQPath(np.concatenate([x, x[::-1]]), np.concatenate([hi, lo[::-1]]).astype(np.float64),
                           connect="all", finiteCheck=False)
    path.closeSubpath()
    return path


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
            ev.button() == Qt.MouseButton.LeftButton and ev.modifiers() & Qt.KeyboardModifier.ShiftModifier)
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


def lane_plot(layout: pg.GraphicsLayout, row: int, height: int, *, name: str = "",
              viewbox: pg.ViewBox | None = None) -> pg.PlotItem:
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


class WaveformView(QWidget):
    """Overview + detail waveform of one song, with a selection, a cursor and a playhead.

    The layout holds, top to bottom: :attr:`section_lane` (section names), :attr:`detail`
    (the zoomable waveform), :attr:`motif_lane` and :attr:`overview`.  The lanes share the
    detail view's x range; :mod:`explorer.ui.song.structure_items` draws into them.
    """

    selectionChanged = Signal(object)  # (start, end) or None
    cursorMoved = Signal(float)
    contextMenuRequested = Signal(float, object)  # time, QPoint
    rangeChanged = Signal(float, float)

    def __init__(self, parent=None):
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
        self.cursor = pg.InfiniteLine(angle=90, movable=False)
        self.cursor.hide()
        self.detail.addItem(self.cursor, ignoreBounds=True)
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
        self.cursor.setPen(pg.mkPen(ink, style=Qt.PenStyle.DashLine))
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
        self.cursor.hide()
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
        self.cursor.setValue(self.cursor_time)
        self.cursor.show()
        self.clear_selection()
        self.cursorMoved.emit(self.cursor_time)

    def mark_moments(self, moments) -> None:
        """Mark up to two stretches ``[(start, end), …]`` on the detail view (the moments a matrix
        click compares); an empty list removes the marks."""
        moments = list(moments)[:len(self.moment_marks)]
        for k, mark in enumerate(self.moment_marks):
            if k < len(moments):
                mark.setRegion(moments[k])
                mark.show()
            else:
                mark.hide()

    def marked_moments(self) -> list[tuple[float, float]]:
        return [tuple(float(x) for x in m.getRegion()) for m in self.moment_marks if m.isVisible()]

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
            self.cursor.setValue(a)
            self.selectionChanged.emit((a, b))

    def _on_selection_edited(self) -> None:
        if self.selection.isVisible():
            a, b = self.selection.getRegion()
            self.selectionChanged.emit((float(a), float(b)))
