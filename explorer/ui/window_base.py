"""What the parts of the main window share: its signals, and the declared state and widgets that
:class:`~explorer.ui.main_window.MainWindow` and its parts (actions, layout, song session,
playback, editing) read and write.

The declarations carry no values: each attribute is set where its part builds it.  Methods that
one part calls on another are declared for the type checker only.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QAction, QUndoStack
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMenu, QProgressBar, QSplitter, QToolButton

from explorer.analysis.types import Analysis
from explorer.library.listening import Listening
from explorer.library.store import Library
from explorer.ui.common.banner import Banner
from explorer.ui.common.log_panel import LogPanel
from explorer.ui.common.settings import Settings
from explorer.ui.common.widgets import ElidedLabel
from explorer.ui.library.pane import LibraryPane
from explorer.ui.recommend.sidebar import RecommendationSidebar
from explorer.ui.song.jobs import SongAudio, SongJob
from explorer.ui.song.matrix_view import MatrixView
from explorer.ui.song.player import PlayerController
from explorer.ui.song.song_header import SongHeader
from explorer.ui.song.structure_edit import StructureState
from explorer.ui.song.structure_overlay import StructureOverlay
from explorer.ui.song.waveform_view import WaveformView
from explorer.ui.tasks import TaskManager


class WindowBase(QMainWindow):
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
    #: An edited structure is in the library (emitted by the edits lane, handled in the GUI thread).
    editSaved = Signal()

    # -- state ------------------------------------------------------------------------------------
    settings: Settings
    library: Library | None
    cache: Any
    tasks: TaskManager
    player: PlayerController
    song: SongAudio | None
    song_path: str | None
    analysis: Analysis | None
    auto_analyze: bool
    _request: int
    _turns: deque[tuple[Callable[..., object], tuple]]
    _job: SongJob | None
    _preview_request: int
    _preview_region: tuple[float, float]
    _recent: OrderedDict[tuple, SongAudio]
    _listening: Listening | None
    _automatic: StructureState | None
    _edited: bool
    _undo_rating: tuple[str, int] | None
    _undoing: str | None
    _share_docks_at_show: bool

    # -- widgets ----------------------------------------------------------------------------------
    banner: Banner
    song_header: SongHeader
    title_label: ElidedLabel
    info_label: QLabel
    waveform: WaveformView
    structure: StructureOverlay
    matrix: MatrixView
    log_panel: LogPanel
    splitter: QSplitter
    library_pane: LibraryPane | None
    sidebar: RecommendationSidebar | None
    library_dock: QDockWidget | None
    sidebar_dock: QDockWidget | None
    log_dock: QDockWidget
    status_label: QLabel
    progress: QProgressBar
    cancel_button: QToolButton
    position_label: QLabel
    undo_rating_button: QToolButton
    _undo_rating_timer: QTimer
    log_button: QToolButton
    undo_stack: QUndoStack
    export_menu: QMenu
    export_actions: dict[str, QAction]
    act_open: QAction
    act_open_folder: QAction
    act_rescan: QAction
    act_quit: QAction
    act_play: QAction
    act_stop: QAction
    act_loop: QAction
    act_choruses: QAction
    act_occurrences: QAction
    act_zoom_in: QAction
    act_zoom_out: QAction
    act_zoom_all: QAction
    act_prev: QAction
    act_next: QAction
    act_home: QAction
    act_end: QAction
    act_pan_left: QAction
    act_pan_right: QAction
    act_split: QAction
    act_merge: QAction
    act_undo: QAction
    act_redo: QAction
    act_revert: QAction
    act_filter: QAction
    act_about: QAction
    act_train_genre: QAction
    act_show_matrix: QAction

    if TYPE_CHECKING:  # defined by one part, called by another

        def show_error(self, message: str) -> None: ...
        def show_status(self, text: str) -> None: ...
        def about(self) -> None: ...
        def open_dialog(self) -> None: ...
        def open_folder_dialog(self) -> None: ...
        def rescan(self) -> None: ...
        def train_genre_model(self) -> None: ...
        def _show_progress(self, fraction: float, stage: str) -> None: ...
        def _hide_progress(self) -> None: ...
        def _show_song_info(self) -> None: ...
        def _edits_written(self, timeout: float) -> bool: ...
        def _update_actions(self) -> None: ...
        def open_paths(self, paths: Iterable) -> None: ...
        def open_song(self, path: str) -> int: ...
        def cancel_job(self) -> None: ...
        def set_analysis(self, analysis: Analysis) -> None: ...
        def _later(self, fn: Callable[..., object], *args: object) -> None: ...
        def _recent_audio(self, path: str) -> SongAudio | None: ...
        def play_region(self, start: float, end: float, *, loop: bool | None = None) -> None: ...
        def toggle_play(self) -> None: ...
        def stop(self) -> None: ...
        def toggle_loop(self) -> None: ...
        def play_all_choruses(self) -> None: ...
        def play_all_occurrences(self) -> None: ...
        def preview(self, path: str, start: float, end: float) -> None: ...
        def undo_rating(self) -> None: ...
        def _leave_song(self) -> None: ...
        def step_section(self, step: int) -> None: ...
        def save_sections(self, sections: Iterable, text: str = "Edit the structure") -> None: ...
        def revert_to_automatic(self) -> None: ...
        def split_at_cursor(self, t: float | None = None) -> None: ...
        def merge_at_cursor(self, t: float | None = None) -> None: ...
        def export_dialog(self, fmt: str) -> None: ...
