"""The recommendation sidebar: songs of the library like the current one, why, and a ▶ to hear their chorus.

Rows are drawn by one delegate (no widget per row): title and artist, genre, a similarity bar, the
reasons, and three buttons — ▶ previews that song's chorus (or its most representative section),
👍 / 👎 rate it and re-rank the list at once.  Ranking (and rating, which writes to the catalogue)
runs on one background thread with its own catalogue connection; every result carries the id of the
request that asked for it, and results of requests that were overtaken are dropped.
"""

from __future__ import annotations

import itertools
import logging
import os
from dataclasses import dataclass, replace

from PySide6.QtCore import (QAbstractListModel, QEvent, QModelIndex, QRect, QRectF, QSize, Qt,
                            QTimer, Signal)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import (QAbstractItemView, QLabel, QListView, QSizePolicy, QStyle, QStyledItemDelegate,
                               QTabBar, QToolTip, QVBoxLayout, QWidget)

from explorer.errors import ExplorerError
from explorer.library.store import Library, Track, normalize_path
from explorer.recommend import recommend
from explorer.ui.common import theme
from explorer.ui.tasks import Task, TaskManager, manager

log = logging.getLogger(__name__)

#: (mode of :func:`explorer.recommend.recommend`, label of its button)
MODES = (("genre", "Genre"), ("sound", "Sounds like"), ("personal", "For you"), ("blend", "Blend"))
#: Recommendations shown.
K = 20
#: Longest preview when a song has no detected chorus and no analysis to pick a section from (seconds).
FALLBACK_PREVIEW = 20.0
#: Longest preview of a representative section, when a song has no chorus (seconds).
MAX_SECTION_PREVIEW = 30.0
#: Genres drawn in the chart of the current song.
CHART_GENRES = 6
#: After the library changed, the list is ranked again within this long (ms), at most once per this
#: long while a scan keeps changing it.
LIVE_DELAY_MS = 400


def _mmss(seconds: float) -> str:
    m, s = divmod(max(0.0, seconds), 60)
    return f"{int(m)}:{s:04.1f}"


def preview_region(library: Library, track: Track) -> tuple[float, float]:
    """What ▶ plays of ``track``: its detected chorus, else its most representative section.

    The most representative section is the longest section of the label that covers the most time
    among labels that repeat (any label when none repeats); at most its first
    :data:`MAX_SECTION_PREVIEW` seconds are played.  Without any analysis: up to
    :data:`FALLBACK_PREVIEW` seconds from a third of the way in.
    """
    if track.chorus is not None:
        return track.chorus
    analysis = library.analysis(track.id)
    if analysis is not None and analysis.choruses:
        best = max(analysis.choruses, key=lambda c: c.confidence)
        return best.start, best.end
    if analysis is not None and analysis.sections:
        by_label: dict[str, list] = {}
        for s in analysis.sections:
            by_label.setdefault(s.label, []).append(s)
        repeated = {k: v for k, v in by_label.items() if len(v) > 1} or by_label
        label = max(repeated, key=lambda k: sum(s.end - s.start for s in repeated[k]))
        best = max(repeated[label], key=lambda s: s.end - s.start)
        return best.start, min(best.end, best.start + MAX_SECTION_PREVIEW)
    duration = track.duration or (analysis.duration if analysis is not None else 0.0)
    if duration <= FALLBACK_PREVIEW:
        return 0.0, float(duration or FALLBACK_PREVIEW)
    start = duration / 3
    return start, min(duration, start + FALLBACK_PREVIEW)


@dataclass(frozen=True)
class Item:
    """One row of the sidebar."""

    path: str
    track_id: int
    title: str
    artist: str
    genre: str
    score: float
    reasons: tuple[str, ...]
    region: tuple[float, float]
    rating: int


