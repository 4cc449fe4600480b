"""The library's table view."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import QTableView

from explorer.ui.library.model import LibraryModel


class LibraryTable(QTableView):
    """The table, with a hint in place of rows while the library is empty."""

    HINT = "No songs yet.\nUse “Add folder…” to scan a folder of music."

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        model = self.model()
        if isinstance(model, LibraryModel) and model.total() == 0:
            p = QPainter(self.viewport())
            p.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            p.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.HINT)
            p.end()
