"""The main window: library on the left, the song in the middle, recommendations on the right.

The window composes the pieces and owns the song being explored.  Opening a song starts a
:class:`~explorer.ui.workers.SongJob` tagged with a new request id; its signals are dropped
unless they carry the id of the latest request, so a slow old song can never overwrite a newer
one.  The audio arrives first (the waveform is drawn and can be played at once), the analysis
after it (or before it, straight from the cache).
"""

from __future__ import annotations

import gc
import logging
import os
from collections import OrderedDict, deque
from pathlib import Path

from PySide6.QtCore import QStandardPaths, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QSizePolicy,
    QSplitter,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from explorer import __version__
from explorer.analysis import edits
from explorer.analysis.types import FUNCTIONS, Analysis
from explorer.audio.decode import AUDIO_EXTENSIONS
from explorer.errors import ExplorerError
from explorer.library.listening import Listening
from explorer.ui import analysis_process, tasks
from explorer.ui.common import theme
from explorer.ui.common.log_panel import LogPanel
from explorer.ui.common.settings import Settings
from explorer.ui.common.widgets import ElidedLabel
from explorer.ui.library.pane import LibraryPane
from explorer.ui.recommend.sidebar import MODES as SIDEBAR_MODES
from explorer.ui.recommend.sidebar import RecommendationSidebar
from explorer.ui.song.matrix_view import MatrixView
from explorer.ui.song.player import PlayerController
from explorer.ui.song.structure_edit import StructureEdit, StructureState
from explorer.ui.song.structure_items import describe_section
from explorer.ui.song.structure_overlay import StructureOverlay
from explorer.ui.song.time_axis import format_time
from explorer.ui.song.waveform_view import WaveformView
from explorer.ui.workers import EDITS_WAIT, DecodeJob, SongAudio, SongJob, WarmUpJob

log = logging.getLogger(__name__)

APP_NAME = "Music Explorer"
#: Decoded songs kept in memory, so that going back to one is instant.
RECENT_SONGS = 3
#: Shares of the window's width the library and the recommendations get at the first start (and keep,
#: in proportion, when the window is resized); the song view gets the rest.
DOCK_SHARES = {"libraryDock": 0.27, "sidebarDock": 0.23}
#: The export formats, as the menu and the dialog name them.
EXPORT_LABELS = {"json": "JSON", "jams": "JAMS", "audacity": "Audacity labels", "lab": "MIREX .lab"}
#: How long the status line offers to undo a like or dislike (ms).
UNDO_RATING_MS = 20000


