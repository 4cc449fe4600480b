"""The song view's header: the song's name and its figures (length, tempo, genre, counts)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QSizePolicy, QWidget

from explorer.ui.common.widgets import ElidedLabel


class SongHeader(QWidget):
    """The song's name in large bold type, and its figures beside it or, when both do not fit on one
    line, under it.

    A long name ("147793__setuniman__sweet-waltz-0i-22mi", "The U.S. Army Strings – Hungarian Dance
    No. 5") would otherwise end in "…" in a window of ordinary width. The figures move to a second
    line instead, and the name ends in "…" only where it is wider than the whole view.

    Attributes
    ----------
    title_label : ElidedLabel
        The song's name (its tooltip says the path).
    info_label : QLabel
        The song's figures (its tooltip says why, e.g. why a song has no chorus).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title_label = ElidedLabel(self)
        self.title_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.title_label.setObjectName("songTitle")
        f = self.title_label.font()
        f.setPointSizeF(f.pointSizeF() * 1.25)
        f.setBold(True)
        self.title_label.setFont(f)
        self.info_label = QLabel("", self)
        self.info_label.setObjectName("songInfo")
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(12)
        self._grid.setVerticalSpacing(0)
        self._grid.addWidget(self.title_label, 0, 0)
        self._grid.setColumnStretch(0, 1)
        self._two_lines = False
        self._place_info()

    def two_lines(self) -> bool:
        """Whether the figures are on their own line under the name."""
        return self._two_lines

    def _needs_two_lines(self) -> bool:
        info = self.info_label.text()
        if not info:
            return False
        title_w = self.title_label.fontMetrics().horizontalAdvance(self.title_label.text())
        info_w = self.info_label.fontMetrics().horizontalAdvance(info)
        m = self.title_label.contentsMargins()
        return title_w + m.left() + m.right() + self._grid.horizontalSpacing() + info_w > self.contentsRect().width()

    def _place_info(self) -> None:
        self._grid.removeWidget(self.info_label)
        if self._two_lines:
            self._grid.addWidget(self.info_label, 1, 0, Qt.AlignmentFlag.AlignLeft)
        else:
            self._grid.addWidget(self.info_label, 0, 1)

    def _relayout(self) -> None:
        two = self._needs_two_lines()
        if two != self._two_lines:
            self._two_lines = two
            self._place_info()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._relayout()

    def event(self, event) -> bool:
        # a label's new text asks its parent for a new layout: the name or the figures changed
        if event.type() == QEvent.Type.LayoutRequest:
            self._relayout()
        return super().event(event)
