"""The structure drawn over the waveform: section bands and names, choruses, beat grid, motif lane.

Each kind of static shape is one :class:`pyqtgraph.GraphicsObject` that records its shapes once
into a ``QPicture`` and replays it on every paint, with a bounding rect that covers the song, and
is added with ``ignoreBounds=True`` so it never changes the view's auto-range.  Names are painted
in device coordinates (they must not stretch with the zoom).

:class:`StructureOverlay` puts the items into a :class:`~explorer.ui.song.waveform_view.WaveformView`
and turns clicks into ``activated(start, end, loop, description)``: a click plays a section, a
chorus or a motif occurrence, a double-click loops it.  Boundaries between sections are handles
that can be dragged; every edit comes out as ``sectionsEdited(new_sections)``.

The edits themselves are the pure functions of :mod:`explorer.analysis.edits`.
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QLineF, QObject, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPen, QPicture, QUndoCommand

from explorer.analysis.edits import MIN_SECTION, move_boundary, section_index_at
from explorer.analysis.types import Analysis, Chorus, Motif, Section
from explorer.ui.common import theme
from explorer.ui.song.waveform_view import format_time

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


def _cosmetic(color: QColor, width: float = 1.0, style=Qt.PenStyle.SolidLine) -> QPen:
    pen = QPen(color)
    pen.setCosmetic(True)
    pen.setWidthF(width)
    pen.setStyle(style)
    return pen


def _alpha(color: QColor, alpha: int) -> QColor:
    c = QColor(color)
    c.setAlpha(alpha)
    return c


class StructureState(NamedTuple):
    """What an edit changes of a song: its sections and choruses, and whether they are the user's
    (kept in the library as edits) or the analysis' own."""

    sections: tuple
    choruses: tuple
    edited: bool


class StructureEdit(QUndoCommand):
    """One structure edit on the window's undo stack: ``apply(state)`` shows and keeps a state;
    redo applies ``after``, undo ``before``."""

    def __init__(self, apply, before: StructureState, after: StructureState, text: str):
        super().__init__(text)
        self._apply, self.before, self.after = apply, before, after

    def redo(self) -> None:
        self._apply(self.after)

    def undo(self) -> None:
        self._apply(self.before)


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
                p.setBrush(QBrush(_alpha(label_color(s.label), 34)))
                p.drawRect(QRectF(s.start, -1.05, s.end - s.start, 2.1))
            p.setBrush(QBrush(_alpha(CHORUS_COLOR, 30)))
            p.setPen(_cosmetic(_alpha(CHORUS_COLOR, 200), 2.0))
            for c in choruses:
                p.drawRect(QRectF(c.start, -1.04, c.end - c.start, 2.08))
            p.setPen(_cosmetic(_alpha(QColor(theme.colors()["text"]), 110), 1.0))
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
        self._beats = self._lines(beats, _alpha(ink, 35))
        self._bars = self._lines(bars, _alpha(ink, 80))
        self._beat_step = float(np.median(np.diff(beats))) if len(beats) > 1 else 0.0
        self._bar_step = float(np.median(np.diff(bars))) if len(bars) > 1 else 0.0
        self._rect = QRectF(0.0, -1.0, max(analysis.duration if analysis is not None else 0.0, 1e-9), 2.0)
        self.update()

    @staticmethod
    def _lines(times: np.ndarray, color: QColor) -> QPicture:
        pic = QPicture()
        p = QPainter(pic)
        p.setPen(_cosmetic(color))
        # one drawLines: a drawLine call per beat made recording ~0.6 ms of every new song
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
        p.setPen(_cosmetic(QColor(theme.colors()["text"]), 2.5))
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
                p.setPen(_cosmetic(c.darker(160)))
                p.drawRect(self._section_rect(s))
            p.setBrush(QBrush(CHORUS_COLOR))
            p.setPen(_cosmetic(CHORUS_COLOR.darker(150)))
            for c in self.choruses:
                p.drawRect(self._chorus_rect(c))

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
                p.setBrush(QBrush(_alpha(c, 200)))
                p.setPen(_cosmetic(c.darker(150)))
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
            p.setPen(_cosmetic(QColor(theme.colors()["text"]), 2.0))
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
        p.setBrush(QBrush(_alpha(self._color, 70)))
        for a, b in self._spans:
            p.drawRect(QRectF(a, -1.05, b - a, 2.1))


