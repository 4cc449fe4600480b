"""The library pane: every song of the catalogue in a sortable, filterable table, and "Add folder…".

Built to stay smooth at 10,000 songs and more: one :class:`~explorer.ui.library.model.LibraryModel`
(no widget per row); the catalogue is read in pages of :data:`PAGE` rows and changed songs in
batches, from a zero-delay timer that stops after :data:`SLICE_SECONDS` of work and yields to the
event loop, so the GUI thread is never held for long even while a scan writes to the database.
A scan is a :class:`~explorer.ui.library.scan.ScanTask` with its own catalogue connection (WAL lets the window
read while it writes); its progress carries the paths finished meanwhile.
"""

from __future__ import annotations

import logging
import os
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from explorer.errors import ExplorerError
from explorer.library.genre_model import genre_namer
from explorer.library.store import Library, normalize_path
from explorer.ui.common import theme
from explorer.ui.common.widgets import ElidedLabel
from explorer.ui.library.column_menu import build_column_menu
from explorer.ui.library.model import (
    COL_ALBUM,
    COL_ARTIST,
    COL_DURATION,
    COL_PREDICTED,
    COL_RATING,
    COL_STATE,
    COL_TAG,
    COL_TEMPO,
    COL_TITLE,
    COLUMNS,
    GenreNamer,
    LibraryModel,
)
from explorer.ui.library.rating_delegate import RatingDelegate
from explorer.ui.library.row_menu import build_row_menu
from explorer.ui.library.scan import ScanTask
from explorer.ui.library.state_delegate import StateDelegate
from explorer.ui.library.table import LibraryTable
from explorer.ui.tasks import TaskManager, manager

log = logging.getLogger(__name__)

#: Rows read from the catalogue per query when (re)loading it.
PAGE = 200
#: Longest stretch of loading work done on the GUI thread before yielding to the event loop.
SLICE_SECONDS = 0.012
#: Typing in the filter applies after this pause (ms), so a fast typist does not refilter per key.
FILTER_DELAY_MS = 120

#: Widths of the columns in average character widths of the current font.
_WIDTH_CHARS = (20, 14, 14, 6, 5, 10, 10, 12, 4)
#: The Title column grows with the pane up to this many average character widths (see ``_fit_title``).
TITLE_MAX_CHARS = 60
#: The columns' order on screen (a narrow pane shows the first ones; the user can drag them).
VISUAL_ORDER = (
    COL_TITLE,
    COL_ARTIST,
    COL_RATING,
    COL_STATE,
    COL_DURATION,
    COL_TEMPO,
    COL_ALBUM,
    COL_TAG,
    COL_PREDICTED,
)