# -- the background task ----------------------------------------------------------------------------------
class RankTask(Task):
    """Optionally rate a track or record a listen, then rank recommendations for ``seed``.

    Runs in the ``recommend`` lane (one thread, in order: a rating lands before the ranking after
    it).  Sends ``partial(rid, "rated", (path, rating, previous))`` and
    ``partial(rid, "listened", (path, kind, heard))``; finishes with ``(seed, [Item])``, or with
    None when there is nothing to rank for or a newer request overtook it (``latest()`` differs
    from its request id).  A cancel skips the ranking; a rating or listen is always written.
    """

    LANE = "recommend"
    CHECK_CANCEL = False

    def __init__(self, request: int, *, connection: dict, latest, seed: str | None, mode: str, k: int,
                 rate: tuple[int, int] | None = None, listen: tuple[str, float, float] | None = None):
        super().__init__(request)
        self.connection, self.latest = connection, latest
        self.seed, self.mode, self.k, self.rate, self.listen = seed, mode, k, rate, listen

    def _library(self) -> Library:
        lib = self.connection.get("library")
        if lib is None:  # the lane's own connection: the GUI thread's is never held up by a ranking
            lib = self.connection["library"] = Library(self.connection["db_path"])
        return lib

    def work(self):
        lib = self._library()
        if self.rate is not None:
            track_id, rating = self.rate
            before = lib.track(track_id)
            (lib.like if rating > 0 else lib.dislike if rating < 0 else lib.unlike)(track_id)
            if before is not None:
                self.send("rated", (before.path, rating, before.rating))
        if self.listen is not None:
            path, heard, duration = self.listen
            track = lib.track_by_path(path)
            if track is not None:  # a song opened from outside the library is not in its history
                kind = lib.record_play(track.id, heard, duration)
                self.send("listened", (path, kind, heard))
        if self.seed is None or self.request_id != self.latest() or self.is_cancelled():
            return None  # nothing to rank for, or overtaken by a newer request: do not rank for nothing
        try:
            recs = recommend(lib, self.seed, k=self.k, mode=self.mode)
        except ExplorerError:
            raise
        except Exception as e:  # a bug: say so in the window (not "Ranking…" forever), and let it be seen
            log.exception("ranking failed")
            raise ExplorerError(f"Recommendations failed because of an internal error "
                                f"({type(e).__name__}: {e}).") from e
        items = []
        for r in recs:
            t = r.track
            items.append(Item(t.path, t.id, t.title or os.path.splitext(os.path.basename(t.path))[0], t.artist,
                              t.genre_label or t.genre_tag or "", float(r.score), tuple(r.reasons),
                              preview_region(lib, t), t.rating))
        return self.seed, items


# -- the list ---------------------------------------------------------------------------------------------
class RecommendationModel(QAbstractListModel):
    ItemRole = Qt.UserRole + 1

    def __init__(self, parent=None):
        super().__init__(parent)
        self.items: list[Item] = []

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.items)

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        it = self.items[index.row()]
        if role == self.ItemRole:
            return it
        if role == Qt.DisplayRole:
            return f"{it.title} — {it.artist}" if it.artist else it.title
        if role == Qt.ToolTipRole:
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