class Banner(QFrame):
    """A message across the top of the song view (errors, notices); no dialog to dismiss."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("banner")
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton(self)
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(10, 6, 6, 6)
        lay.addWidget(self.label, 1)
        lay.addWidget(close)
        self.hide()

    def show_message(self, text: str, level: str = "error") -> None:
        bg = {"error": "#8f2d2d", "warning": "#7a5b12"}.get(level, "#2d4f8f")
        self.setStyleSheet(f"#banner {{ background: {bg}; border-radius: 4px; }} #banner QLabel {{ color: white; }}")
        self.label.setText(text)
        self.show()

    @property
    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""


class MainWindow(QMainWindow):
    """Signals (mostly for tests and the benchmark): ``audioReady(path)`` when the waveform is drawn,
    ``analysisReady(path)`` when the structure is, ``matrixReady(path)`` when the self-similarity
    matrix is (a turn later), ``errorShown(message)``, ``jobEnded(request_id)`` (after all of them)."""

    audioReady = Signal(str)
    analysisReady = Signal(str)
    matrixReady = Signal(str)
    errorShown = Signal(str)
    jobEnded = Signal(int)
    #: Emitted from any thread (see :func:`explorer.app.report_thread_errors`); shown in the GUI thread.
    threadFailed = Signal(str)
    #: An edited structure is in the library (emitted by the writer thread, handled in the GUI thread).
    editSaved = Signal()

    def __init__(self, settings: Settings | None = None, library=None, *, cache=None, player=None):
        super().__init__()
        self.settings = settings or Settings()
        self.library = library
        self.cache = cache
        self.tasks = tasks.manager()
        self.tasks.at_shutdown(analysis_process.shutdown)  # the song analysis' helper process
        self.player = PlayerController(self, player=player)
        self.song: SongAudio | None = None
        self.song_path: str | None = None
        self.analysis: Analysis | None = None
        self._request = 0
        self._turns: deque = deque()  # work that waits for its own event-loop turn (see _later)
        self._job: SongJob | None = None
        self._preview_request = 0
        self._preview_region = (0.0, 0.0)
        self._recent: OrderedDict[tuple, SongAudio] = OrderedDict()
        #: What was heard of the song on screen (kept in the library's history when the song is left).
        self._listening: Listening | None = None
        #: Analyse opened songs (tests that only need the audio switch it off).
        self.auto_analyze = True
        #: The song's structure as the analysis found it (to revert to), and whether the one on
        #: screen is the user's edit of it.
        self._automatic: StructureState | None = None
        self._edited = False

        self.setWindowTitle(APP_NAME)
        self.setAcceptDrops(True)
        self._build_song_view()
        self._build_docks()
        self._build_status_bar()
        self._build_actions()
        self._connect()
        self._restore_layout()

    # == construction ===================================================================
    def _build_song_view(self) -> None:
        self.banner = Banner()
        # a long file name ends in "…" (whole in its tooltip) rather than pushing the song's figures out
        self.title_label = ElidedLabel()
        self.title_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.title_label.setText("Open a song (Ctrl+O) or drop one here.")
        self.title_label.setObjectName("songTitle")
        f = self.title_label.font()
        f.setPointSizeF(f.pointSizeF() * 1.25)
        f.setBold(True)
        self.title_label.setFont(f)
        self.info_label = QLabel("")
        self.info_label.setObjectName("songInfo")
        self.waveform = WaveformView()
        self.structure = StructureOverlay(self.waveform)
        self.matrix = MatrixView()
        self.log_panel = LogPanel()
        top = QWidget()
        tl = QVBoxLayout(top)
        tl.setContentsMargins(6, 6, 6, 0)
        tl.setSpacing(4)
        tl.addWidget(self.banner)
        head = QHBoxLayout()
        head.addWidget(self.title_label, 1)
        head.addWidget(self.info_label)
        tl.addLayout(head)
        tl.addWidget(self.waveform, 1)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("songSplitter")
        self.splitter.addWidget(top)
        self.splitter.addWidget(self.matrix)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([640, 360])
        self.setCentralWidget(self.splitter)

    def _build_docks(self) -> None:
        self.library_pane = None
        self.sidebar = None
        self.library_dock = self.sidebar_dock = None
        # the side panes reach down to the status bar; the log, when shown, sits under the song view
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.log_dock = self._dock("Log", "logDock", self.log_panel, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.log_dock.hide()  # until the user asks for it (View ▸ Log, or the status bar's count)
        if self.library is None:  # the library could not be opened: the song view works alone
            return
        self.library_pane = LibraryPane(self.library, tasks=self.tasks)
        self.library_dock = self._dock("Library", "libraryDock", self.library_pane,
                                       Qt.DockWidgetArea.LeftDockWidgetArea)
        self.sidebar = RecommendationSidebar(self.library, tasks=self.tasks)
        self.sidebar_dock = self._dock("Recommendations", "sidebarDock", self.sidebar,
                                       Qt.DockWidgetArea.RightDockWidgetArea)

    def _dock(self, title: str, name: str, widget: QWidget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        self.status_label = QLabel("")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.cancel_button = QToolButton()
        theme.bind_icon(self.cancel_button, "cancel")
        self.cancel_button.setToolTip("Cancel (stop decoding and analysing this song)")
        self.cancel_button.hide()
        self.cancel_button.clicked.connect(self.cancel_job)
        self.position_label = QLabel("")
        # "Undo" beside the status line after a like or dislike, for a while
        self.undo_rating_button = QToolButton()
        self.undo_rating_button.setText("Undo")
        self.undo_rating_button.setAutoRaise(True)
        self.undo_rating_button.hide()
        self.undo_rating_button.clicked.connect(self.undo_rating)
        self._undo_rating: tuple[str, int] | None = None
        self._undoing: str | None = None  # the path whose rating the Undo is giving back
        self._undo_rating_timer = QTimer(self, singleShot=True, interval=UNDO_RATING_MS)
        self._undo_rating_timer.timeout.connect(self.undo_rating_button.hide)
        # the log's count, when it has something to say: a click shows or hides it
        self.log_button = QToolButton()
        self.log_button.setAutoRaise(True)
        self.log_button.setToolTip("Show or hide the log (View ▸ Log)")
        self.log_button.hide()
        self.log_button.clicked.connect(lambda: self.log_dock.setVisible(not self.log_dock.isVisible()))
        sb.addWidget(self.status_label, 1)
        sb.addWidget(self.undo_rating_button)
        sb.addPermanentWidget(self.log_button)
        sb.addPermanentWidget(self.position_label)
        sb.addPermanentWidget(self.progress)
        sb.addPermanentWidget(self.cancel_button)

    def _action(self, text: str, slot, shortcut=None, *, icon: str | None = None, context=None,
                checkable: bool = False, tip: str = "") -> QAction:
        a = QAction(text, self)
        if icon:
            theme.bind_icon(a, icon)
        if shortcut is not None:
            keys = shortcut if isinstance(shortcut, list) else [shortcut]
            a.setShortcuts([QKeySequence(k) for k in keys])
        a.setCheckable(checkable)
        if tip:
            a.setToolTip(tip)
        a.triggered.connect(slot)
        if context is not None:
            a.setShortcutContext(context)
            self.waveform.addAction(a)
        else:
            self.addAction(a)
        return a

    def _build_actions(self) -> None:
        # Transport, zoom and section/pan keys work wherever the focus is (a text field keeps the keys
        # it types with: it claims them first); Home/End, split and merge only in the song view, as lists
        # and the library's type-ahead use those keys themselves.
        song = Qt.ShortcutContext.WidgetWithChildrenShortcut
        A = self._action
        self.act_open = A("&Open…", self.open_dialog, QKeySequence.StandardKey.Open, icon="open")
        self.act_open_folder = A("&Add folder…", self.open_folder_dialog, "Ctrl+Shift+O", icon="folder-add",
                                 tip="Add a folder of songs to the library (Ctrl+Shift+O)")
        self.act_rescan = A("&Rescan library", self.rescan, "F5",
                            tip="Look again in the library's folders: new, changed and missing songs (F5)")
        self.act_quit = A("&Quit", self.close, QKeySequence.StandardKey.Quit)
        self.act_play = A("Play / pause", self.toggle_play, "Space", icon="play",
                          tip="Play the selection (or from the cursor); pause and resume (Space)")
        self.act_stop = A("Stop", self.stop, "Esc", icon="stop", tip="Stop (Esc)")
        self.act_loop = A("Loop", self.toggle_loop, "L", icon="loop", checkable=True, tip="Loop the region (L)")
        self.act_choruses = A("Play all choruses", self.play_all_choruses, "C",
                              tip="Play every chorus, one after the other (C)")
        self.act_occurrences = A("Play all occurrences", self.play_all_occurrences, "O",
                                 tip="Play every occurrence of the highlighted motif (O)")
        self.act_zoom_in = A("Zoom in", lambda: self.waveform.zoom(1.5), ["+", "=", "Ctrl++"], icon="zoom-in")
        self.act_zoom_out = A("Zoom out", lambda: self.waveform.zoom(1 / 1.5), ["-", "Ctrl+-"], icon="zoom-out")
        self.act_zoom_all = A("Whole song", self.zoom_all, "0")
        self.act_prev = A("Previous section", lambda: self.step_section(-1), "Left")
        self.act_next = A("Next section", lambda: self.step_section(1), "Right")
        self.act_home = A("First section", lambda: self.step_section(-10**6), "Home", context=song)
        self.act_end = A("Last section", lambda: self.step_section(10**6), "End", context=song)
        self.act_pan_left = A("Pan left", lambda: self.waveform.pan(-0.25), "Shift+Left")
        self.act_pan_right = A("Pan right", lambda: self.waveform.pan(0.25), "Shift+Right")
        self.act_split = A("Split section at cursor", self.split_at_cursor, "S", context=song)
        self.act_merge = A("Merge section with next", self.merge_at_cursor, "M", context=song)
        self.undo_stack = QUndoStack(self)
        self.act_undo = self.undo_stack.createUndoAction(self, "&Undo")
        self.act_undo.setShortcuts([QKeySequence(QKeySequence.StandardKey.Undo)])
        self.act_redo = self.undo_stack.createRedoAction(self, "&Redo")
        self.act_redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence(QKeySequence.StandardKey.Redo)])
        self.addActions([self.act_undo, self.act_redo])
        self.act_revert = A("Revert to automatic analysis", self.revert_to_automatic,
                            tip="Forget your edits of this song's structure (Undo brings them back)")
        self.act_filter = A("Filter library", self.focus_filter, QKeySequence.StandardKey.Find)
        self.act_about = A("&About Music Explorer", self.about)
        self.export_actions = {}
        for fmt, label in EXPORT_LABELS.items():
            self.export_actions[fmt] = A(f"{label}…", lambda _=False, f=fmt: self.export_dialog(f))

        mb = self.menuBar()
        m = mb.addMenu("&File")
        m.addActions([self.act_open, self.act_open_folder, self.act_rescan])
        self.act_rescan.setEnabled(self.library_pane is not None)
        self.export_menu = m.addMenu("&Export structure")
        theme.bind_icon(self.export_menu, "export")
        self.export_menu.addActions(list(self.export_actions.values()))
        m.addSeparator()
        m.addAction(self.act_quit)
        m = mb.addMenu("&Play")
        m.addActions([self.act_play, self.act_stop, self.act_loop])
        m.addSeparator()
        m.addActions([self.act_choruses, self.act_occurrences])
        m = mb.addMenu("&Edit")
        m.addActions([self.act_undo, self.act_redo])
        m.addSeparator()
        m.addActions([self.act_split, self.act_merge])
        m.addSeparator()
        m.addAction(self.act_revert)
        m = mb.addMenu("&View")
        m.addActions([self.act_zoom_in, self.act_zoom_out, self.act_zoom_all])
        m.addSeparator()
        m.addActions([self.act_prev, self.act_next, self.act_home, self.act_end, self.act_pan_left,
                      self.act_pan_right])
        m.addSeparator()
        panels = m.addMenu("Panels")
        for dock in (self.library_dock, self.sidebar_dock, self.log_dock):
            if dock is not None:
                panels.addAction(dock.toggleViewAction())
        self.act_show_matrix = panels.addAction("Self-similarity matrix")
        self.act_show_matrix.setCheckable(True)
        self.act_show_matrix.setChecked(True)
        self.act_show_matrix.toggled.connect(self.matrix.setVisible)
        themes = m.addMenu("Theme")
        group = QActionGroup(self)
        current = self.settings.get("theme")
        for mode in ("system", "dark", "light"):
            a = themes.addAction(mode.capitalize())
            a.setCheckable(True)
            a.setChecked(mode == current)
            group.addAction(a)
            a.triggered.connect(lambda _=False, md=mode: self.set_theme(md))
        m = mb.addMenu("&Help")
        m.addAction(self.act_about)

        tb = QToolBar("Transport")
        tb.setObjectName("transportToolbar")
        tb.setMovable(False)
        tb.addActions([self.act_open, self.act_open_folder])
        tb.addSeparator()
        tb.addActions([self.act_play, self.act_stop, self.act_loop])
        tb.addSeparator()
        tb.addActions([self.act_choruses, self.act_occurrences])
        tb.addSeparator()
        tb.addActions([self.act_zoom_in, self.act_zoom_out])
        self.addToolBar(tb)
        panels.addAction(tb.toggleViewAction())
        self._update_actions()

    def _connect(self) -> None:
        theme.notifier().changed.connect(self._on_theme_changed)
        self.log_panel.messageAppended.connect(self._update_log_button)
        self.log_panel.cleared.connect(self._update_log_button)
        self.threadFailed.connect(self.show_error)
        self.editSaved.connect(lambda: self.show_status("Edit saved."))
        self.player.positionChanged.connect(self._on_position)
        self.player.stateChanged.connect(self._on_player_state)
        self.player.failed.connect(self.show_error)
        self.waveform.contextMenuRequested.connect(self._context_menu)
        self.waveform.selectionChanged.connect(self._on_selection)
        self.structure.activated.connect(self._on_structure_activated)
        self.structure.hovered.connect(self.show_status)
        self.structure.sectionsEdited.connect(lambda sections: self.save_sections(sections, "Move a boundary"))
        self.structure.contextMenuRequested.connect(self._context_menu)
        self.matrix.momentsClicked.connect(self._on_matrix_click)
        if self.library_pane is not None:
            self.library_pane.songOpenRequested.connect(self.open_song)
            self.library_pane.errorOccurred.connect(self._log_error)
        if self.sidebar is not None:
            self.sidebar.openRequested.connect(self.open_song)
            self.sidebar.previewRequested.connect(self.preview)
            self.sidebar.errorOccurred.connect(self.show_error)
            self.sidebar.listenRecorded.connect(self._on_listen_recorded)
        if self.sidebar is not None and self.library_pane is not None:
            # each follows the other's changes to the library without a click
            self.library_pane.libraryChanged.connect(self.sidebar.library_changed)
            self.sidebar.ratingChanged.connect(lambda path, *_: self.library_pane.reload_paths([path]))
            self.library_pane.rateRequested.connect(self.sidebar.rate)
        if self.library_pane is not None:
            self.library_pane.addFolderRequested.connect(self.open_folder_dialog)
        if self.sidebar is not None:  # the tab chosen last comes back next time
            mode = self.settings.get("sidebar/mode")
            if mode in dict(SIDEBAR_MODES):
                self.sidebar.set_mode(mode)
            self.sidebar.mode_tabs.currentChanged.connect(
                lambda i: self.settings.set("sidebar/mode", SIDEBAR_MODES[i][0]))
        if self.sidebar is not None:
            self.sidebar.ratingChanged.connect(self._on_rating_changed)

    # == opening songs ==================================================================
    def open_paths(self, paths) -> None:
        """Open files and folders given on the command line or dropped: folders go to the library,
        the first file (or the first song of the first folder) is opened."""
        first = None
        folders = []
        for p in map(os.fspath, paths):
            if os.path.isdir(p):
                songs = sorted(str(f) for f in Path(p).rglob("*") if f.suffix.lower() in AUDIO_EXTENSIONS
                               and f.is_file())
                folders.append(p)
                if not songs:
                    self.show_error(f"{p}: no audio files in this folder")
                first = first or (songs[0] if songs else None)
            else:
                first = first or p
        if folders and self.library_pane is not None:
            self.library_pane.start_scan(folders)
        if first:
            self.open_song(first)

    def open_song(self, path: str) -> int:
        """Start opening ``path``; returns the request id.  Cancels whatever song was opening."""
        path = os.fspath(path)
        self._request += 1
        rid = self._request
        if self._job is not None:
            self._job.cancel()
        self.player.stop()
        self._leave_song()
        self.banner.hide()
        self.song, self.song_path, self.analysis = None, path, None
        self._automatic, self._edited = None, False
        self.undo_stack.clear()  # its steps are this song's edits
        self.structure.set_analysis(None)
        self.matrix.set_analysis(None)
        self.waveform.clear()
        self.title_label.setText(Path(path).name)
        self.info_label.setText("")
        self.setWindowTitle(f"{Path(path).name} — {APP_NAME}")
        audio = self._recent_audio(path)
        job = SongJob(rid, path, audio=audio, library=self.library, cache=self.cache, analyze=self.auto_analyze,
                      edits_written=self._edits_written)
        job.signals.progress.connect(self._on_progress)
        job.signals.partial.connect(self._on_partial)
        job.signals.finished.connect(self._on_finished)
        job.signals.failed.connect(self._on_failed)
        job.signals.cancelled.connect(self._on_cancelled)
        self._job = job
        self._show_progress(0.0, "opening")
        self.tasks.start(job, owner=self)
        self._update_actions()
        return rid

    def cancel_job(self) -> None:
        if self._job is not None:
            self._job.cancel()
            self.show_status("Cancelling…")

    def _current(self, rid: int) -> bool:
        return rid == self._request

    def _on_progress(self, rid: int, fraction: float, stage: str) -> None:
        if self._current(rid):
            self._show_progress(fraction, stage)
            if self.library_pane is not None:
                self.library_pane.set_progress(self.song_path, fraction)

    def _on_partial(self, rid: int, kind: str, value) -> None:
        if not self._current(rid):
            return
        if kind == "audio":
            self.song = value
            self.waveform.set_peaks(value.peaks)
            # the rest in the next turn: with the waveform's repaint in this one, both took 50-60 ms
            # while a scan ran
            self._later(self._audio_arrived, rid, value)
            return
        if kind == "automatic":
            sections, choruses, edited = value
            self._automatic = StructureState(sections, choruses, False)
            self._edited = edited
            return
        if kind == "analysis":
            # a turn of its own: a cached analysis arrives at once, in the turn that also repaints
            # for the song just opened (together 55-70 ms while a scan ran)
            self._later(self._analysis_arrived, rid, value)

    def _analysis_arrived(self, rid: int, analysis: Analysis) -> None:
        if self._current(rid) and analysis is not self.analysis:
            self.set_analysis(analysis)

    def _audio_arrived(self, rid: int, value: SongAudio) -> None:
        if not self._current(rid) or self.song is not value:
            return
        self._remember(value)
        self.settings.set("last_song", os.path.abspath(self.song_path))  # opened: the song to come back to
        self.player.prepare(value.buffer)  # the first click then only slices: starts in < 1 ms
        self._show_song_info()
        if self.analysis is not None:
            self.structure.set_analysis(self.analysis)
        for w in value.buffer.warnings:
            self.log_panel.append("warning", f"{self.song_path}: {w}")
        self._update_actions()
        self.audioReady.emit(self.song_path)

    def _on_finished(self, rid: int, analysis) -> None:
        if not self._current(rid):
            return
        self._hide_progress()
        self.show_status(f"Opened {Path(self.song_path).name}")
        if self.library_pane is not None:
            self.library_pane.set_progress(self.song_path, None)
        self._later(self._finished, rid, analysis)  # after the partial results queued before it

    def _finished(self, rid: int, analysis) -> None:
        if analysis is not None:
            self._analysis_arrived(rid, analysis)  # (nothing to do when its partial result showed it)
        self._later(self._finish_job, rid)  # after the matrix (queued by set_analysis), one turn each

    def _finish_job(self, rid: int) -> None:
        if not self._current(rid):
            return
        self._job = None  # only now: "no job" means the song and everything about it is on screen
        if self.library_pane is not None and not self.library_pane.select_path(self.song_path):
            self.library_pane.refresh()  # the song was just entered in the catalogue
        if self.sidebar is not None and self.analysis is not None:
            self.sidebar.set_current(self.song_path, self.analysis)
        self._update_actions()
        self.jobEnded.emit(rid)

    def _later(self, fn, *args) -> None:
        """Run ``fn(*args)`` in an event-loop turn of its own, after the work queued before it.

        What a song's arrival changes is shown in steps (song view, then matrix, then library
        pane and sidebar), each followed by its repaint, so that no single turn of the event loop
        adds them all up: together they took 60–90 ms while a scan ran, one step at a time each
        stays under 50.  A 1 ms timer, not a posted call: timers run after the pending repaint.
        """
        self._turns.append((fn, args))
        if len(self._turns) == 1:
            QTimer.singleShot(1, self._run_turn)

    def _run_turn(self) -> None:
        if not self._turns:
            return
        fn, args = self._turns.popleft()
        if self._turns:
            QTimer.singleShot(1, self._run_turn)
        fn(*args)

    def _end_job(self) -> None:
        """The current job is over (failed or cancelled): clear its progress in the status bar and the pane."""
        self._job = None
        self._hide_progress()
        if self.library_pane is not None:
            self.library_pane.set_progress(self.song_path, None)

    def _on_failed(self, rid: int, message: str) -> None:
        if not self._current(rid):
            return
        self._end_job()
        self.show_error(message)
        # no view may look as if it waited for this song, nor show another song's recommendations
        if self.song is None:
            self.title_label.setText("Could not open the song")
            self.setWindowTitle(APP_NAME)
            self.waveform.show_message(f"This song could not be opened: {message}")
        if self.analysis is None:
            self.matrix.show_message(f"This song could not be analysed: {message}")
            if self.sidebar is not None:
                self.sidebar.set_unavailable(self.song_path or "", message)
        self._update_actions()
        self.jobEnded.emit(rid)

    def _on_cancelled(self, rid: int) -> None:
        if not self._current(rid):
            return
        self._end_job()
        self.show_status("Cancelled." if self.song is None else "Analysis cancelled; the waveform stays.")
        self.jobEnded.emit(rid)

    def set_analysis(self, analysis: Analysis) -> None:
        """Show ``analysis``: the song view now, the self-similarity matrix in the next turn
        (:attr:`matrixReady` says when)."""
        self.analysis = analysis
        if self._automatic is None:  # given by a caller, not a job: it is where a revert goes back to
            self._automatic = StructureState(analysis.sections, analysis.choruses, False)
        if self.song is None:
            self.waveform.set_duration(analysis.duration)
        self.structure.set_analysis(analysis)
        self.waveform.settle()  # new lanes' ranges applied before the next paint: one repaint, not two
        self._show_song_info()
        for w in analysis.warnings:
            self.log_panel.append("warning", f"{self.song_path}: {w}")
        self._update_actions()
        self.analysisReady.emit(self.song_path or "")
        self._later(self._show_matrix, analysis)

    def _show_matrix(self, analysis: Analysis) -> None:
        if analysis is self.analysis:  # not replaced by another song or analysis meanwhile
            self.matrix.set_analysis(analysis)
            self.matrixReady.emit(self.song_path or "")

    def _recent_audio(self, path: str) -> SongAudio | None:
        key = _file_key(path)
        audio = self._recent.get(key) if key else None
        if audio is not None:
            self._recent.move_to_end(key)
        return audio

    def _remember(self, audio: SongAudio) -> None:
        key = _file_key(audio.buffer.path)
        if key:
            self._recent[key] = audio
            self._recent.move_to_end(key)
            while len(self._recent) > RECENT_SONGS:
                self._recent.popitem(last=False)

    # == playback =======================================================================
    def play_region(self, start: float, end: float, *, loop: bool | None = None) -> None:
        if self.song is None:
            return
        loop = self.act_loop.isChecked() if loop is None else loop
        self.player.play(self.song.buffer, start, end, loop=loop)
        self.structure.highlight((start, end))
        if self.settings.get("follow_playhead"):
            self.waveform.ensure_visible(start, min(end, start + max(self.waveform.view_range()[1]
                                                                     - self.waveform.view_range()[0], 1.0)))

    def play_sequence(self, regions, *, loop: bool | None = None) -> None:
        if self.song is None or not regions:
            return
        loop = self.act_loop.isChecked() if loop is None else loop
        self.player.play_sequence(self.song.buffer, regions, loop=loop)

    def toggle_play(self) -> None:
        if self.song is None:
            return
        if self.player.toggle():
            return
        sel = self.waveform.selected()
        if sel is not None:
            self.play_region(*sel)
        else:
            self.play_region(self.waveform.cursor_time, self.song.buffer.duration)

    def stop(self) -> None:
        """Esc: stop playing, and looping (the next play is not a loop unless asked again)."""
        self.player.stop()
        self.act_loop.setChecked(False)
        self.structure.highlight(None)

    def toggle_loop(self) -> None:
        """L: loop the region that plays (or the selection) from now on, or stop looping."""
        if self.song is None:
            return
        region = self.player.player.current_region() if self.player.state == "playing" else None
        if self.act_loop.isChecked():
            region = region or self.waveform.selected()
            if region is not None:
                self.play_region(*region, loop=True)
        elif region is not None:
            pos = self.player.position() or region[0]
            self.player.play(self.song.buffer, pos, region[1], loop=False)

    def play_all_choruses(self) -> None:
        if self.analysis is not None:
            regions = [(c.start, c.end) for c in self.analysis.choruses] or [
                (s.start, s.end) for s in self.analysis.sections if s.function == "chorus"]
            if regions:
                self.show_status(f"Playing {len(regions)} choruses")
                self.play_sequence(regions)

    def play_all_occurrences(self) -> None:
        motif = self.structure.current_motif()
        if motif is not None:
            self.show_status(f"Playing {len(motif.occurrences)} occurrences of motif {motif.id + 1}")
            self.play_sequence([(o.start, o.end) for o in motif.occurrences])

    def preview(self, path: str, start: float, end: float) -> None:
        """Play ``[start, end)`` of another song (a sidebar preview), decoding it off the GUI thread."""
        self._preview_request += 1
        rid = self._preview_request
        audio = self._recent_audio(path)
        if audio is not None:
            self.player.play(audio.buffer, start, end)
            return
        self._preview_region = (start, end)
        job = DecodeJob(rid, path)
        job.signals.finished.connect(self._on_preview_decoded)
        job.signals.failed.connect(self._on_preview_failed)
        self.show_status(f"Preparing a preview of {Path(path).name}…")
        self.tasks.start(job, owner=self)

    def _on_preview_decoded(self, rid: int, buffer) -> None:
        if rid == self._preview_request:
            self.player.play(buffer, *self._preview_region)
            self.show_status(f"Preview of {Path(buffer.path).name}")

    def _on_preview_failed(self, rid: int, message: str) -> None:
        if rid == self._preview_request:
            self.show_error(message)

    def _collect_heard(self) -> None:
        """Add what the player played of the song on screen (not sidebar previews) to its listening."""
        for path, start, end in self.player.take_heard():
            if self.song is None or path != self.song.buffer.path:
                continue
            if self._listening is None or self._listening.path != self.song_path:
                self._listening = Listening(self.song_path, self.song.buffer.duration)
            self._listening.add(start, end)

    def _leave_song(self) -> None:
        """The song on screen is left (another opens, the window closes; playback already
        stopped): what was heard of it goes into the library's listening history, off the GUI
        thread, where the "For you" ranking reads it (a play from half the song on, a skip under
        a tenth)."""
        self._collect_heard()
        listening, self._listening = self._listening, None
        if listening is not None and listening.worth_recording() and self.sidebar is not None:
            self.sidebar.record_listen(listening.path, listening.heard, listening.duration)

    def _on_rating_changed(self, path: str, rating: int, previous: int) -> None:
        """Say what a rating did, with an Undo beside it (a dislike takes a song out of two lists)."""
        if rating == previous:
            return
        track = self.library.track_by_path(path) if self.library is not None else None
        name = f"“{track.display_name if track is not None else Path(path).name}”"
        if self._undoing == path:  # the Undo itself: said, not offered again
            self._undoing = None
            self.show_status(f"Undone: {name} has its rating back.")
            return
        text = {1: f"Liked {name}: songs like it rank a little higher in For you and Blend.",
                -1: f"Disliked {name}: it leaves For you and Blend, and songs like it rank a little lower.",
                0: f"Forgot your rating of {name}."}[rating]
        self.show_status(text)
        self._undo_rating = (path, previous)
        self.undo_rating_button.setToolTip(f"Give {name} its rating back")
        self.undo_rating_button.show()
        self._undo_rating_timer.start()

    def undo_rating(self) -> None:
        """Undo the rating given last (the status line's Undo)."""
        self.undo_rating_button.hide()
        if self._undo_rating is not None and self.sidebar is not None:
            path, previous = self._undo_rating
            self._undo_rating = None
            self._undoing = path
            self.sidebar.rate(path, previous)

    def _on_listen_recorded(self, path: str, kind: str, heard: float) -> None:
        what = {"play": "a play", "partial": "a partial listen", "skip": "a skip"}.get(kind, kind)
        self.show_status(f"{Path(path).name}: {format_time(heard, 0)} heard, kept in your history as {what}")

    def _on_structure_activated(self, start: float, end: float, loop: bool, text: str) -> None:
        self.waveform.set_selection(start, end)
        if loop:
            self.act_loop.setChecked(True)
        self.play_region(start, end, loop=loop or None)
        self.show_status(text)

    def _on_matrix_click(self, a: tuple, b: tuple) -> None:
        self.show_status(f"Comparing {format_time(a[0], 1)} with {format_time(b[0], 1)}")
        self.waveform.mark_moments([a, b])  # where the two moments are in the song
        self.waveform.ensure_visible(min(a[0], b[0]), max(a[1], b[1]))
        self.play_sequence([a, b], loop=False)

    def _on_position(self, t) -> None:
        self._collect_heard()
        self.waveform.set_playhead(t)
        self.matrix.set_playhead(t)
        if t is None:
            self.position_label.setText("")
            return
        self.position_label.setText(format_time(t, 1))
        if self.settings.get("follow_playhead") and self.player.state == "playing":
            a, b = self.waveform.view_range()
            if t > b or t < a:
                self.waveform.set_range(t - 0.02 * (b - a), t + 0.98 * (b - a))

    def _on_player_state(self, state: str) -> None:
        theme.bind_icon(self.act_play, "pause" if state == "playing" else "play")
        if state == "stopped":
            self.structure.highlight(None)

    def _on_selection(self, sel) -> None:
        if sel is not None:
            a, b = sel
            self.show_status(f"Selection {format_time(a, 1)}–{format_time(b, 1)} ({b - a:.1f} s): "
                             "Space plays it, L loops it")

    # == structure editing ==============================================================
    def step_section(self, step: int) -> None:
        """Select and show the previous/next section (±1), the first or the last (huge steps).

        Without sections, the arrows pan the view instead."""
        if self.analysis is None or not self.analysis.sections:
            self.waveform.pan(0.25 if step > 0 else -0.25)
            return
        secs = self.analysis.sections
        sel = self.waveform.selected()
        here = sel[0] if sel is not None else self.waveform.cursor_time
        i = edits.section_index_at(secs, time=here + 1e-6)
        if i is None:
            j = 0 if step > 0 else len(secs) - 1
        elif sel is None and step < 0 and here - secs[i].start > 1e-3:
            j = i  # inside a section: "previous" first goes back to its own start
        else:
            j = i + step
        s = secs[max(0, min(len(secs) - 1, j))]
        self.waveform.set_selection(s.start, s.end)
        self.waveform.cursor_time = s.start
        self.waveform.ensure_visible(s.start, s.end)
        self.show_status(describe_section(s))

    def save_sections(self, sections, text: str = "Edit the structure") -> None:
        """Apply edited sections to the song on screen and keep them in the library at once (in
        the edits writer's thread; :attr:`editSaved` says when they are in), as one step of the
        undo stack (Edit ▸ Undo, Ctrl+Z) named ``text``."""
        if self.analysis is None:
            return
        sections = tuple(sections)
        if sections == self.analysis.sections:
            return  # nothing changed (a split too close to a boundary, a drag back to its place)
        edited = edits.with_sections(self.analysis, sections=sections)
        self.undo_stack.push(StructureEdit(self._apply_structure, self._structure_state(),
                                              StructureState(edited.sections, edited.choruses, True), text))

    def revert_to_automatic(self) -> None:
        """Edit ▸ Revert to automatic analysis: the song's structure as the analysis found it, its
        edits removed from the library (a step of the undo stack too)."""
        if self.analysis is None or self._automatic is None or not self._edited:
            self.show_status("The structure on screen is the automatic analysis.")
            return
        self.undo_stack.push(StructureEdit(self._apply_structure, self._structure_state(), self._automatic,
                                              "Revert to automatic analysis"))

    def _structure_state(self) -> StructureState:
        return StructureState(self.analysis.sections, self.analysis.choruses, self._edited)

    def _apply_structure(self, state: StructureState) -> None:
        """Show ``state`` and keep it: the user's sections saved as the song's edits, or the edits
        removed when it is the automatic analysis (in the edits writer's thread)."""
        if self.analysis is None:
            return
        self.analysis = self.analysis.replace(sections=state.sections, choruses=state.choruses)
        self._edited = state.edited
        self.structure.set_analysis(self.analysis)
        self._show_song_info()  # the header counts sections and choruses: they just changed
        self._update_actions()
        if self.library is not None and self.song is not None and self.song.content_hash:
            library, content_hash, sections = self.library, self.song.content_hash, state.sections
            saved, failed, edited = self.editSaved, self.threadFailed, state.edited

            def save(_task) -> None:  # in the edits lane
                try:
                    if edited:
                        library.save_structure_edits(content_hash, sections)
                    else:
                        library.clear_structure_edits(content_hash)
                except ExplorerError as e:
                    failed.emit(f"Could not save the edit: {e.message}")
                else:
                    saved.emit()

            self.show_status("Saving the edit…")
            self.tasks.run(save, owner=self, lane="edits", check_cancel=False)
        else:
            self.show_status("Edit applied (no library to keep it in).")

    def split_at_cursor(self, t: float | None = None) -> None:
        if self.analysis is not None:
            t = self.waveform.cursor_time if t is None or t is False else t
            pos = self.player.position()
            t = pos if pos is not None and self.player.state != "stopped" else t
            self.save_sections(edits.split_section(self.analysis.sections, at=t), f"Split at {format_time(t, 1)}")

    def merge_at_cursor(self, t: float | None = None) -> None:
        if self.analysis is not None:
            t = self.waveform.cursor_time if t is None or t is False else t
            i = edits.section_index_at(self.analysis.sections, time=t)
            if i is not None:
                self.save_sections(edits.merge_with_next(self.analysis.sections, index=i), "Merge sections")

    def rename_section(self, index: int, label: str | None = None, function: str | None = None) -> None:
        if self.analysis is not None:
            text = f"Rename section to {label}" if label is not None else f"Set function to {function}"
            self.save_sections(edits.rename_section(self.analysis.sections, index=index, label=label, function=function),
                               text)

    def _context_menu(self, t: float, screen_pos) -> None:
        menu = self.build_context_menu(t)
        if menu is not None:
            menu.popup(screen_pos)

    def build_context_menu(self, t: float) -> QMenu | None:
        if self.song is None:
            return None
        menu = QMenu(self)
        menu.addAction(self.act_play)
        menu.addAction("Play from here", lambda: self.play_region(t, self.song.buffer.duration))
        secs = self.analysis.sections if self.analysis is not None else ()
        i = edits.section_index_at(secs, time=t)
        if i is not None:
            s = secs[i]
            menu.addSeparator()
            menu.addAction(f"Play section {s.label} ({s.function})", lambda: self.play_region(s.start, s.end))
            menu.addAction("Split section here",
                           lambda: self.save_sections(edits.split_section(secs, at=t), f"Split at {format_time(t, 1)}"))
            if i + 1 < len(secs):
                menu.addAction("Merge with next section", lambda: self.merge_at_cursor(s.start))
            menu.addAction("Rename label…", lambda: self._ask_label(i))
            fm = menu.addMenu("Function")
            for fn in FUNCTIONS:
                a = fm.addAction(fn.capitalize(), lambda f=fn: self.rename_section(i, function=f))
                a.setCheckable(True)
                a.setChecked(fn == s.function)
        return menu

    def _ask_label(self, index: int) -> None:
        cur = self.analysis.sections[index].label
        text, ok = QInputDialog.getText(self, "Rename section", "Label (e.g. A, B, C):", text=cur)
        if ok and text.strip():
            self.rename_section(index, label=text.strip())

    # == files ==========================================================================
    def open_dialog(self) -> None:
        pattern = " ".join(f"*{e}" for e in AUDIO_EXTENSIONS)
        path, _ = QFileDialog.getOpenFileName(self, "Open a song", self.settings.get("last_folder"),
                                              f"Audio files ({pattern});;All files (*)")
        if path:
            self.settings.set("last_folder", os.path.dirname(path))
            self.open_song(path)

    def open_folder_dialog(self) -> None:
        """File ▸ Add folder… (and the library's button): scan a folder into the library; the dialog
        starts where the last one ended.  Its first song opens when none is on screen."""
        path = QFileDialog.getExistingDirectory(self, "Add a folder of songs", self.settings.get("last_folder"))
        if path:
            self.settings.set("last_folder", path)
            if self.song_path is None or self.library_pane is None:
                self.open_paths([path])
            else:
                self.library_pane.start_scan([path])

    def rescan(self) -> None:
        if self.library_pane is not None:
            self.library_pane.rescan()

    def export_dialog(self, fmt: str) -> None:
        from explorer.export.formats import EXTENSIONS

        if self.analysis is None:
            self.show_error("Nothing to export yet: open a song and wait for its analysis.")
            return
        stem = Path(self.song_path or "song").stem
        # where the last export went; at first the user's documents, never the music folder itself
        folder = self.settings.get("last_export_folder") or QStandardPaths.writableLocation(
            QStandardPaths.StandardLocation.DocumentsLocation) or os.path.expanduser("~")
        suggested = os.path.join(folder, stem + EXTENSIONS[fmt])
        label = EXPORT_LABELS[fmt]
        # Qt's save dialog asks before replacing an existing file.
        path, _ = QFileDialog.getSaveFileName(self, f"Export structure as {label}", suggested,
                                              f"{label} (*{EXTENSIONS[fmt]});;All files (*)")
        if path:
            self.settings.set("last_export_folder", os.path.dirname(path))
            self.export_to(path, fmt, overwrite=True)

    def export_to(self, path: str, fmt: str, *, overwrite: bool = False) -> bool:
        """Write the structure of the song on screen to ``path``; never replaces a file unless told."""
        from explorer.export.formats import render
        from explorer.fsutil import atomic_write_text

        try:
            atomic_write_text(path, render(self.analysis, fmt), overwrite=overwrite)
        except ExplorerError as e:
            self.show_error(e.message)
            return False
        self.show_status(f"Exported {fmt.upper()} to {path}")
        return True

    def dragEnterEvent(self, ev) -> None:
        if ev.mimeData().hasUrls():
            ev.acceptProposedAction()

    def dropEvent(self, ev) -> None:
        paths = [u.toLocalFile() for u in ev.mimeData().urls() if u.isLocalFile()]
        if paths:
            ev.acceptProposedAction()
            self.open_paths(paths)

    # == messages, progress, info =======================================================
    def show_error(self, message: str) -> None:
        self.banner.show_message(message, "error")
        self.log_panel.append("error", message)
        self.show_status(message)
        self.errorShown.emit(message)

    def _log_error(self, message: str) -> None:
        self.log_panel.append("error", message)

    def _update_log_button(self, *_args) -> None:
        n = self.log_panel.line_count()
        self.log_button.setText(f"Log ({n})")
        self.log_button.setVisible(n > 0)

    def show_status(self, text: str) -> None:
        self.status_label.setText(text)

    def _show_progress(self, fraction: float, stage: str) -> None:
        self.progress.setValue(round(fraction * 1000))
        self.progress.setFormat(f"{stage} %p%")
        self.progress.show()
        self.cancel_button.show()
        self.show_status(f"{stage.capitalize()} {Path(self.song_path or '').name}…")

    def _hide_progress(self) -> None:
        self.progress.hide()
        self.cancel_button.hide()

    def _show_song_info(self) -> None:
        parts = []
        if self.song is not None:
            b = self.song.buffer
            parts.append(f"{format_time(b.duration)} · {b.sr / 1000:g} kHz · {b.channels} ch")
        a = self.analysis
        if a is not None:
            if a.tempo:
                parts.append(f"{a.tempo:.0f} BPM")
            if a.genre.label:
                parts.append(a.genre.label)
            parts.append(f"{_count(len(a.sections), 'section')} · {_count(len(a.choruses), 'chorus', 'choruses')} · "
                         f"{_count(len(a.motifs), 'motif')}")
            if not a.choruses and a.chorus_note:  # why there is no chorus
                parts.append(f"no chorus ({a.chorus_note})")
        self.info_label.setText("   ".join(parts))

    def _update_actions(self) -> None:
        has_song = self.song is not None
        for a in (self.act_play, self.act_stop, self.act_loop):
            a.setEnabled(has_song)
        has_analysis = has_song and self.analysis is not None
        self.act_choruses.setEnabled(has_analysis and bool(self.analysis.choruses or any(
            s.function == "chorus" for s in self.analysis.sections)))
        self.act_occurrences.setEnabled(has_analysis and bool(self.analysis.motifs))
        self.export_menu.setEnabled(self.analysis is not None)
        self.act_revert.setEnabled(has_analysis and self._edited)

    def zoom_all(self) -> None:
        self.waveform.set_range(0.0, self.waveform.duration)

    def focus_filter(self) -> None:
        if self.library_pane is not None and hasattr(self.library_pane, "focus_filter"):
            self.library_pane.focus_filter()

    def set_theme(self, mode: str) -> None:
        """View ▸ Theme: the whole window takes the new colours at once (the plots and their items
        listen to :func:`explorer.ui.common.theme.notifier` themselves)."""
        self.settings.set("theme", mode)
        theme.apply_theme(QApplication.instance(), mode)

    def _on_theme_changed(self) -> None:
        theme.refresh_icons(self)  # the toolbar's and menus' icons, in the new text colour

    def about_text(self) -> str:
        """Help ▸ About: the version, where the library and the analysis cache live, credits and licences."""
        import html

        from PySide6 import __version__ as pyside_version
        from PySide6.QtCore import qVersion

        from explorer.library.cache import default_folder

        db = self.library.path if self.library is not None else None
        places = (f"Library: {html.escape(str(db))}<br>" if db else "Library: not open<br>") + \
            f"Analysis cache: {html.escape(str(default_folder()))}<br>Settings: {html.escape(self.settings.path)}"
        return (f"<b>{APP_NAME}</b> {__version__}<br>See and hear the structure of your own songs.<br><br>"
                f"{places}<br><br>"
                "<b>Credits and licences</b><br>"
                "Music Explorer: MIT licence.<br>"
                "Genre and sound embeddings: musicnn models by Jordi Pons, Music Technology Group, "
                "Universitat Pompeu Fabra (ISC licence), run with ONNX Runtime (MIT).<br>"
                f"Qt {qVersion()} and PySide6 {pyside_version} (LGPL v3), pyqtgraph (MIT), librosa (ISC), "
                "NumPy and SciPy (BSD), scikit-learn (BSD), pydub (MIT), simpleaudio (MIT), mutagen (GPL v2+); "
                "decoding by FFmpeg (LGPL/GPL, installed on this system).<br>"
                "Demo songs: composed and rendered by this project (MIT), with the FluidR3 GM soundfont by "
                "Frank Wen (MIT).")

    def about(self) -> None:
        QMessageBox.about(self, f"About {APP_NAME}", self.about_text())

    # == layout =========================================================================
    def _restore_layout(self) -> None:
        geo = self.settings.get("layout/geometry")
        if not geo.isEmpty():
            self.restoreGeometry(geo)
        else:
            self.resize(1440, 900)
        state = self.settings.get("layout/state")
        self._share_docks_at_show = state.isEmpty() or not self.restoreState(state)
        split = self.settings.get("layout/splitter")
        if not split.isEmpty():
            self.splitter.restoreState(split)

    def _side_docks(self) -> list[QDockWidget]:
        return [d for d in (self.library_dock, self.sidebar_dock)
                if d is not None and not d.isHidden() and not d.isFloating()]

    def showEvent(self, ev) -> None:
        super().showEvent(ev)
        if self._share_docks_at_show:  # the first start: the panes get their shares of the width
            self._share_docks_at_show = False
            docks = self._side_docks()
            self.resizeDocks(docks, [round(DOCK_SHARES[d.objectName()] * self.width()) for d in docks],
                             Qt.Orientation.Horizontal)

    def resizeEvent(self, ev) -> None:
        """A wider or narrower window widens or narrows the side panes in proportion too, not only
        the song view (the shares the user gave them by dragging stay)."""
        old, new = ev.oldSize().width(), ev.size().width()
        docks = self._side_docks() if old > 0 and new != old and self.isVisible() else []
        widths = [round(d.width() * new / old) for d in docks]
        super().resizeEvent(ev)
        if docks:
            self.resizeDocks(docks, widths, Qt.Orientation.Horizontal)

    def save_layout(self) -> None:
        self.settings.set("layout/geometry", self.saveGeometry())
        self.settings.set("layout/state", self.saveState())
        self.settings.set("layout/splitter", self.splitter.saveState())
        self.settings.sync()

    def warm_up(self) -> None:
        """Load the analysis modules in the background (started by the app once the window is up)."""
        job = WarmUpJob(0)
        job.signals.finished.connect(self._on_warm)
        self.tasks.start(job, owner=self)

    def _on_warm(self, _rid: int, _modules) -> None:
        # Everything imported so far lives as long as the program: keep it out of the cycle
        # collector's full passes, which then stay short enough for the GUI thread.
        gc.freeze()

    def restore_last_song(self) -> None:
        last = self.settings.get("last_song")
        if last and os.path.isfile(last):
            QTimer.singleShot(0, lambda: self.open_song(last))

    def closeEvent(self, ev) -> None:
        # Background work is cancelled first, so that it ends while what must be kept is written;
        # then the window waits for all of it: nothing of it may outlive the window's objects (Qt
        # aborts on a thread destroyed while it runs).  The waits have no time limit because each
        # cancel reaches the work in flight: the scan ends its worker processes, a song's job
        # drops the helper process' analysis and stops decoding.
        self.save_layout()
        self.player.stop()
        self.tasks.cancel(self, lane="work")
        if self.library_pane is not None:
            self.library_pane.cancel_scan()
        self._leave_song()
        if self.sidebar is not None:
            self.sidebar.shutdown()  # the listen just handed over is written before the window goes
        if not self._edits_written(EDITS_WAIT):
            log.warning("an edited structure was still being saved when the window closed")
        if self.library_pane is not None:
            self.library_pane.cancel_scan(wait=True)
        self.tasks.wait(self)
        super().closeEvent(ev)

    def _edits_written(self, timeout: float) -> bool:
        """Wait (from any thread) until the edits handed to the edits lane so far are written."""
        return self.tasks.wait(self, lane="edits", timeout=timeout)


def _count(n: int, one: str, many: str | None = None) -> str:
    """``1 section``, ``3 sections`` (``many`` for an irregular plural)."""
    return f"{n} {one if n == 1 else many or one + 's'}"


def _file_key(path: str | None) -> tuple | None:
    if not path:
        return None
    try:
        s = os.stat(path)
    except OSError:
        return None
    return (os.path.abspath(path), s.st_size, s.st_mtime_ns)