# == the overlay =======================================================================
class StructureOverlay(QObject):
    """All structure items of one :class:`~explorer.ui.song.waveform_view.WaveformView`.

    Signals
    -------
    activated(start, end, loop, description)
        A section, chorus or motif occurrence was clicked (``loop`` on double-click).
    hovered(description)
        What is under the mouse in a lane, for the status line.
    sectionsEdited(sections)
        A boundary was dragged; the window saves the new sections.
    contextMenuRequested(time, QPoint)
    """

    activated = Signal(float, float, bool, str)
    hovered = Signal(str)
    sectionsEdited = Signal(object)
    contextMenuRequested = Signal(float, object)

    def __init__(self, view, parent=None):
        super().__init__(parent if parent is not None else view)  # goes with the view (and its signals)
        self.view = view
        self.analysis: Analysis | None = None
        self.font = QFont(view.font())
        self.font.setBold(True)
        self.bands = SectionBandsItem()
        self.bands.setZValue(-20)
        self.grid = BeatGridItem()
        self.grid.setZValue(-15)
        self.motif_spans = SpansItem()
        self.motif_spans.setZValue(-10)
        for item in (self.bands, self.grid, self.motif_spans):
            view.detail.addItem(item, ignoreBounds=True)
        self.sections_lane = SectionLaneItem(self)
        view.section_lane.addItem(self.sections_lane, ignoreBounds=True)
        self.motif_lane = MotifLaneItem(self)
        view.motif_lane.addItem(self.motif_lane, ignoreBounds=True)
        self.handles: list[pg.InfiniteLine] = []  # the boundaries of the current sections
        self._handle_pool: list[pg.InfiniteLine] = []  # those and hidden ones, to reuse
        self._current_motif_row: int | None = None
        self.set_analysis(None)
        theme.notifier().changed.connect(self._on_theme_changed)

    def _on_theme_changed(self) -> None:
        """Record the items again in the new theme's colours (lines and outlines use its text colour)."""
        for item in (self.bands, self.grid, self.sections_lane, self.motif_lane):
            item.set_analysis(self.analysis)
        self._make_handles()

    # -- content ---------------------------------------------------------------------
    def set_analysis(self, analysis: Analysis | None) -> None:
        self.analysis = analysis
        for item in (self.bands, self.grid, self.sections_lane, self.motif_lane):
            item.set_analysis(analysis)
        self.motif_spans.set_spans([], QColor(0, 0, 0, 0), 0.0)
        self._current_motif_row = 0 if self.motif_lane.motifs else None
        self._make_handles()
        rows = len(self.motif_lane.motifs)
        self.view.motif_lane.setVisible(rows > 0)
        self.view.motif_lane.setFixedHeight(max(18, min(14 * rows + 6, 90)))

    def _make_handles(self) -> None:
        """One draggable line per boundary between sections, in :attr:`handles`.

        The lines are kept and reused from song to song (the ones not needed hidden): removing and
        adding pyqtgraph items costs ~1 ms each in scene and view-box bookkeeping, ~8 ms a song
        in the event-loop turn that shows it.
        """
        sections = self.analysis.sections if self.analysis is not None else ()
        n = max(0, len(sections) - 1)
        while len(self._handle_pool) < n:
            line = pg.InfiniteLine(angle=90, movable=True)
            line.setZValue(30)
            line.setToolTip("Drag to move this boundary")
            line.boundary = len(self._handle_pool) + 1  # index of the section that starts there
            line.sigPositionChangeFinished.connect(lambda ln: self._boundary_moved(ln.boundary, ln.value()))
            line.sigDragged.connect(self._boundary_dragging)
            self.view.section_lane.addItem(line, ignoreBounds=True)
            self._handle_pool.append(line)
        pen = _cosmetic(_alpha(QColor(theme.colors()["text"]), 120), 1.0)
        hover_pen = _cosmetic(QColor(theme.colors()["accent"]), 3.0)
        for i, line in enumerate(self._handle_pool[:n], start=1):
            line.setPen(pen)
            line.setHoverPen(hover_pen)
            line.setBounds((sections[i - 1].start + MIN_SECTION, sections[i].end - MIN_SECTION))
            line.setValue(sections[i].start)
            line.show()
        for line in self._handle_pool[n:]:
            line.hide()
        self.handles = self._handle_pool[:n]

    def _boundary_dragging(self, line) -> None:
        """While a boundary is dragged, the sections on both sides follow it (drawn, not saved: the
        edit is made when the mouse is released)."""
        if self.analysis is None:
            return
        preview = self.analysis if not line.moving else self.analysis.replace(  # (not moving: a drag undone)
            sections=move_boundary(self.analysis.sections, index=line.boundary, to=line.value()))
        self.bands.set_analysis(preview)
        self.sections_lane.set_analysis(preview)

    def _boundary_moved(self, i: int, t: float) -> None:
        if self.analysis is not None:
            self.sectionsEdited.emit(move_boundary(self.analysis.sections, index=i, to=t))

    def highlight(self, region) -> None:
        """Outline the lane item that plays ``(start, end)``; None removes the outline."""
        self.sections_lane.set_highlight(region)
        self.motif_lane.set_highlight(region)

    def current_motif(self) -> Motif | None:
        """The motif hovered or clicked last (the best one before that)."""
        motifs = self.motif_lane.motifs
        if self._current_motif_row is None or not motifs:
            return None
        return motifs[self._current_motif_row]

    # -- what tests and the status line read -----------------------------------------
    def section_items(self) -> list[tuple[float, float, str, QColor]]:
        return [(s.start, s.end, s.label, label_color(s.label)) for s in self.sections_lane.sections]

    def chorus_items(self) -> list[tuple[float, float]]:
        return [(c.start, c.end) for c in self.sections_lane.choruses]

    def motif_marks(self) -> list[tuple[int, float, float, QColor]]:
        return [(m.id, o.start, o.end, motif_color(m.id)) for m in self.motif_lane.motifs for o in m.occurrences]

    # -- from the lane items ---------------------------------------------------------
    def _describe(self, hit) -> tuple[float, float, str] | None:
        if hit is None:
            return None
        kind = hit[0]
        if kind == "section":
            s = self.sections_lane.sections[hit[1]]
            return s.start, s.end, describe_section(s)
        if kind == "chorus":
            c = self.sections_lane.choruses[hit[1]]
            return c.start, c.end, describe_chorus(c)
        m = self.motif_lane.motifs[hit[1]]
        o = m.occurrences[hit[2]]
        return o.start, o.end, describe_occurrence(m, hit[2])

    def _activate(self, hit, double: bool) -> None:
        d = self._describe(hit)
        if d is None:
            return
        if hit[0] == "motif":
            self._current_motif_row = hit[1]
        self.activated.emit(d[0], d[1], double, d[2])

    def _hover(self, hit, item) -> None:
        d = self._describe(hit)
        if d is not None:
            self.hovered.emit(d[2])
        if item is self.motif_lane:
            row = hit[1] if hit is not None else None
            self.motif_lane.set_hovered(row)
            if row is None:
                self.motif_spans.set_spans([], QColor(0, 0, 0, 0), 0.0)
            else:
                self._current_motif_row = row
                m = self.motif_lane.motifs[row]
                self.motif_spans.set_spans([(o.start, o.end) for o in m.occurrences], motif_color(m.id),
                                           self.analysis.duration)
