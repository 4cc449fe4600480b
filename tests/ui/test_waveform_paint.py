"""How :class:`~explorer.ui.song.peak_item.PeakItem` paints: one min–max span per pixel column.

The item is painted into a QImage (offscreen) through a known transform, from a pyramid built on a
signal whose min/max per pixel column is known, and every column is checked: filled from its
maximum down to its minimum in the wave's colour, empty above and below.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage, QPainter, QTransform

from explorer.audio.buffer import AudioBuffer
from explorer.audio.peaks import build_peaks
from explorer.ui.song.peak_item import WAVE_COLOR, PeakItem, column_spans

SR = 8000
W, H = 200, 100  # plot size in device-independent pixels
X0, Y0 = 30, 20  # where the plot sits on the image
BACKGROUND = 0xFFFFFFFF


def staircase(seconds: float = 2.0) -> np.ndarray:
    """Twenty steps of a square wave whose amplitude grows 0.05 … 1.0, then silence at the end."""
    n = int(seconds * SR)
    t = np.arange(n)
    amp = 0.05 * (1 + np.minimum(t * 20 // n, 19))
    y = amp * np.where((t // 4) % 2 == 0, 1.0, -1.0)
    y[-n // 20 :] = 0.0
    return y.astype(np.float32)


def paint(item: PeakItem, start: float, end: float, *, dpr: float = 1.0, antialias: bool = True) -> QImage:
    """``item`` drawn as a plot of ``[start, end] × [-1.05, 1.05]`` at (X0, Y0) of a W × H plot."""
    img = QImage(int((W + 2 * X0) * dpr), int((H + 2 * Y0) * dpr), QImage.Format.Format_ARGB32_Premultiplied)
    img.setDevicePixelRatio(dpr)
    img.fill(BACKGROUND)
    sx = W / (end - start)
    tr = QTransform(sx, 0, 0, -H / 2.1, X0 - start * sx, Y0 + H / 2)
    item.viewRect = lambda: QRectF(start, -1.05, end - start, 2.1)  # the view box, without a scene
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing, antialias)
    p.setTransform(tr)
    item.paint(p)
    p.end()
    return img


def pixels(img: QImage) -> np.ndarray:
    a = np.frombuffer(img.constBits(), np.uint32, img.width() * img.height())
    return a.reshape(img.height(), img.width()).copy()


def item_for(y: np.ndarray, start: float, end: float, width_px: int) -> PeakItem:
    peaks = build_peaks(AudioBuffer(y[:, None], SR), base_block=4)
    item = PeakItem()
    item._peaks = peaks
    t, lo, hi = peaks.window(start, end, width_px, oversample=1.0)
    item.level = peaks.choose_level(start, end, width_px, oversample=1.0)
    item._bin_seconds = peaks.samples_per_bin(item.level) / SR
    item._x, item._lo, item._hi = t + item._bin_seconds / 2, lo.astype(float), hi.astype(float)
    item.n_bins = len(t)
    return item


@pytest.mark.parametrize("dpr", [1.0, 2.0])
@pytest.mark.parametrize("antialias", [True, False])
def test_every_column_is_filled_between_min_and_max(qapp, dpr, antialias):
    y = staircase()
    duration = len(y) / SR
    item = item_for(y, 0.0, duration, W)
    px = pixels(paint(item, 0.0, duration, dpr=dpr, antialias=antialias))
    wave = QColor(WAVE_COLOR).rgba()
    k = dpr
    rows = np.arange(px.shape[0])
    y_of = lambda v: (Y0 + H / 2 - v * H / 2.1) * k  # noqa: E731 - device row of amplitude v
    checked = 0
    step_px = W / 20
    for c in range(int(X0 * k) + 2, int((X0 + W) * k) - 2):
        x = (c + 0.5) / k - X0  # centre of the device column, in plot pixels
        if abs(x - step_px * round(x / step_px)) < 2.0:
            continue  # next to a step: the outline joins the two amplitudes there
        t = x * duration / W
        seg = y[max(0, int((t - 0.5 * duration / W) * SR)) : int((t + 0.5 * duration / W) * SR)]
        top, bottom = y_of(seg.max()), y_of(seg.min())
        col = px[:, c]
        solid = (rows > top + 1.5) & (rows < bottom - 1.5)
        clear = (rows < top - 1.5 * k) | (rows > bottom + 1.5 * k)
        assert (col[solid] == wave).all(), f"column {c}: gap inside [{top:.1f}, {bottom:.1f}]"
        assert (col[clear] == BACKGROUND).all(), f"column {c}: ink outside [{top:.1f}, {bottom:.1f}]"
        assert (col != BACKGROUND).sum() >= max(1, bottom - top - 2), f"column {c}"
        checked += 1
    assert checked > 0.5 * W * k


def test_zoomed_past_the_finest_level_the_columns_follow_the_lines_between_bins(qapp):
    """At 0.02 s over 200 px there are fewer bins than columns: no column may stay empty."""
    y = np.sin(2 * np.pi * 50 * np.arange(SR) / SR).astype(np.float32) * 0.8
    item = item_for(y, 0.40, 0.42, W)
    assert item.n_bins < W
    px = pixels(paint(item, 0.40, 0.42))
    inked = (px[Y0 : Y0 + H, X0 + 2 : X0 + W - 2] != BACKGROUND).any(axis=0)
    assert inked.all()


def test_the_image_is_kept_while_the_transform_stays(qapp):
    y = staircase()
    item = item_for(y, 0.0, 2.0, W)
    paint(item, 0.0, 2.0)
    first = item._image
    paint(item, 0.0, 2.0)
    assert item._image is first
    paint(item, 0.5, 1.5)
    assert item._image is not first


def test_column_spans_reach_the_neighbours_halfway():
    x = np.array([0.5, 1.5, 2.5])
    bottom, top = column_spans(x, np.array([0.0, 4.0, 0.0]), np.array([1.0, 5.0, 1.0]), -1, 4)
    assert np.isnan(top[0]) and np.isnan(top[-1])  # no bins there
    assert top[1:4].tolist() == [3.0, 5.0, 3.0]
    assert bottom[1:4].tolist() == [0.0, 2.0, 0.0]
    # decreasing x (an inverted axis) gives the same columns
    b2, t2 = column_spans(x[::-1], np.array([0.0, 4.0, 0.0]), np.array([1.0, 5.0, 1.0]), -1, 4)
    assert np.array_equal(t2, top, equal_nan=True) and np.array_equal(b2, bottom, equal_nan=True)
