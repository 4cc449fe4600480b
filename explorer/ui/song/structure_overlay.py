"""The structure over the waveform as one controller: it puts the structure items into a
:class:`~explorer.ui.song.waveform_view.WaveformView`, turns clicks into
``activated(start, end, loop, description)`` (a click plays a section, a chorus or a motif
occurrence, a double-click loops it), and turns dragged section boundaries into
``sectionsEdited(new_sections)``."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QColor, QFont

from explorer.analysis.edits import MIN_SECTION, move_boundary
from explorer.analysis.types import Analysis, Motif
from explorer.ui.common import theme
from explorer.ui.song.beat_grid import BeatGridItem
from explorer.ui.song.motif_lane import MotifLaneItem
from explorer.ui.song.section_bands import SectionBandsItem
from explorer.ui.song.section_lane import SectionLaneItem
from explorer.ui.song.spans_item import SpansItem
from explorer.ui.song.structure_style import (
    cosmetic_pen,
    describe_chorus,
    describe_occurrence,
    describe_section,
    label_color,
    motif_color,
    with_alpha,
)


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

    def __init__(self, view, parent=None) -> None:
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
        adding pyqtgraph items costs scene and view-box bookkeeping for each, in the event-loop
        turn that shows the song.
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
        pen = cosmetic_pen(with_alpha(QColor(theme.colors()["text"]), 120), 1.0)
        hover_pen = cosmetic_pen(QColor(theme.colors()["accent"]), 3.0)
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
        preview = (
            self.analysis
            if not line.moving
            else self.analysis.replace(  # (not moving: a drag undone)
                sections=move_boundary(self.analysis.sections, index=line.boundary, to=line.value())
            )
        )
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
                duration = self.analysis.duration if self.analysis is not None else 0.0
                self.motif_spans.set_spans([(o.start, o.end) for o in m.occurrences], motif_color(m.id), duration)