class RecommendationDelegate(QStyledItemDelegate):
    """Paints a row and turns clicks on its ▶ / 👍 / 👎 into signals."""

    buttonClicked = Signal(QModelIndex, str)  # index, "play" | "like" | "dislike"
    rowActivated = Signal(QModelIndex)  # double-click outside the buttons

    BUTTONS = ("play", "like", "dislike")

    def __init__(self, parent=None):
        super().__init__(parent)
        self._hover: tuple[int, str] | None = None

    # Geometry, all from the font: readable and clickable at any scaling.
    @staticmethod
    def _metrics(option) -> tuple[QFontMetrics, int, int]:
        fm = option.fontMetrics
        line = fm.height()
        pad = max(2, fm.averageCharWidth() // 2 + 1)
        return fm, line, pad

    @staticmethod
    def _bar_height(fm: QFontMetrics) -> int:
        return max(3, fm.height() // 5)

    def sizeHint(self, option, index) -> QSize:
        fm, line, pad = self._metrics(option)
        return QSize(fm.averageCharWidth() * 30, 3 * line + self._bar_height(fm) + 3 * pad)

    def button_rects(self, rect: QRect, fm: QFontMetrics) -> dict[str, QRect]:
        """Where the buttons of a row occupying ``rect`` are."""
        line = fm.height()
        pad = max(2, fm.averageCharWidth() // 2 + 1)
        b = int(line * 1.6)
        top = rect.top() + (rect.height() - b) // 2
        play = QRect(rect.left() + pad, top, b, b)
        dislike = QRect(rect.right() - pad - b, top, b, b)
        like = QRect(dislike.left() - pad // 2 - b, top, b, b)
        return {"play": play, "like": like, "dislike": dislike}

    def paint(self, painter: QPainter, option, index) -> None:
        it: Item = index.data(RecommendationModel.ItemRole)
        self.initStyleOption(option, index)
        style = option.widget.style() if option.widget else None
        option.text = ""
        if style is not None:
            style.drawControl(QStyle.CE_ItemViewItem, option, painter, option.widget)
        fm, line, pad = self._metrics(option)
        c = theme.colors()
        pal = option.palette
        selected = bool(option.state & QStyle.State_Selected)
        text = pal.color(QPalette.HighlightedText if selected else QPalette.Text)
        dim = QColor(text)
        dim.setAlpha(170)
        rects = self.button_rects(option.rect, fm)
        painter.save()
        painter.setRenderHint(QPainter.Antialiasing)
        # buttons
        for name, r in rects.items():
            hovered = self._hover == (index.row(), name)
            active = (name == "like" and it.rating > 0) or (name == "dislike" and it.rating < 0)
            if hovered or active:
                bg = QColor(c["good"] if name == "like" and active else c["bad"] if name == "dislike" and active
                            else pal.color(QPalette.Mid))
                bg.setAlpha(120 if active else 80)
                painter.setPen(Qt.NoPen)
                painter.setBrush(bg)
                painter.drawRoundedRect(QRectF(r), r.height() / 4, r.height() / 4)
            inner = r.adjusted(r.width() // 6, r.height() // 6, -r.width() // 6, -r.height() // 6)
            theme.icon(name).paint(painter, inner)
        # Title and similarity on the first line, artist · genre on the second, reasons on the third, and a
        # thin similarity bar under them all (full width: it stays readable in a narrow dock).
        left = rects["play"].right() + 2 * pad
        right = rects["like"].left() - 2 * pad
        width = max(0, right - left)
        y = option.rect.top() + pad
        score = max(0.0, min(1.0, it.score))
        pct = f"{score:.0%}"
        pct_w = fm.horizontalAdvance("100%") + pad
        f = option.font
        bold = QFont(f)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(text)
        title_w = max(0, width - pct_w)
        painter.drawText(QRect(left, y, title_w, line), Qt.AlignLeft | Qt.AlignVCenter,
                         QFontMetrics(bold).elidedText(it.title, Qt.ElideRight, title_w))
        painter.setFont(f)
        painter.setPen(dim)
        painter.drawText(QRect(right - pct_w, y, pct_w, line), Qt.AlignRight | Qt.AlignVCenter, pct)
        for text_line in (" · ".join(x for x in (it.artist, it.genre) if x), " · ".join(it.reasons)):
            y += line
            painter.drawText(QRect(left, y, width, line), Qt.AlignLeft | Qt.AlignVCenter,
                             fm.elidedText(text_line, Qt.ElideRight, width))
        y += line + pad // 2
        bh = self._bar_height(fm)
        track = QColor(pal.color(QPalette.Mid))
        track.setAlpha(110)
        painter.setPen(Qt.NoPen)
        painter.setBrush(track)
        painter.drawRoundedRect(QRectF(left, y, width, bh), bh / 2, bh / 2)
        painter.setBrush(QColor(c["bar"]))
        painter.drawRoundedRect(QRectF(left, y, max(bh, width * score), bh), bh / 2, bh / 2)
        painter.restore()

    def helpEvent(self, event, view, option, index) -> bool:
        name = self.hit(option.rect, option.fontMetrics, event.pos())
        it: Item = index.data(RecommendationModel.ItemRole)
        if name is None or it is None:
            return super().helpEvent(event, view, option, index)
        start, end = it.region
        tip = {"play": f"Play its chorus ({_mmss(start)}–{_mmss(end)})",
               "like": "Forget that you like it" if it.rating > 0 else "Like it: more songs like this one",
               "dislike": "Forget that you dislike it" if it.rating < 0 else "Dislike it: fewer songs like this one",
               }[name]
        QToolTip.showText(event.globalPos(), tip, view)
        return True

    def hit(self, option_rect: QRect, fm: QFontMetrics, pos) -> str | None:
        for name, r in self.button_rects(option_rect, fm).items():
            if r.contains(pos):
                return name
        return None

    def editorEvent(self, event, model, option, index) -> bool:
        t = event.type()
        if t not in (QEvent.MouseButtonPress, QEvent.MouseButtonRelease, QEvent.MouseButtonDblClick,
                     QEvent.MouseMove):
            return False
        name = self.hit(option.rect, option.fontMetrics, event.position().toPoint())
        if t == QEvent.MouseMove:
            hover = (index.row(), name) if name else None
            if hover != self._hover:
                self._hover = hover
                if option.widget is not None:
                    option.widget.update()
            return False
        if event.button() != Qt.LeftButton:
            return False
        if name is None:
            if t == QEvent.MouseButtonDblClick:
                self.rowActivated.emit(QModelIndex(index))
                return True
            return False
        if t == QEvent.MouseButtonRelease:
            self.buttonClicked.emit(QModelIndex(index), name)
        return True  # presses and double-clicks on a button are the button's


# -- the genre chart -------------------------------------------------------------------------------------------
class GenreChart(QWidget):
    """Horizontal bars of the current song's most probable genres (painted; sized by the font)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.probabilities: list[tuple[str, float]] = []
        self.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Fixed)

    def set_probabilities(self, probabilities: dict[str, float] | None) -> None:
        items = sorted(((str(k), float(v)) for k, v in (probabilities or {}).items()), key=lambda kv: -kv[1])
        self.probabilities = items[:CHART_GENRES]
        self.setToolTip("\n".join(f"{k}: {v:.1%}" for k, v in items))
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:
        fm = self.fontMetrics()
        rows = max(1, len(self.probabilities))
        return QSize(fm.averageCharWidth() * 30, rows * int(fm.height() * 1.25) + fm.height() // 2)

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        fm = self.fontMetrics()
        pal = self.palette()
        c = theme.colors()
        if not self.probabilities:
            p.setPen(pal.color(QPalette.PlaceholderText))
            p.drawText(self.rect(), Qt.AlignLeft | Qt.AlignVCenter, "No genre estimate yet")
            return
        row_h = int(fm.height() * 1.25)
        label_w = min(max(fm.horizontalAdvance(k) for k, _ in self.probabilities) + fm.averageCharWidth(),
                      self.width() // 3)
        pct_w = fm.horizontalAdvance("100%") + fm.averageCharWidth()
        bar_w = max(1, self.width() - label_w - pct_w - fm.averageCharWidth())
        top = max(p for _, p in self.probabilities) or 1.0
        for i, (label, prob) in enumerate(self.probabilities):
            y = fm.height() // 4 + i * row_h
            p.setPen(pal.color(QPalette.WindowText))
            p.drawText(QRect(0, y, label_w, row_h), Qt.AlignLeft | Qt.AlignVCenter,
                       fm.elidedText(label, Qt.ElideRight, label_w))
            bh = max(4, int(fm.height() * 0.55))
            r = QRectF(label_w, y + (row_h - bh) / 2, max(bh, bar_w * prob / top), bh)
            color = QColor(c["bar"])
            if i:
                color.setAlpha(170)
            p.setPen(Qt.NoPen)
            p.setBrush(color)
            p.drawRoundedRect(r, bh / 3, bh / 3)
            p.setPen(pal.color(QPalette.WindowText))
            p.drawText(QRect(label_w + bar_w + fm.averageCharWidth(), y, pct_w, row_h),
                       Qt.AlignLeft | Qt.AlignVCenter, f"{prob:.0%}")
        p.end()


# -- the sidebar ---------------------------------------------------------------------------------------------
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

    def __init__(self, library: Library, parent=None, *, k: int = K, mode: str = "blend",
                 tasks: TaskManager | None = None):
        super().__init__(parent)
        self.library = library
        self.k = k
        self._mode = mode
        self._path: str | None = None
        self._ids = itertools.count(1)
        self._latest = 0
        # The recommend lane's own catalogue connection, made and used in that lane's thread.
        self._connection = {"db_path": library.path, "library": None}
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
        tips = {"genre": "Songs of the same genres", "sound": "Songs whose sound (timbre, harmony, rhythm) is close",
                "personal": "Close to this song and to what you liked and played",
                "blend": "Sound, genre and your taste together"}
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
        self.view.setSelectionMode(QAbstractItemView.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollPerPixel)
        self.view.setUniformItemSizes(True)
        self.view.installEventFilter(self)
        self.delegate.buttonClicked.connect(self._on_button)
        self.delegate.rowActivated.connect(self._open)
        self.status_label = QLabel(self)
        self.status_label.setWordWrap(True)
        self.status_label.setForegroundRole(QPalette.PlaceholderText)

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
        """The song the window shows (None: no song); ``analysis`` gives its genre chart when given."""
        self._path = normalize_path(path) if path else None
        if self._path is None:
            self.title_label.setText("")  # (the pane's own title already says "Recommendations")
            self.title_label.hide()
            self.chart.set_probabilities(None)
            self._latest = next(self._ids)
            self.model.set_items([])
            self.status_label.setText("Open a song to see similar songs from your library.")
            return
        track = self.library.track_by_path(self._path)
        name = track.display_name if track is not None else os.path.basename(self._path)
        self.title_label.setText(f"Songs like “{name}”")
        self.title_label.show()
        probs = analysis.genre.probabilities if analysis is not None and analysis.genre.probabilities else None
        if probs is None and track is not None:
            probs = track.genre_probabilities
        self.chart.set_probabilities(probs)
        self.refresh()

    def set_unavailable(self, path: str, reason: str) -> None:
        """The window's song could not be opened or analysed: no list (not the previous song's), and why."""
        self.set_current(None, None)
        self.title_label.setText(f"No recommendations for “{os.path.basename(path)}”")
        self.title_label.show()
        self.status_label.setText(f"It could not be analysed: {reason}")

    def refresh(self) -> None:
        """Rank again for the current song (e.g. after a scan added songs)."""
        if self._path is not None:
            self._submit()

    def library_changed(self) -> None:
        """The catalogue changed (songs added, missing, analysed, rated): the list follows it
        without a click, ranked again in the worker (not at once: a scan changes it many times a second)."""
        if self._path is not None and not self._live.isActive():
            self._live.start()

    def current_path(self) -> str | None:
        return self._path

    def items(self) -> list[Item]:
        """The rows shown, best first."""
        return list(self.model.items)

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
        request = next(self._ids)
        self._latest = request
        if self._path is not None:
            self.status_label.setText("Ranking…")
        task = RankTask(request, connection=self._connection, latest=lambda: self._latest, seed=self._path,
                        mode=self._mode, k=self.k, rate=rate, listen=listen)
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
        seed, items = result
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
            self.status_label.setText(f"{n} song{'' if n == 1 else 's'}, best first · {dict(MODES)[self._mode]}")
        else:
            self.status_label.setText("No recommendations yet: add a folder of songs to the library.")
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
        if obj is self.view and event.type() == QEvent.KeyPress:
            idx = self.view.currentIndex()
            if idx.isValid() and event.key() in (Qt.Key_Return, Qt.Key_Enter):
                self._open(idx)
                return True
            if idx.isValid() and event.key() == Qt.Key_Space:
                self.preview(idx.row())
                return True
        return super().eventFilter(obj, event)

    def shutdown(self, timeout: float = 10.0) -> None:
        """Finish the ratings still queued (skipping their rankings) and close the worker's connection.

        Call before the library is closed.
        """
        self._latest = next(self._ids)
        self.tasks.cancel(self)
        self.tasks.wait(self, timeout=timeout)
        lib = self._connection.get("library")
        if lib is not None:
            lib.close()
            self._connection["library"] = None
