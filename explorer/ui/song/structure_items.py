"""The structure drawn over the waveform: section bands and names, choruses, beat grid, motif lane.

Each kind of static shape is one :class:`pyqtgraph.GraphicsObject` that records its shapes once
into a ``QPicture`` and replays it on every paint, with a bounding rect that covers the song, and
is added with ``ignoreBounds=True`` so it never changes the view's auto-range.  Names are painted
in device coordinates (they must not stretch with the zoom).

:class:`~explorer.ui.song.structure_overlay.StructureOverlay` puts the items into the waveform
view and turns clicks on them into playback; the edits themselves are the pure functions of
:mod:`explorer.analysis.edits`.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QLineF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFontMetricsF, QPainter, QPen, QPicture

from explorer.analysis.edits import section_index_at
from explorer.analysis.types import Analysis, Chorus, Motif, Section
from explorer.ui.common import theme
from explorer.ui.song.time_axis import format_time

if TYPE_CHECKING:
    from explorer.ui.song.structure_overlay import StructureOverlay

#: Colours of section labels (A, B, C … in this order), chosen to be told apart on dark and light.
LABEL_COLORS = ("#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7", "#9c755f",
                "#e15759", "#bab0ac")
#: Colours of motifs, in order of their ids.
MOTIF_COLORS = ("#17becf", "#e377c2", "#bcbd22", "#ff7f0e", "#9467bd", "#2ca02c", "#d62728", "#8c564b")
CHORUS_COLOR = QColor("#ffcc33")
#: Motif rows shown in the motif lane (the best-scoring motifs).
MAX_MOTIF_ROWS = 6
#: The section lane: names in [0, SECTION_TOP], choruses in [CHORUS_BOTTOM, 1].
SECTION_TOP = 0.62
CHORUS_BOTTOM = 0.68


# == colours ===========================================================================
def label_color(label: str) -> QColor:
    """The colour of a section label: the same label always gets the same colour."""
    key = label.strip().upper()
    if len(key) == 1 and "A" <= key <= "Z":
        i = ord(key) - ord("A")
    else:
        i = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=2).digest(), "big")
    return QColor(LABEL_COLORS[i % len(LABEL_COLORS)])


def motif_color(motif_id: int) -> QColor:
    return QColor(MOTIF_COLORS[int(motif_id) % len(MOTIF_COLORS)])


def cosmetic_pen(color: QColor, width: float = 1.0, style=Qt.PenStyle.SolidLine) -> QPen:
    pen = QPen(color)
    pen.setCosmetic(True)
    pen.setWidthF(width)
    pen.setStyle(style)
    return pen


def with_alpha(color: QColor, alpha: int) -> QColor:
    c = QColor(color)
    c.setAlpha(alpha)
    return c


def describe_section(s: Section) -> str:
    return (f"{format_time(s.start, 1)}–{format_time(s.end, 1)} · {s.label} · {s.function.capitalize()} · "
            f"confidence {s.confidence:.2f}")


def describe_chorus(c: Chorus) -> str:
    return f"{format_time(c.start, 1)}–{format_time(c.end, 1)} · Chorus · confidence {c.confidence:.2f}"


def describe_occurrence(m: Motif, k: int) -> str:
    o = m.occurrences[k]
    return (f"{format_time(o.start, 1)}–{format_time(o.end, 1)} · motif {m.id + 1}, occurrence {k + 1} of "
            f"{len(m.occurrences)} · score {m.score:.2f}")


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


class SectionBandsItem(PictureItem):
    """Full-height translucent bands behind the waveform, one colour per label; choruses framed in gold."""

    def set_analysis(self, analysis: Analysis | None) -> None:
        sections = analysis.sections if analysis is not None else ()
        choruses = analysis.choruses if analysis is not None else ()
        duration = analysis.duration if analysis is not None else 0.0

        def draw(p: QPainter):
            p.setPen(Qt.PenStyle.NoPen)
            for s in sections:
                p.setBrush(QBrush(with_alpha(label_color(s.label), 34)))
                p.drawRect(QRectF(s.start, -1.05, s.end - s.start, 2.1))
            p.setBrush(QBrush(with_alpha(CHORUS_COLOR, 30)))
            p.setPen(cosmetic_pen(with_alpha(CHORUS_COLOR, 200), 2.0))
            for c in choruses:
                p.drawRect(QRectF(c.start, -1.04, c.end - c.start, 2.08))
            p.setPen(cosmetic_pen(with_alpha(QColor(theme.colors()["text"]), 110), 1.0))
            p.drawLines([QLineF(s.start, -1.05, s.start, 1.05) for s in sections[1:]])

        self._record(draw, QRectF(0.0, -1.05, max(duration, 1e-9), 2.1))


class BeatGridItem(pg.GraphicsObject):
    """Light vertical lines on beats, stronger on bars; beats fade out when they would be too dense."""

    #: Fewest pixels between two lines drawn.
    MIN_SPACING_PX = 6.0

    def __init__(self):
        super().__init__()
        self._beats = QPicture()
        self._bars = QPicture()
        self._beat_step = self._bar_step = 0.0
        self._rect = QRectF()

    def set_analysis(self, analysis: Analysis | None) -> None:
        beats = np.asarray(analysis.beats if analysis is not None else (), dtype=float)
        bars = np.asarray(analysis.downbeats if analysis is not None else (), dtype=float)
        self.prepareGeometryChange()
        ink = QColor(theme.colors()["text"])
        self._beats = self._lines(beats, with_alpha(ink, 35))
        self._bars = self._lines(bars, with_alpha(ink, 80))
        self._beat_step = float(np.median(np.diff(beats))) if len(beats) > 1 else 0.0
        self._bar_step = float(np.median(np.diff(bars))) if len(bars) > 1 else 0.0
        self._rect = QRectF(0.0, -1.0, max(analysis.duration if analysis is not None else 0.0, 1e-9), 2.0)
        self.update()

    @staticmethod
    def _lines(times: np.ndarray, color: QColor) -> QPicture:
        pic = QPicture()
        p = QPainter(pic)
        p.setPen(cosmetic_pen(color))
        # one drawLines call for all beats: a call per beat makes recording a new song slower
        p.drawLines([QLineF(t, -1.0, t, 1.0) for t in times.tolist()])
        p.end()
        return pic

    def boundingRect(self) -> QRectF:
        return QRectF(self._rect)

    def paint(self, p, *args):
        px_per_s = abs(p.transform().m11())
        if self._beat_step * px_per_s >= self.MIN_SPACING_PX:
            p.drawPicture(0, 0, self._beats)
        if self._bar_step * px_per_s >= self.MIN_SPACING_PX:
            p.drawPicture(0, 0, self._bars)


class _LaneItem(PictureItem):
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
        p.drawText(dev, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                   fm.elidedText(text, Qt.TextElideMode.ElideRight, dev.width()))
        p.restore()

    def _paint_highlight(self, p: QPainter, rects) -> None:
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(cosmetic_pen(QColor(theme.colors()["text"]), 2.5))
        for r in rects:
            p.drawRect(r)


class SectionLaneItem(_LaneItem):
    """Section boxes with "label · Function" and, above them, the choruses as gold bars."""

    def set_analysis(self, analysis: Analysis | None) -> None:
        self.sections = analysis.sections if analysis is not None else ()
        self.choruses = analysis.choruses if analysis is not None else ()
        duration = analysis.duration if analysis is not None else 0.0

        def draw(p: QPainter):
            for s in self.sections:
                c = label_color(s.label)
                p.setBrush(QBrush(c if s.function != "chorus" else c.lighter(115)))
                p.setPen(cosmetic_pen(c.darker(160)))
                p.drawRect(self._section_rect(s))
            p.setBrush(QBrush(CHORUS_COLOR))
            p.setPen(cosmetic_pen(CHORUS_COLOR.darker(150)))
            for ch in self.choruses:
                p.drawRect(self._chorus_rect(ch))

        self._record(draw, QRectF(0.0, 0.0, max(duration, 1e-9), 1.0))

    @staticmethod
    def _section_rect(s) -> QRectF:
        return QRectF(s.start, 0.04, s.end - s.start, SECTION_TOP - 0.04)

    @staticmethod
    def _chorus_rect(c) -> QRectF:
        return QRectF(c.start, CHORUS_BOTTOM, c.end - c.start, 0.97 - CHORUS_BOTTOM)

    def hit(self, x: float, y: float):
        if y >= CHORUS_BOTTOM:
            for k, c in enumerate(self.choruses):
                if c.start <= x < c.end:
                    return ("chorus", k)
            return None
        i = section_index_at(self.sections, time=x)
        return None if i is None else ("section", i)

    def paint(self, p, *args):
        super().paint(p, *args)
        for s in self.sections:
            text = s.label if s.function in ("", "other") else f"{s.label} · {s.function.capitalize()}"
            self._paint_text(p, self._section_rect(s), text, QColor(16, 16, 16), short=s.label)
        for c in self.choruses:
            self._paint_text(p, self._chorus_rect(c), "Chorus", QColor(40, 30, 0))
        if self._highlight is not None:
            a, b = self._highlight
            rects = [self._section_rect(s) for s in self.sections if abs(s.start - a) < 1e-3 and abs(s.end - b) < 1e-3]
            rects += [self._chorus_rect(c) for c in self.choruses if abs(c.start - a) < 1e-3 and abs(c.end - b) < 1e-3]
            self._paint_highlight(p, rects)


class MotifLaneItem(_LaneItem):
    """One row per motif, each occurrence a mark in the motif's colour; hovering one lights up all of it."""

    def set_analysis(self, analysis: Analysis | None) -> None:
        motifs = analysis.motifs if analysis is not None else ()
        self.motifs = tuple(sorted(motifs, key=lambda m: -m.score)[:MAX_MOTIF_ROWS])
        self.hovered_motif: int | None = None
        duration = analysis.duration if analysis is not None else 0.0

        def draw(p: QPainter):
            for row, m in enumerate(self.motifs):
                c = motif_color(m.id)
                p.setBrush(QBrush(with_alpha(c, 200)))
                p.setPen(cosmetic_pen(c.darker(150)))
                for o in m.occurrences:
                    p.drawRoundedRect(self._rect_of(row, o), 0, 0)

        self._record(draw, QRectF(0.0, 0.0, max(duration, 1e-9), 1.0))

    def _row_height(self) -> float:
        return 1.0 / max(1, len(self.motifs))

    def _rect_of(self, row: int, o) -> QRectF:
        h = self._row_height()
        y = 1.0 - (row + 1) * h
        return QRectF(o.start, y + 0.12 * h, o.end - o.start, 0.76 * h)

    def hit(self, x: float, y: float):
        if not self.motifs:
            return None
        row = int((1.0 - y) / self._row_height())
        if not 0 <= row < len(self.motifs):
            return None
        m = self.motifs[row]
        for k, o in enumerate(m.occurrences):
            if o.start <= x < o.end:
                return ("motif", row, k)
        return None

    def set_hovered(self, row: int | None) -> None:
        if row != self.hovered_motif:
            self.hovered_motif = row
            self.update()

    def paint(self, p, *args):
        super().paint(p, *args)
        if self.hovered_motif is not None:
            row = self.hovered_motif
            m = self.motifs[row]
            p.setBrush(QBrush(motif_color(m.id).lighter(140)))
            p.setPen(cosmetic_pen(QColor(theme.colors()["text"]), 2.0))
            for o in m.occurrences:
                p.drawRect(self._rect_of(row, o))
        if self._highlight is not None:
            a, b = self._highlight
            self._paint_highlight(p, [self._rect_of(row, o) for row, m in enumerate(self.motifs)
                                      for o in m.occurrences if abs(o.start - a) < 1e-3 and abs(o.end - b) < 1e-3])


class SpansItem(pg.GraphicsObject):
    """A few translucent full-height spans over the waveform (the hovered motif's occurrences)."""

    def __init__(self):
        super().__init__()
        self._spans: list[tuple[float, float]] = []
        self._color = QColor(0, 0, 0, 0)
        self._duration = 0.0

    def set_spans(self, spans, color: QColor, duration: float) -> None:
        self.prepareGeometryChange()
        self._spans, self._color, self._duration = list(spans), QColor(color), duration
        self.update()

    def boundingRect(self) -> QRectF:
        return QRectF(0.0, -1.05, max(self._duration, 1e-9), 2.1)

    def paint(self, p, *args):
        if not self._spans:
            return
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QBrush(with_alpha(self._color, 70)))
        for a, b in self._spans:
            p.drawRect(QRectF(a, -1.05, b - a, 2.1))


