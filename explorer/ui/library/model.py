"""The library's table model: every track of the catalogue as a light row snapshot, sorted and
filtered by the model itself.

Sorting uses precomputed keys with Python's ``sort`` and filtering a precomputed lower-case
"haystack" per row: a ``QSortFilterProxyModel`` would call back into Python for every row it
filters and ``n log n`` times when it sorts.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from explorer.library.store import Track
from explorer.ui.common import theme

#: Names a predicted genre from its label and probabilities: (text, tooltip).
GenreNamer = Callable[[str | None, dict[str, float]], tuple[str, str]]
COLUMNS = ("Title", "Artist", "Album", "Duration", "Tempo", "Genre (tag)", "Genre (predicted)", "Analysis", "Rating")
COL_TITLE, COL_ARTIST, COL_ALBUM, COL_DURATION, COL_TEMPO, COL_TAG, COL_PREDICTED, COL_STATE, COL_RATING = range(9)
#: How a rating shows in its column (the theme's drawn icon: an emoji font may be missing, and the
#: sidebar's buttons are these icons too), and the word that finds it in the filter box.
RATING_ICON = {1: "like", -1: "dislike"}
RATING_TEXT = {1: "liked", -1: "disliked", 0: ""}
RATING_FILTER = {1: "is:liked", -1: "is:disliked", 0: ""}
_STATE_TEXT = {
    "pending": "Queued",
    "analysing": "Analysing",
    "analysed": "Analysed",
    "failed": "Failed",
    "missing": "Missing",
}
_STATE_ORDER = {"analysing": 0, "pending": 1, "analysed": 2, "failed": 3, "missing": 4}
_ROLES = frozenset(
    int(r)
    for r in (
        Qt.ItemDataRole.DisplayRole,
        Qt.ItemDataRole.ToolTipRole,
        Qt.ItemDataRole.TextAlignmentRole,
        Qt.ItemDataRole.ForegroundRole,
        Qt.ItemDataRole.DecorationRole,
        Qt.ItemDataRole.AccessibleTextRole,
        Qt.ItemDataRole.UserRole + 1,
        Qt.ItemDataRole.UserRole + 2,
        Qt.ItemDataRole.UserRole + 3,
    )
)


def format_duration(seconds: float | None) -> str:
    """``m:ss`` (``h:mm:ss`` from an hour on); empty when unknown."""
    if seconds is None:
        return ""
    s = int(round(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


@dataclass(slots=True)
class _Row:
    """What the table shows of one track, plus its sort keys (one per column) and filter haystack."""

    path: str
    id: int
    title: str
    artist: str
    album: str
    duration: float | None
    tempo: float | None
    genre_tag: str
    genre_label: str
    genre_tip: str
    state: str
    error: str
    rating: int
    hay: str
    keys: tuple

    @classmethod
    def of(cls, t: Track, namer: GenreNamer | None = None) -> _Row:
        title = t.title or os.path.splitext(os.path.basename(t.path))[0]
        label, tip = t.genre_label or "", ""
        if namer is not None and label:
            label, tip = namer(t.genre_label, t.genre_probabilities)
        rating = int(t.rating or 0)
        hay = "\n".join(
            (
                title,
                t.artist,
                t.album,
                t.genre_tag,
                label,
                t.genre_label or "",
                os.path.basename(t.path),
                _STATE_TEXT.get(t.state, t.state),
                RATING_FILTER.get(rating, ""),
            )
        ).casefold()
        p = t.path

        def text(s):  # unknown (empty) text sorts last, case ignored
            return (not s, s.casefold(), p)

        keys = (
            text(title),
            text(t.artist),
            text(t.album),
            (t.duration is None, t.duration or 0.0, p),
            (t.tempo is None, t.tempo or 0.0, p),
            text(t.genre_tag),
            text(label),
            (_STATE_ORDER.get(t.state, 9), p),
            (-rating, p),
        )
        return cls(
            p,
            t.id,
            title,
            t.artist,
            t.album,
            t.duration,
            t.tempo,
            t.genre_tag,
            label,
            tip,
            t.state,
            t.error or "",
            rating,
            hay,
            keys,
        )

    def same(self, other: _Row) -> bool:
        return self.keys == other.keys and self.error == other.error and self.genre_tip == other.genre_tip


class LibraryModel(QAbstractTableModel):
    """The catalogue's tracks as table rows, sorted and filtered by the model itself (GUI thread only).

    ``_by_path`` holds every track's row; ``_rows`` the rows that pass the filter, in display order.
    When sorted, ``_keys`` holds the visible rows' sort keys in *ascending* order (keys are unique: the
    path is part of them), so ``_rows`` is ``_keys``' order, reversed for a descending sort.
    """

    #: Role giving a row's analysis progress: a fraction 0–1 while it is analysed, else None.
    ProgressRole = Qt.ItemDataRole.UserRole + 1
    #: Role giving a row's path.
    PathRole = Qt.ItemDataRole.UserRole + 2
    #: Role giving a row's catalogue state (pending, analysing, analysed, failed, missing).
    StateRole = Qt.ItemDataRole.UserRole + 3

    #: More new rows than this at once are added with one re-layout instead of one insertion each.
    BULK = 64

    #: The catalogue's tracks changed: one was added, removed, or its state, tags or rating changed
    #: (not emitted for analysis progress, sorting or filtering: they change what is shown, not the library).
    tracksChanged = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._by_path: dict[str, _Row] = {}
        self._rows: list[_Row] = []
        self._keys: list = []
        self._sort: tuple[int, Qt.SortOrder] | None = None
        self._words: tuple[str, ...] = ()
        self._progress: dict[str, float] = {}
        #: Whether a scan of this window runs (a track marked "analysing" otherwise waits for the next one).
        self.scanning = False

    # -- Qt model interface ---------------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.TextAlignmentRole
            and section in (COL_DURATION, COL_TEMPO)
        ):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if role not in _ROLES or not index.isValid():
            return None
        r = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == COL_DURATION:
                return format_duration(r.duration)
            if col == COL_TEMPO:
                return "" if r.tempo is None else f"{r.tempo:.0f}"
            if col == COL_STATE:
                p = self._progress.get(r.path)
                if p is not None:
                    return f"Analysing {p:.0%}"
                if r.state == "analysing" and not self.scanning:
                    return _STATE_TEXT["pending"]  # left so by an interrupted scan: the next one takes it
                return _STATE_TEXT.get(r.state, r.state)
            if col == COL_RATING:
                return ""  # an icon (DecorationRole)
            return (r.title, r.artist, r.album, "", "", r.genre_tag, r.genre_label)[col]
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == COL_RATING:
                return {1: "You like it (filter: is:liked)", -1: "You dislike it (filter: is:disliked)"}.get(
                    r.rating, "Not rated: right-click to like or dislike it"
                )
            if col == COL_STATE and r.error:
                return r.error
            if col == COL_TEMPO and r.tempo is not None:
                return f"{r.tempo:.1f} BPM"
            if col == COL_PREDICTED and r.genre_tip:
                return r.genre_tip
            return r.path
        if col == COL_RATING and role == Qt.ItemDataRole.DecorationRole:
            name = RATING_ICON.get(r.rating)
            return theme.icon(name) if name else None
        if col == COL_RATING and role == Qt.ItemDataRole.AccessibleTextRole:
            return RATING_TEXT.get(r.rating, "") or "not rated"
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (COL_DURATION, COL_TEMPO):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.TextAlignmentRole and col == COL_RATING:
            return int(Qt.AlignmentFlag.AlignCenter)
        if role == Qt.ItemDataRole.ForegroundRole and r.state in ("missing", "failed"):
            return QApplication.palette().brush(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        if role == self.ProgressRole:
            return self._progress.get(r.path)
        if role == self.PathRole:
            return r.path
        if role == self.StateRole:
            return r.state
        return None

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        """Order the rows by ``column`` (-1: catalogue order); keys are precomputed, fast for 10k rows."""
        new = (column, order) if 0 <= column < len(COLUMNS) else None
        if new != self._sort:  # rows stay in order as they change, so the same sort again is a no-op
            self._sort = new
            self._relayout()

    # -- filtering ----------------------------------------------------------------------------------
    def set_filter(self, text: str) -> None:
        """Show only the rows whose title, artist, album, genres or file name contain every word of ``text``."""
        words = tuple(text.casefold().split())
        if words != self._words:
            self._words = words
            self._relayout()

    def accepts(self, row: _Row) -> bool:
        return all(w in row.hay for w in self._words)

    # -- reading rows -------------------------------------------------------------------------------
    def row_of(self, path: str) -> int | None:
        """The displayed row of ``path``, or None (not in the catalogue, or filtered out)."""
        r = self._by_path.get(path)
        return None if r is None else self._index_of(r)

    def rating_of(self, path: str) -> int | None:
        """The rating shown for ``path`` (1, 0, -1), None when it is not in the catalogue."""
        r = self._by_path.get(path)
        return None if r is None else r.rating

    def state_of(self, path: str) -> str | None:
        """The catalogue state of ``path`` (pending, analysing, analysed, failed, missing), None when not listed."""
        r = self._by_path.get(path)
        return None if r is None else r.state

    def id_of(self, path: str) -> int | None:
        r = self._by_path.get(path)
        return None if r is None else r.id

    def has(self, path: str) -> bool:
        """Whether ``path`` is in the catalogue (shown or filtered out)."""
        return path in self._by_path

    def paths(self) -> list[str]:
        """Paths of every track, shown or not."""
        return list(self._by_path)

    def total(self) -> int:
        return len(self._by_path)

    # -- changing rows ------------------------------------------------------------------------------
    def set_progress(self, path: str, fraction: float | None) -> None:
        """Show (fraction 0–1) or stop showing (None) analysis progress on the row of ``path``."""
        if fraction is None:
            self._progress.pop(path, None)
        else:
            self._progress[path] = min(1.0, max(0.0, float(fraction)))
        i = self.row_of(path)
        if i is not None:
            idx = self.index(i, COL_STATE)
            self.dataChanged.emit(idx, idx)

    def update_tracks(self, tracks: list[Track], namer: GenreNamer | None = None) -> None:
        """Add the tracks the model does not have and refresh those it has (by path); ``namer`` names the
        predicted genres (:func:`explorer.library.genre_model.genre_namer`; the bare label without)."""
        new: list[_Row] = []
        replaced = False
        for t in tracks:
            row = _Row.of(t, namer)
            old = self._by_path.get(row.path)
            if old is None:
                new.append(row)
            elif not old.same(row):
                self._replace(old, row)
                replaced = True
        for row in new:
            self._by_path[row.path] = row
        if new or replaced:
            self.tracksChanged.emit()
        shown = [r for r in new if self.accepts(r)]
        if not shown:
            return
        if self._sort is None:
            n = len(self._rows)
            self.beginInsertRows(QModelIndex(), n, n + len(shown) - 1)
            self._rows.extend(shown)
            self.endInsertRows()
        elif len(shown) > self.BULK:
            self._relayout()
        else:
            for row in shown:
                self._insert(row)

    def remove_paths(self, paths) -> None:
        removed = False
        for p in paths:
            i = self.row_of(p)
            if i is not None:
                self.beginRemoveRows(QModelIndex(), i, i)
                self._take(i)
                self.endRemoveRows()
            removed = self._by_path.pop(p, None) is not None or removed
            self._progress.pop(p, None)
        if removed:
            self.tracksChanged.emit()

    # -- internals -------------------------------------------------------------------------------------
    def _order(self) -> tuple[int, Qt.SortOrder]:
        assert self._sort is not None, "only called while sorted"
        return self._sort

    def _key(self, row: _Row):
        return row.keys[self._order()[0]]

    def _index_of(self, r: _Row) -> int | None:
        if self._sort is None:
            try:
                return self._rows.index(r)
            except ValueError:
                return None
        k = self._key(r)
        j = bisect.bisect_left(self._keys, k)
        if j == len(self._keys) or self._keys[j] != k:
            return None
        return self._display(j)

    def _display(self, j: int) -> int:
        """Display row of ascending position ``j``."""
        return j if self._order()[1] == Qt.SortOrder.AscendingOrder else len(self._rows) - 1 - j

    def _insert(self, row: _Row) -> None:
        """Insert a shown row at its sorted place, telling the views."""
        k = self._key(row)
        j = bisect.bisect_left(self._keys, k)
        i = j if self._order()[1] == Qt.SortOrder.AscendingOrder else len(self._rows) - j
        self.beginInsertRows(QModelIndex(), i, i)
        self._rows.insert(i, row)
        self._keys.insert(j, k)
        self.endInsertRows()

    def _take(self, i: int) -> _Row:
        """Remove display row ``i`` from the lists (the caller tells the views)."""
        if self._sort is not None:
            del self._keys[self._display(i)]
        return self._rows.pop(i)

    def _replace(self, old: _Row, row: _Row) -> None:
        i = self._index_of(old)
        self._by_path[row.path] = row
        if i is None:  # it was filtered out
            if self.accepts(row):
                self._insert(row) if self._sort is not None else self._append(row)
            return
        if not self.accepts(row):
            self.beginRemoveRows(QModelIndex(), i, i)
            self._take(i)
            self.endRemoveRows()
            return
        if self._sort is None or self._key(old) == self._key(row):
            self._rows[i] = row
            self.dataChanged.emit(self.index(i, 0), self.index(i, len(COLUMNS) - 1))
            return
        self._take(i)
        k = self._key(row)
        j = bisect.bisect_left(self._keys, k)
        p = j if self._order()[1] == Qt.SortOrder.AscendingOrder else len(self._rows) - j
        if p != i:  # its place changed: move it (selection and current row follow it)
            self.beginMoveRows(QModelIndex(), i, i, QModelIndex(), p if p < i else p + 1)
        self._rows.insert(p, row)
        self._keys.insert(j, k)
        if p != i:
            self.endMoveRows()
        self.dataChanged.emit(self.index(p, 0), self.index(p, len(COLUMNS) - 1))

    def _append(self, row: _Row) -> None:
        n = len(self._rows)
        self.beginInsertRows(QModelIndex(), n, n)
        self._rows.append(row)
        self.endInsertRows()

    def _relayout(self) -> None:
        """Recompute the shown rows and their order; selection and current row follow their tracks."""
        words = self._words
        rows = [r for r in self._by_path.values() if all(w in r.hay for w in words)]
        keys = []
        if self._sort is not None:
            col = self._sort[0]
            rows.sort(key=lambda r: r.keys[col])
            keys = [r.keys[col] for r in rows]
            if self._sort[1] == Qt.SortOrder.DescendingOrder:
                rows.reverse()
        same_rows = len(rows) == len(self._rows)
        if not same_rows:
            # Rows come and go: a reset (views re-read everything; the pane re-selects by path).
            self.beginResetModel()
            self._rows, self._keys = rows, keys
            self.endResetModel()
            return
        self.layoutAboutToBeChanged.emit()
        old = [(idx, self._rows[idx.row()]) for idx in self.persistentIndexList() if 0 <= idx.row() < len(self._rows)]
        self._rows, self._keys = rows, keys
        moved = []
        for idx, r in old:
            i = self._index_of(r)
            moved.append(QModelIndex() if i is None else self.index(i, idx.column()))
        self.changePersistentIndexList([idx for idx, _ in old], moved)
        self.layoutChanged.emit()