class LibraryPane(QWidget):
    """The library: a table of every song, type-to-filter, and "Add folder…" with a cancellable scan.

    Signals
    -------
    songOpenRequested(str path)
        A row was double-clicked or Enter was pressed on it.
    errorOccurred(str message)
        A readable sentence: a file the scan could not analyse, or a scan that could not run.
    scanFinished(object report)
        A scan ended (:class:`~explorer.services.scan.ScanReport`; ``cancelled`` when it was).
    libraryChanged()
        Songs were added to or removed from the catalogue, or one's state, tags or rating changed
        (as the pane reads them: while a scan runs, several times a second at most).
    rateRequested(str path, int rating)
        Like (1), dislike (-1) or forget the rating (0) of a song, from its context menu; the
        window has it written off the GUI thread (and the pane re-reads the row then).
    addFolderRequested()
        "Add folder…" was clicked: the window asks for the folder (its dialog remembers where it
        was) when it listens; without a listener the pane asks itself.
    """

    songOpenRequested = Signal(str)
    errorOccurred = Signal(str)
    scanFinished = Signal(object)
    libraryChanged = Signal()
    rateRequested = Signal(str, int)
    addFolderRequested = Signal()

    def __init__(
        self,
        library: Library,
        parent=None,
        *,
        scan_workers: int | None = None,
        cache_folder: str | None = None,
        tasks: TaskManager | None = None,
    ):
        super().__init__(parent)
        # the Title column takes the width the pane has to spare, until the user sizes it or moves a column
        self._title_fits = True
        self._fitting = False
        self.library = library
        self.tasks = tasks or manager()
        #: Analysis processes for scans (None: one per core; 0: in the scan thread itself).
        self.scan_workers = scan_workers
        self.cache_folder = cache_folder
        self.model = LibraryModel(self)
        self.model.tracksChanged.connect(self.libraryChanged)

        self.filter_edit = QLineEdit(self)
        self.filter_edit.setPlaceholderText("Filter: title, artist, album, genre, is:liked…")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setAccessibleName("Filter the library")
        self._search_action = self.filter_edit.addAction(theme.icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self._filter_timer = QTimer(self, singleShot=True, interval=FILTER_DELAY_MS)
        self._filter_timer.timeout.connect(self._apply_filter)
        self.filter_edit.textChanged.connect(self._filter_timer.start)
        self.filter_edit.returnPressed.connect(self._apply_filter)
        self.add_button = QPushButton(theme.icon("folder-add"), "Add folder…", self)
        self.add_button.setToolTip("Scan a folder for songs and analyse them in the background")
        self.add_button.clicked.connect(self._add_folder)

        self.view = LibraryTable(self)
        self.view.setModel(self.model)
        self.view.setAccessibleName("Library")
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.view.setShowGrid(False)
        self.view.setWordWrap(False)
        self.view.setSortingEnabled(True)
        self.view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.view.horizontalHeader().setSectionsMovable(True)
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.view.setItemDelegateForColumn(COL_STATE, StateDelegate(self.view))
        self.view.setItemDelegateForColumn(COL_RATING, RatingDelegate(self.view))
        # what a narrow pane shows first: the song, its artist, its rating and its analysis state
        for visual, col in enumerate(VISUAL_ORDER):
            header = self.view.horizontalHeader()
            header.moveSection(header.visualIndex(col), visual)
        self.view.doubleClicked.connect(self._open_index)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._context_menu)
        # right-click a column's name to choose which columns show (saved with the layout)
        header = self.view.horizontalHeader()
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(
            lambda pos: self.build_column_menu().popup(header.viewport().mapToGlobal(pos))
        )
        self.view.installEventFilter(self)
        header.sectionResized.connect(self._section_resized)
        header.sectionMoved.connect(self._stop_fitting_title)
        self.view.viewport().installEventFilter(self)
        self._size_columns()

        self.progress_bar = QProgressBar(self)
        self.progress_bar.setTextVisible(True)
        self.cancel_button = QPushButton(theme.icon("cancel"), "Cancel", self)
        self.cancel_button.setToolTip("Stop the scan (songs analysed so far are kept)")
        self.cancel_button.clicked.connect(self.cancel_scan)
        self.status_label = ElidedLabel(self)
        # a long "Scanning /a/long/path" must not widen the pane: that would resize (and repaint) the
        # whole song view beside it in the middle of a scan
        self.status_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.count_label = QLabel(self)

        top = QHBoxLayout()
        top.addWidget(self.filter_edit, 1)
        top.addWidget(self.add_button)
        scan_row = QHBoxLayout()
        scan_row.addWidget(self.progress_bar, 1)
        scan_row.addWidget(self.cancel_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(top)
        lay.addWidget(self.view, 1)
        lay.addLayout(scan_row)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status_label, 1)
        bottom.addWidget(self.count_label)
        lay.addLayout(bottom)
        self._set_scanning(False)

        self._scan: ScanTask | None = None
        self._reported: set[str] = set()  # failure messages already emitted during this scan
        self._todo: deque = deque()  # pending loading work: ("page", offset, generation) | ("paths", [..])
        self._load_gen = 0
        self._namer: GenreNamer | None = None  # how the genre column names genres; set by refresh()
        self._seen: set[str] = set()
        self._closed = False  # set by shutdown(): the library is about to be closed
        self._pump = QTimer(self, singleShot=True, interval=0)
        self._pump.timeout.connect(self._work)
        self.refresh()

    # -- public API ------------------------------------------------------------------------------------
    def focus_filter(self) -> None:
        """Put the keyboard in the filter box (Ctrl+F), its text selected."""
        self.filter_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filter_edit.selectAll()

    def shutdown(self) -> None:
        """Stop reading the catalogue: the rows still to load are dropped and later requests ignored.

        Call after :meth:`cancel_scan` and before the library is closed.
        """
        self._closed = True
        self._pump.stop()
        self._filter_timer.stop()
        self._todo.clear()

    def refresh(self) -> None:
        """Re-read the whole catalogue (in pages, without blocking): new rows appear, gone ones leave."""
        if self._closed:
            return
        self._load_gen += 1
        self._seen = set()
        # the genre model may have changed (a refresh follows training and "use"): read it once here
        self._namer = genre_namer(self.library)
        self._todo = deque(item for item in self._todo if item[0] != "page")
        self._todo.append(("page", 0, self._load_gen))
        self._pump.start()

    def reload_paths(self, paths) -> None:
        """Read these tracks again (without blocking), e.g. after something else rated them."""
        self._todo.append(("paths", [normalize_path(p) for p in paths]))
        self._pump.start()

    def select_path(self, path: str) -> bool:
        """Select and show the row of ``path`` (clearing a filter that hides it); False if it is not listed."""
        path = normalize_path(path)
        if not self.model.has(path):
            return False
        row = self.model.row_of(path)
        if row is None:  # filtered out: show everything again
            self.filter_edit.clear()
            self._apply_filter()
            row = self.model.row_of(path)
        if row is None:
            return False
        idx = self.model.index(row, 0)
        self.view.setCurrentIndex(idx)
        self.view.scrollTo(idx, QAbstractItemView.ScrollHint.PositionAtCenter)
        return True

    def selected_path(self) -> str | None:
        idx = self.view.currentIndex()
        return idx.data(LibraryModel.PathRole) if idx.isValid() else None

    def set_progress(self, path: str, fraction: float | None) -> None:
        """Show the analysis progress (0–1) of ``path`` on its row (e.g. the song the window analyses)."""
        self.model.set_progress(normalize_path(path), fraction)

    def is_scanning(self) -> bool:
        return self._scan is not None

    def _add_folder(self) -> None:
        if self.isSignalConnected(self.metaObject().method(self.metaObject().indexOfSignal("addFolderRequested()"))):
            self.addFolderRequested.emit()
        else:
            self.choose_folder()

    def folders(self) -> list[str]:
        """The folders the library's songs are in (none inside another), for a rescan."""
        roots: list[str] = []
        for folder in sorted({os.path.dirname(p) for p in self.model.paths()}):
            if not roots or not (folder == roots[-1] or folder.startswith(roots[-1].rstrip(os.sep) + os.sep)):
                roots.append(folder)
        return roots

    def rescan(self) -> bool:
        """Scan the library's folders again: new songs come in, gone ones are marked missing, changed
        ones are analysed again."""
        folders = self.folders()
        if not folders:
            self.errorOccurred.emit("Nothing to rescan yet: add a folder of songs first.")
            return False
        return self.start_scan(folders)

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder of songs", os.path.expanduser("~"))
        if folder:
            self.start_scan([folder])

    def start_scan(self, folders) -> bool:
        """Scan ``folders`` in the background; False (and nothing done) when a scan is already running."""
        if self._scan is not None:
            self.errorOccurred.emit("A scan is already running: wait for it or cancel it first.")
            return False
        folders = [os.fspath(f) for f in folders]
        self._reported = set()
        task = ScanTask(
            folders, os.fspath(self.library.path), workers=self.scan_workers, cache_folder=self.cache_folder
        )
        task.signals.partial.connect(self._on_scan_progress)
        task.signals.finished.connect(self._on_scan_finished)
        task.signals.failed.connect(self._on_scan_failed)
        task.signals.ended.connect(self._on_scan_ended)
        self._scan = task
        self.progress_bar.setRange(0, 0)  # busy until the number of files is known
        self.progress_bar.setFormat("Looking for songs…")
        self.status_label.setText(f"Scanning {', '.join(folders)}")
        self._set_scanning(True)
        self.tasks.start(task, owner=self)
        return True

    def cancel_scan(self, *, wait: bool = False) -> None:
        """Stop the running scan (what it finished is kept); ``wait`` blocks until it has ended.

        The scan ends its worker processes instead of waiting for the songs they analyse, so it
        ends within a fraction of a second and the wait needs no time limit."""
        if self._scan is None:
            return
        self._scan.cancel()
        self.cancel_button.setEnabled(False)
        self.progress_bar.setFormat("Cancelling…")
        if wait:
            self._scan.wait()

    # -- scan events ------------------------------------------------------------------------------------
    def _on_scan_progress(self, _rid: int, _kind: str, value) -> None:
        done, total, paths = value
        if total == 0 and not paths:
            self.progress_bar.setRange(0, 0)
            self.progress_bar.setFormat("Checking songs…")
        else:
            self.progress_bar.setRange(0, max(1, total))
            self.progress_bar.setValue(done)
            cancelling = self._scan is not None and self._scan.is_cancelled()
            self.progress_bar.setFormat("Cancelling…" if cancelling else "Analysed %v of %m songs (%p %)")
        if not paths:
            self.refresh()  # the scan has put the files it found into the catalogue
        else:
            self._todo.append(("paths", list(paths)))
            self._pump.start()

    def _on_scan_finished(self, _rid: int, report) -> None:
        for path, reason in report.failures:
            message = reason if path in reason else f"{path}: {reason}"
            if message not in self._reported:
                self._reported.add(message)
                self.errorOccurred.emit(message)
        parts = [f"{report.analysed} analysed"]
        if report.failed:
            parts.append(f"{report.failed} failed")
        if report.missing:
            parts.append(f"{report.missing} missing")
        parts += [f"{n} {word}" for n, word in ((report.returned, "back"), (report.retried, "retried")) if n]
        verb = "Scan cancelled" if report.cancelled else "Scan finished"
        self.status_label.setText(f"{verb}: {report.found} found, {', '.join(parts)} ({report.elapsed:.0f} s)")
        self.refresh()
        self.scanFinished.emit(report)

    def _on_scan_failed(self, _rid: int, message: str) -> None:
        self.status_label.setText(message)
        self.errorOccurred.emit(message)
        self.refresh()

    def _on_scan_ended(self) -> None:
        self._scan = None
        self._set_scanning(False)

    def _set_scanning(self, on: bool) -> None:
        self.model.scanning = on
        if self.model.rowCount():
            self.model.dataChanged.emit(
                self.model.index(0, COL_STATE), self.model.index(self.model.rowCount() - 1, COL_STATE)
            )
        self.progress_bar.setVisible(on)
        self.cancel_button.setVisible(on)
        self.cancel_button.setEnabled(on)
        self.add_button.setEnabled(not on)

    # -- loading rows without blocking --------------------------------------------------------------------
    def _work(self) -> None:
        if self._closed:
            self._todo.clear()
            return
        deadline = time.perf_counter() + SLICE_SECONDS
        while self._todo and time.perf_counter() < deadline:
            item = self._todo.popleft()
            try:
                if item[0] == "page":
                    self._load_page(item[1], item[2])
                else:
                    self._load_paths(item[1], deadline)
            except ExplorerError as e:
                self.errorOccurred.emit(e.message)
        if self._todo:
            self._pump.start()

    def _load_page(self, offset: int, gen: int) -> None:
        if gen != self._load_gen:
            return
        tracks = self.library.tracks(limit=PAGE, offset=offset)
        self.model.update_tracks(tracks, self._namer)
        self._seen.update(t.path for t in tracks)
        if len(tracks) == PAGE:
            self._todo.appendleft(("page", offset + PAGE, gen))
            return
        # The whole catalogue was read.  Rows not seen are gone — or were shifted past a page boundary by
        # a track added meanwhile: each is looked up again before it leaves.
        unseen = [p for p in self.model.paths() if p not in self._seen]
        if unseen:
            self._todo.appendleft(("paths", unseen))
        self.update_count()

    def _load_paths(self, paths: list, deadline: float) -> None:
        while paths:
            if time.perf_counter() >= deadline:
                self._todo.appendleft(("paths", paths))
                return
            path = paths.pop()
            t = self.library.track_by_path(path)
            if t is None:
                self.model.remove_paths([path])
                continue
            self.model.update_tracks([t], self._namer)
            if t.state == "failed" and t.error and t.error not in self._reported:
                self._reported.add(t.error)
                self.errorOccurred.emit(t.error)
        self.update_count()

    def update_count(self) -> None:
        total, shown = self.model.total(), self.model.rowCount()
        noun = "song" if total == 1 else "songs"
        self.count_label.setText(f"{total} {noun}" if shown == total else f"{shown} of {total} {noun}")

    # -- view behaviour --------------------------------------------------------------------------------------
    def _apply_filter(self) -> None:
        self._filter_timer.stop()
        current = self.selected_path()
        self.model.set_filter(self.filter_edit.text())
        row = self.model.row_of(current) if current is not None else None
        if row is not None:
            self.view.setCurrentIndex(self.model.index(row, 0))
        self.update_count()

    def _open_index(self, index) -> None:
        path = index.data(LibraryModel.PathRole) if index.isValid() else None
        if path:
            self.songOpenRequested.emit(path)

    def _context_menu(self, pos) -> None:
        index = self.view.indexAt(pos)
        path = index.data(LibraryModel.PathRole) if index.isValid() else None
        if path:
            self.build_context_menu(path).popup(self.view.viewport().mapToGlobal(pos))

    def build_column_menu(self) -> QMenu:
        """The table header's menu of columns to show (:func:`~explorer.ui.library.column_menu.build_column_menu`)."""
        return build_column_menu(self.view.horizontalHeader(), COLUMNS, keep=COL_TITLE, parent=self)

    def build_context_menu(self, path: str) -> QMenu:
        """The context menu of the row of ``path`` (see :func:`~explorer.ui.library.row_menu.build_row_menu`)."""
        return build_row_menu(self, path)

    def eventFilter(self, obj, event) -> bool:
        if obj is self.view.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_title()
            return False
        if (
            obj is self.view
            and event.type() == QEvent.Type.KeyPress
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ):
            self._open_index(self.view.currentIndex())
            return True
        if obj is self.view and event.type() == QEvent.Type.KeyPress and event.matches(QKeySequence.StandardKey.Find):
            self.focus_filter()
            return True
        return super().eventFilter(obj, event)

    def changeEvent(self, event) -> None:
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._size_columns()
        if event.type() == QEvent.Type.PaletteChange:  # a new theme: icons are drawn in its text colour
            self._search_action.setIcon(theme.icon("search"))
            self.add_button.setIcon(theme.icon("folder-add"))
            self.cancel_button.setIcon(theme.icon("cancel"))
        super().changeEvent(event)

    def header_state(self) -> bytes:
        """Column order, widths and sort of the table, to save between sessions."""
        return bytes(self.view.horizontalHeader().saveState().data())

    def restore_header_state(self, state: bytes) -> bool:
        """Bring back what :meth:`header_state` saved; False (and nothing changed) if it is unusable."""
        header = self.view.horizontalHeader()
        with self._sizing():  # the saved widths are the user's: the Title column keeps its own
            if not state or not header.restoreState(state):
                return False
        self._title_fits = False
        self.model.sort(header.sortIndicatorSection(), header.sortIndicatorOrder())
        return True

    def _size_columns(self) -> None:
        fm = self.view.fontMetrics()
        pad = 3 * fm.averageCharWidth()  # room for the margins and the sort arrow
        with self._sizing():
            for col, chars in enumerate(_WIDTH_CHARS):
                width = max(chars * fm.averageCharWidth(), fm.horizontalAdvance(COLUMNS[col]) + pad)
                if col != COL_TITLE or self._title_fits:
                    self.view.setColumnWidth(col, width)
        self.view.verticalHeader().setDefaultSectionSize(int(fm.height() * 1.6))
        self._fit_title()

    def _fit_title(self) -> None:
        """Give the Title column what the pane has beyond the columns up to the analysis state (so that
        a wider pane shows more of every name and the state stays in view), at least its usual width
        and at most :data:`TITLE_MAX_CHARS`; once the user has sized or moved a column it stays theirs."""
        header = self.view.horizontalHeader()
        if not self._title_fits or header.visualIndex(COL_TITLE) != 0:
            return
        shown = [header.logicalIndex(v) for v in range(1, header.visualIndex(COL_STATE) + 1)]
        others = sum(header.sectionSize(col) for col in shown if not header.isSectionHidden(col))
        char = self.view.fontMetrics().averageCharWidth()
        width = min(max(_WIDTH_CHARS[COL_TITLE] * char, self.view.viewport().width() - others), TITLE_MAX_CHARS * char)
        if width != header.sectionSize(COL_TITLE):
            with self._sizing():
                header.resizeSection(COL_TITLE, width)

    @contextmanager
    def _sizing(self) -> Iterator[None]:
        """Columns sized by the pane, not the user: :meth:`_section_resized` lets them be."""
        self._fitting = True
        try:
            yield
        finally:
            self._fitting = False

    def _section_resized(self, col: int, _old: int, _new: int) -> None:
        if self._fitting:
            return
        if col == COL_TITLE:  # the user's width
            self._stop_fitting_title()
        else:  # another column shown, hidden or sized: the title takes what is left
            self._fit_title()

    def _stop_fitting_title(self, *_args) -> None:
        self._title_fits = False
