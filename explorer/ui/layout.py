"""The main window's layout: the song view in the middle, the docks beside it, the status bar, and
the geometry kept in the settings."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QProgressBar,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from explorer.ui.common import theme
from explorer.ui.common.banner import Banner
from explorer.ui.common.log_panel import LogPanel
from explorer.ui.library.pane import LibraryPane
from explorer.ui.recommend.sidebar import RecommendationSidebar
from explorer.ui.song.matrix_view import MatrixView
from explorer.ui.song.song_header import SongHeader
from explorer.ui.song.structure_overlay import StructureOverlay
from explorer.ui.song.waveform_view import WaveformView
from explorer.ui.window_base import WindowBase

#: Shares of the window's width the library and the recommendations get at the first start (and keep,
#: in proportion, when the window is resized); the song view gets the rest.
DOCK_SHARES = {"libraryDock": 0.27, "sidebarDock": 0.23}
#: What the song view says before any song is open.
NO_SONG = "Open a song with File ▸ Open (Ctrl+O), drop a file here, or double-click one in the library."
#: … and the matrix below it.
NO_SONG_MATRIX = "The self-similarity matrix of the song you open appears here."
#: How long the status line offers to undo a like or dislike (ms).
UNDO_RATING_MS = 20000


class WindowLayout(WindowBase):
    """The main window's layout (a part of :class:`~explorer.ui.main_window.MainWindow`)."""

    def _build_song_view(self) -> None:
        self.banner = Banner()
        # the song's name, with its figures beside it or, for a long name, under it
        self.song_header = SongHeader()
        self.title_label = self.song_header.title_label
        self.title_label.setText("No song open")
        self.info_label = self.song_header.info_label
        self.waveform = WaveformView()
        self.structure = StructureOverlay(self.waveform)
        self.matrix = MatrixView()
        # no song yet: say how to open one, not empty axes that read as a song of one silent second
        self.waveform.show_message(NO_SONG)
        self.matrix.show_message(NO_SONG_MATRIX)
        self.log_panel = LogPanel()
        top = QWidget()
        tl = QVBoxLayout(top)
        tl.setContentsMargins(6, 6, 6, 0)
        tl.setSpacing(4)
        tl.addWidget(self.banner)
        tl.addWidget(self.song_header)
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
        self.library_dock = self._dock(
            "Library", "libraryDock", self.library_pane, Qt.DockWidgetArea.LeftDockWidgetArea
        )
        self.sidebar = RecommendationSidebar(self.library, tasks=self.tasks)
        self.sidebar_dock = self._dock(
            "Recommendations", "sidebarDock", self.sidebar, Qt.DockWidgetArea.RightDockWidgetArea
        )

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
        header = self.settings.get("layout/library_header")
        if self.library_pane is not None and not header.isEmpty():
            self.library_pane.restore_header_state(bytes(header.data()))

    def _side_docks(self) -> list[QDockWidget]:
        return [
            d
            for d in (self.library_dock, self.sidebar_dock)
            if d is not None and not d.isHidden() and not d.isFloating()
        ]

    def showEvent(self, ev) -> None:
        super().showEvent(ev)
        if self._share_docks_at_show:  # the first start: the panes get their shares of the width
            self._share_docks_at_show = False
            docks = self._side_docks()
            self.resizeDocks(
                docks, [round(DOCK_SHARES[d.objectName()] * self.width()) for d in docks], Qt.Orientation.Horizontal
            )

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
        if self.library_pane is not None:
            self.settings.set("layout/library_header", QByteArray(self.library_pane.header_state()))
        self.settings.sync()
