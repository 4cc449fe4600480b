"""The self-similarity matrix of the song at beat resolution; a click plays the two moments it compares.

Cell ``(i, j)`` of ``Analysis.recurrence`` compares beat ``i`` with beat ``j``; the image is drawn
in beat coordinates (one pixel per beat) and the axes name the beats' times from
``Analysis.recurrence_times``.  A playhead crosses the matrix while the song plays.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QStackedLayout, QWidget

from explorer.analysis.types import Analysis
from explorer.ui.common import theme
from explorer.ui.song.beat_time_axis import BeatTimeAxis
from explorer.ui.song.time_axis import PLAYHEAD_COLOR

#: Seconds of each moment played after a click (at least; a whole bar when the beats are slower).
MOMENT_SECONDS = 2.0
#: Beats played per moment when they last longer than MOMENT_SECONDS.
MOMENT_BEATS = 4


class _ClickableImage(pg.ImageItem):
    def __init__(self, owner: MatrixView):
        super().__init__()
        self.owner = owner

    def mouseClickEvent(self, ev):
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self.owner.click_cell(int(np.floor(ev.pos().x())), int(np.floor(ev.pos().y())))


class MatrixView(QWidget):
    """Signals: ``momentsClicked((a0, a1), (b0, b1))`` — the two moments of the clicked cell, seconds."""

    momentsClicked = Signal(tuple, tuple)

    TITLE = "Self-similarity · click a cell to compare"
    #: What the matrix area says until a song's analysis arrives.
    WAITING = "The self-similarity matrix appears here once the song is analysed."

    def __init__(self, parent=None):
        super().__init__(parent)
        self.bottom_axis = BeatTimeAxis("bottom")
        self.left_axis = BeatTimeAxis("left")
        self.plot = pg.PlotWidget(axisItems={"bottom": self.bottom_axis, "left": self.left_axis})
        self.plot.setAspectLocked(True)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.invertY(True)
        self.image = _ClickableImage(self)
        self.image.setColorMap(pg.colormap.get("inferno"))
        self.plot.addItem(self.image)
        self.playhead_v = pg.InfiniteLine(angle=90, pen=pg.mkPen(PLAYHEAD_COLOR, width=1.5))
        self.playhead_h = pg.InfiniteLine(angle=0, pen=pg.mkPen(PLAYHEAD_COLOR, width=1.5))
        for line in (self.playhead_v, self.playhead_h):
            line.hide()
            self.plot.addItem(line, ignoreBounds=True)
        self.placeholder = QLabel(self.WAITING)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        # the page shown must not change the panel's size: a new layout when a song's analysis
        # arrives would resize (and repaint) the waveform above a second time
        self.placeholder.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        # the plot is kept as wide as the square matrix and its axis (see resizeEvent), centred
        self._page = QWidget(self)
        row = QHBoxLayout(self._page)
        row.setContentsMargins(0, 0, 0, 0)
        row.addStretch(1)
        row.addWidget(self.plot)
        row.addStretch(1)
        self._stack = QStackedLayout(self)
        self._stack.addWidget(self.placeholder)
        self._stack.addWidget(self._page)
        self.times = np.zeros(0)
        self.apply_theme()
        theme.notifier().changed.connect(self.apply_theme)
        self.set_analysis(None)

    def apply_theme(self) -> None:
        """Take the current theme's colours (called again whenever a theme is applied)."""
        c = theme.colors()
        self.plot.setBackground(c["base"])
        for name in ("left", "bottom"):
            axis = self.plot.getAxis(name)
            axis.setPen(c["text"])
            axis.setTextPen(c["text"])
        self.plot.setTitle(self.TITLE, size="9pt", color=c["text"])

    def set_analysis(self, analysis: Analysis | None) -> None:
        R = None if analysis is None else analysis.recurrence
        T = None if analysis is None else analysis.recurrence_times
        if R is None or T is None or np.size(R) == 0:
            self.show_message(self.WAITING)
            return
        R = np.asarray(R, dtype=np.float32)
        self.times = np.asarray(T, dtype=np.float64)
        self.bottom_axis.times = self.left_axis.times = self.times
        # ImageItem's first axis is x: R[i, j] at x=i, y=j (symmetric, so the orientation is moot).
        self.image.setImage(R, autoLevels=False, levels=(0.0, max(float(R.max()), 1e-6)))
        n = R.shape[0]
        self.plot.setRange(xRange=(0, n), yRange=(0, n), padding=0.02)
        self._stack.setCurrentWidget(self._page)
        self._fit_width()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_width()

    def _fit_width(self) -> None:
        """Make the plot as wide as its square view and the axis beside it (never narrower than its title)."""
        # beside the square view: the time axis and margins; above and below it: the title row (30 px in
        # pyqtgraph) and the time axis (from the items' own sizes, not the view's last geometry, which
        # lags one layout behind and would feed back into the width)
        extra_w = max(self.left_axis.width(), 40) + 20
        extra_h = 30 + max(self.bottom_axis.height(), 30) + 20
        title = self.fontMetrics().horizontalAdvance(self.TITLE) + extra_w + 10  # (the title is above the view)
        self.plot.setFixedWidth(int(max(title, min(self.width(), self.height() - extra_h + extra_w))))

    def show_message(self, text: str) -> None:
        """No matrix: ``text`` in its place (why there is none, or what to wait for)."""
        self.times = np.zeros(0)
        self.image.clear()
        self.placeholder.setText(text)
        self._stack.setCurrentWidget(self.placeholder)

    def message(self) -> str:
        """The text shown in place of the matrix ("" when the matrix is shown)."""
        return self.placeholder.text() if self._stack.currentWidget() is self.placeholder else ""

    @property
    def n_beats(self) -> int:
        return max(0, len(self.times) - 1)

    def moment(self, i: int) -> tuple[float, float]:
        """The stretch of time played for beat ``i``: from its start, MOMENT_BEATS beats or MOMENT_SECONDS."""
        n = self.n_beats
        i = min(max(i, 0), n - 1)
        start = float(self.times[i])
        end = max(float(self.times[min(i + MOMENT_BEATS, n)]), start + MOMENT_SECONDS)
        return start, min(end, float(self.times[-1]))

    def click_cell(self, i: int, j: int) -> None:
        if 0 <= i < self.n_beats and 0 <= j < self.n_beats:
            self.momentsClicked.emit(self.moment(i), self.moment(j))

    def set_playhead(self, t: float | None) -> None:
        if t is None or self.n_beats == 0:
            self.playhead_v.hide()
            self.playhead_h.hide()
            return
        k = float(np.interp(t, self.times, np.arange(len(self.times))))
        for line in (self.playhead_v, self.playhead_h):
            line.setValue(k)
            line.show()
