"""The recommendation sidebar: songs of the library like the current one, why, and a ▶ to hear their chorus.

Rows are drawn by one delegate (no widget per row): title and artist, genre, a similarity bar, the
reasons, and three buttons — ▶ previews that song's chorus (or its most representative section),
👍 / 👎 rate it and re-rank the list at once.  Ranking (and rating, which writes to the catalogue)
runs on one background thread with its own catalogue connection; every result carries the id of the
request that asked for it, and results of requests that were overtaken are dropped.
"""

from __future__ import annotations

import itertools
import os
from typing import Any

from PySide6.QtCore import QEvent, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QListView,
    QStyleOptionViewItem,
    QTabBar,
    QVBoxLayout,
    QWidget,
)

from explorer.library.store import Library, normalize_path
from explorer.recommend import rank
from explorer.ui.recommend.delegate import RecommendationDelegate
from explorer.ui.recommend.genre_chart import GenreChart
from explorer.ui.recommend.model import RecommendationModel
from explorer.ui.recommend.ranking import Item, RankTask
from explorer.ui.tasks import TaskManager, manager

#: (mode of :func:`explorer.recommend.recommend`, label of its button)
MODES = (("genre", "Genre"), ("sound", "Sounds like"), ("personal", "For you"), ("blend", "Blend"))
#: What the list says when it is empty, by :func:`~explorer.recommend.why_nothing`'s reason.
EMPTY = {
    rank.NO_SONGS: "No recommendations yet: add a folder of songs to the library.",
    rank.NO_OTHER_SONGS: "No recommendations yet: the library has no other analysed song. Add a folder of songs.",
    rank.NO_TASTE: "Nothing to go on yet: like, dislike or play some songs.",
    rank.ALL_DISLIKED: "You disliked every other song: type is:disliked in the library's filter and untick "
    "Dislike in a song's right-click menu, or see Genre and Sounds like, which do not leave them out.",
}
#: The modes that, with no song open, rank for the listener alone ("for you": likes, dislikes, plays).
FOR_YOU_MODES = ("personal", "blend")
#: The title of that list.
FOR_YOU_TITLE = "For you, from what you liked and played"
#: What the pane says with no song open in a mode that needs one.
OPEN_A_SONG = "Open a song to see similar songs from your library."
#: Recommendations shown.
K = 20
#: After the library changed, the list is ranked again within this long (ms), at most once per this
#: long while a scan keeps changing it.
LIVE_DELAY_MS = 400


