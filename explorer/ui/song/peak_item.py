"""The waveform item: the min/max outline of a song, drawn from its peak pyramid.

On every change of the visible range, :class:`PeakItem` asks the pyramid for the level that gives
one to four bins per pixel and paints only the visible bins, as one min–max span per pixel column,
so drawing costs O(pixels) whatever the length of the file.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPainterPath, QPen

from explorer.audio.peaks import PeakPyramid

#: Fewest peak bins per pixel drawn (the pyramid level gives between this and 4× this).
BINS_PER_PIXEL = 1.0


WAVE_COLOR = QColor(86, 156, 214)


class PeakItem(pg.GraphicsObject):
    """The min/max waveform of a song, taken from the peak pyramid for the visible range only.

    Its bounding rect is always the whole song, ``[0, duration] × [-1, 1]``.  What it shows is the
    filled outline through the bins' maxima and back through their minima (:func:`outline_path`),
    with a 1-pixel cosmetic pen around it; but it paints that shape as one vertical span per device
    pixel column (:func:`column_spans`), rendered into an image in device pixels and drawn
    untransformed, because filling a polygon of thousands of vertices on every paint is far slower
    than drawing an image.  The image is kept while the item's device transform does not change,
    so a repaint for the playhead or the selection only draws it.
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
        # (faster than a numpy lookup) into an image that owns its memory
        indexed = QImage(coverage.data, w, h, stride, QImage.Format.Format_Indexed8)
        indexed.setColorTable(self._colors)
        image = indexed.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
        image.setDevicePixelRatio(dpr)
        return image, QPointF(c0 / dpr, r0 / dpr)


def coverage_colors(color: QColor) -> list[int]:
    """``color`` at every coverage 0…255 (its own alpha scaled), as a colour table of QRgb."""
    return [QColor(color.red(), color.green(), color.blue(), round(k * color.alpha() / 255)).rgba() for k in range(256)]


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
    path = pg.arrayToQPath(
        np.concatenate([x, x[::-1]]),
        np.concatenate([hi, lo[::-1]]).astype(np.float64),
        connect="all",
        finiteCheck=False,
    )
    path.closeSubpath()
    return path
