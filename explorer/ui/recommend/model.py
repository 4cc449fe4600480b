"""The sidebar's list of recommendations, best first."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QAbstractListModel, QModelIndex, Qt

from explorer.ui.recommend.ranking import Item


class RecommendationModel(QAbstractListModel):
    ItemRole = Qt.ItemDataRole.UserRole + 1

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.items: list[Item] = []

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.items)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        it = self.items[index.row()]
        if role == self.ItemRole:
            return it
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{it.title} — {it.artist}" if it.artist else it.title
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{it.path}\n" + "\n".join(it.reasons)
        return None

    def set_items(self, items: list[Item]) -> None:
        self.beginResetModel()
        self.items = list(items)
        self.endResetModel()

    def set_rating(self, track_id: int, rating: int) -> None:
        for i, it in enumerate(self.items):
            if it.track_id == track_id:
                self.items[i] = replace(it, rating=rating)
                idx = self.index(i)
                self.dataChanged.emit(idx, idx)