class RecommendationSidebar(QWidget):
    """Recommendations for the current song, switchable by mode, with preview and like / dislike.

    Signals
    -------
    previewRequested(str path, float start, float end)
        ▶ on a row (or Space): play that region of that song.
    openRequested(str path)
        A row was double-clicked (or Enter pressed on it).
    errorOccurred(str message)
        Ranking or rating failed; a readable sentence.
    recommendationsChanged()
        A new list is shown (the result of the latest request).
    listenRecorded(str path, str kind, float heard)
        A listen given to :meth:`record_listen` is in the history, counted as ``kind`` (``play``,
        ``partial`` or ``skip``).
    ratingChanged(str path, int rating, int previous)
        A rating given to :meth:`rate` is in the catalogue (1 like, -1 dislike, 0 none), and the
        rating it replaced.
    """

    previewRequested = Signal(str, float, float)
    openRequested = Signal(str)
    errorOccurred = Signal(str)
    recommendationsChanged = Signal()
    listenRecorded = Signal(str, str, float)
    ratingChanged = Signal(str, int, int)

    def __init__(
        self, library: Library, parent=None, *, k: int = K, mode: str = "blend", tasks: TaskManager | None = None
    ):
        super().__init__(parent)
        self.library = library
        self.k = k
        self._mode = mode
        self._path: str | None = None
        self._ids = itertools.count(1)
        self._unavailable = False  # the window's song could not be analysed: no list at all
        self._latest = 0
        # The recommend lane's own catalogue connection, made and used in that lane's thread.
        self._connection: dict[str, Any] = {"db_path": library.path, "library": None, "closed": False}
        self.tasks = tasks or manager()
        # the library changed (a scan, a rating elsewhere): rank again soon, at most once per LIVE_DELAY_MS
        self._live = QTimer(self, singleShot=True, interval=LIVE_DELAY_MS)
        self._live.timeout.connect(self.refresh)

        self.title_label = QLabel(self)
        self.title_label.setWordWrap(True)
        f = self.title_label.font()
        f.setBold(True)
        self.title_label.setFont(f)
        self.chart = GenreChart(self)
        # The mode switch: a tab bar used as a segmented control (the current mode stands out in any theme).
        self.mode_tabs = QTabBar(self)
        self.mode_tabs.setExpanding(True)
        self.mode_tabs.setDocumentMode(True)
        self.mode_tabs.setDrawBase(False)
        self.mode_tabs.setUsesScrollButtons(False)  # every mode always in sight: the pane is never narrower
        tips = {
            "genre": "Songs of the same genres",
            "sound": "Songs whose sound (timbre, harmony, rhythm) is close",
            "personal": "Close to this song and to what you liked and played",
            "blend": "Sound, genre and your taste together",
        }
        for i, (mode_name, label) in enumerate(MODES):
            self.mode_tabs.addTab(label)
            self.mode_tabs.setTabToolTip(i, tips[mode_name])
        self.mode_tabs.setCurrentIndex([m for m, _ in MODES].index(mode))
        self.mode_tabs.currentChanged.connect(lambda i: self.set_mode(MODES[i][0]))

        self.model = RecommendationModel(self)
        self.view = QListView(self)
        self.view.setModel(self.model)
        self.view.setAccessibleName("Recommendations")
        self.view.setToolTip("Space: play its chorus · Enter or double-click: open it")
        self.delegate = RecommendationDelegate(self.view)
        self.view.setItemDelegate(self.delegate)
        self.view.setMouseTracking(True)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        # rows grow with their reasons, which wrap at the list's width: lay them out again on a resize
        self.view.setUniformItemSizes(False)
        self.view.setResizeMode(QListView.ResizeMode.Adjust)
        self.view.installEventFilter(self)
        self.delegate.buttonClicked.connect(self._on_button)
        self.delegate.rowActivated.connect(self._open)
        self.status_label = QLabel(self)
        self.status_label.setWordWrap(True)
        self.status_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.title_label)
        lay.addWidget(self.chart)
        lay.addWidget(self.mode_tabs)
        lay.addWidget(self.view, 1)
        lay.addWidget(self.status_label)
        self.set_current(None, None)

    # -- public API ------------------------------------------------------------------------------------------
    @property
    def mode(self) -> str:
        return self._mode

    def set_mode(self, mode: str) -> None:
        """Rank by ``genre``, ``sound`` (sounds like), ``personal`` (for you) or ``blend``."""
        if mode not in dict(MODES):
            raise ValueError(f"unknown recommendation mode {mode!r}")
        self.mode_tabs.setCurrentIndex([m for m, _ in MODES].index(mode))  # (re-enters here with the same mode)
        if mode != self._mode:
            self._mode = mode
            self.refresh()

    def set_current(self, path: str | None, analysis=None) -> None:
        """The song the window shows (None: no song); ``analysis`` gives its genre chart when given.

        With no song, "For you" and Blend rank for the listener alone (their likes, dislikes and
        plays); Genre and Sounds like ask for a song."""
        self._path = normalize_path(path) if path else None
        self._unavailable = False
        if self._path is None:
            self.chart.set_probabilities(None)
            self.chart.hide()  # no song, no genre to chart ("No genre estimate yet" would say otherwise)
            self._latest = next(self._ids)  # the last song's list is not this one's, even for a moment
            self.model.set_items([])
            self._show_without_song()
            return
        track = self.library.track_by_path(self._path)
        name = track.display_name if track is not None else os.path.basename(self._path)
        self.title_label.setText(f"Songs like “{name}”")
        self.title_label.show()
        probs = analysis.genre.probabilities if analysis is not None and analysis.genre.probabilities else None
        if probs is None and track is not None:
            probs = track.genre_probabilities
        self.chart.set_probabilities(probs)
        self.chart.show()
        self.refresh()

    def set_unavailable(self, path: str, reason: str) -> None:
        """The window's song could not be opened or analysed: no list (not the previous song's), and why."""
        self._path = None
        self._unavailable = True
        self.chart.set_probabilities(None)
        self.chart.hide()
        self._latest = next(self._ids)
        self.model.set_items([])
        self.title_label.setText(f"No recommendations for “{os.path.basename(path)}”")
        self.title_label.show()
        self.status_label.setText(f"It could not be analysed: {reason}")

    def refresh(self) -> None:
        """Rank again for the current song, or for the listener when none is open (e.g. after a scan
        added songs)."""
        if self._path is not None:
            self._submit()
        elif not self._unavailable:
            self._show_without_song()

    def _for_you(self) -> bool:
        return self._path is None and not self._unavailable and self._mode in FOR_YOU_MODES

    def _show_without_song(self) -> None:
        if self._for_you():
            self.title_label.setText(FOR_YOU_TITLE)
            self.title_label.show()
            self._submit()
            return
        self.title_label.setText("")  # (the pane's own title already says "Recommendations")
        self.title_label.hide()
        self._latest = next(self._ids)
        self.model.set_items([])
        self.status_label.setText(OPEN_A_SONG)

    def library_changed(self) -> None:
        """The catalogue changed (songs added, missing, analysed, rated): the list follows it
        without a click, ranked again in the worker (not at once: a scan changes it many times a second)."""
        if (self._path is not None or self._for_you()) and not self._live.isActive():
            self._live.start()

    def current_path(self) -> str | None:
        return self._path

    def items(self) -> list[Item]:
        """The rows shown, best first."""
        return list(self.model.items)

    def rows_with_cut_reasons(self) -> list[int]:
        """Rows of the list that cannot show all their reasons at its current width."""
        return self._cut_rows(self.delegate.reasons_cut)

    def rows_with_cut_titles(self) -> list[int]:
        """Rows of the list that cannot show their song's whole name at its current width."""
        return self._cut_rows(self.delegate.title_cut)

    def _cut_rows(self, is_cut) -> list[int]:
        option = QStyleOptionViewItem()
        option.initFrom(self.view)
        option.widget = self.view
        cut = []
        for row, it in enumerate(self.model.items):
            option.rect = self.view.visualRect(self.model.index(row))
            if is_cut(option, it):
                cut.append(row)
        return cut

    def rate(self, path: str, rating: int) -> None:
        """Like (1), dislike (-1) or forget the rating (0) of ``path``; the list re-ranks at once."""
        track = self.library.track_by_path(path)
        if track is None:
            self.errorOccurred.emit(f"{path}: not in the library, so it cannot be rated")
            return
        self.model.set_rating(track.id, rating)
        self._submit(rate=(track.id, rating))

    def record_listen(self, path: str, heard: float, duration: float) -> None:
        """Put a listen of ``path`` (``heard`` seconds of ``duration``) in the history, off the GUI
        thread, and rank again: "For you" learns from what was played."""
        self._submit(listen=(path, float(heard), float(duration)))

    def preview(self, row: int) -> None:
        """Ask to hear the chorus of row ``row``."""
        it = self.model.items[row]
        self.previewRequested.emit(it.path, float(it.region[0]), float(it.region[1]))

    # -- requests ------------------------------------------------------------------------------------------------
    def _submit(self, rate: tuple[int, int] | None = None, listen: tuple[str, float, float] | None = None) -> None:
        if self._connection["closed"] and rate is None and listen is None:
            return  # shut down: nothing is ranked any more (a rating or listen is still written)
        request = next(self._ids)
        self._latest = request
        for_you = self._for_you()
        if self._path is not None or for_you:
            self.status_label.setText("Ranking…")
        task = RankTask(
            request,
            connection=self._connection,
            latest=lambda: self._latest,
            seed=self._path,
            for_you=for_you,
            mode=self._mode,
            k=self.k,
            rate=rate,
            listen=listen,
        )
        task.signals.partial.connect(self._on_partial)
        task.signals.finished.connect(self._on_done)
        task.signals.failed.connect(self._on_failed)
        self.tasks.start(task, owner=self)

    def _on_partial(self, _request: int, kind: str, value) -> None:
        if kind == "rated":
            self.ratingChanged.emit(*value)
        elif kind == "listened":
            self.listenRecorded.emit(*value)

    def _on_done(self, request: int, result) -> None:
        if result is None:
            return
        seed, items, why = result
        if request != self._latest or seed != self._path:
            return  # a newer request is on its way
        if items != self.model.items:  # (a live re-rank often finds the same list: leave it, and the selection)
            current = self.view.currentIndex()
            path = self.model.items[current.row()].path if current.isValid() else None
            self.model.set_items(items)
            rows = [i for i, it in enumerate(items) if it.path == path]
            if rows:  # the row the user was on stays current where it went
                self.view.setCurrentIndex(self.model.index(rows[0]))
        if items:
            n = len(items)
            kind = "for you" if seed is None else dict(MODES)[self._mode]
            self.status_label.setText(f"{n} song{'' if n == 1 else 's'}, best first · {kind}")
        else:
            self.status_label.setText(EMPTY.get(why, EMPTY[rank.NO_OTHER_SONGS]))
        self.recommendationsChanged.emit()

    def _on_failed(self, request: int, message: str) -> None:
        if request == self._latest:
            self.status_label.setText(message)
        self.errorOccurred.emit(message)

    # -- interaction ---------------------------------------------------------------------------------------------
    def _on_button(self, index: QModelIndex, name: str) -> None:
        it: Item = index.data(RecommendationModel.ItemRole)
        if name == "play":
            self.preview(index.row())
        elif name == "like":
            self.rate(it.path, 0 if it.rating > 0 else 1)
        else:
            self.rate(it.path, 0 if it.rating < 0 else -1)

    def _open(self, index: QModelIndex) -> None:
        it: Item = index.data(RecommendationModel.ItemRole)
        if it is not None:
            self.openRequested.emit(it.path)

    def eventFilter(self, obj, event) -> bool:
        if obj is self.view and event.type() == QEvent.Type.KeyPress:
            idx = self.view.currentIndex()
            if idx.isValid() and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self._open(idx)
                return True
            if idx.isValid() and event.key() == Qt.Key.Key_Space:
                self.preview(idx.row())
                return True
        return super().eventFilter(obj, event)

    def shutdown(self, timeout: float = 10.0) -> None:
        """Finish the ratings still queued (skipping their rankings) and close the worker's connection.

        Call before the library is closed.  From then on the sidebar ranks nothing (a change of
        the library that arrives later, while the window closes, starts no work), and a rating or
        listen handed over late is written through a connection of its own that closes at once.
        """
        self._live.stop()
        self._latest = next(self._ids)
        self._connection["closed"] = True
        self.tasks.cancel(self)
        self.tasks.wait(self, timeout=timeout)
        lib = self._connection.get("library")
        if lib is not None:
            lib.close()
            self._connection["library"] = None
