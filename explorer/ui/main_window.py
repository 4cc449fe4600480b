"""The main window: library on the left, the song in the middle, recommendations on the right.

The window composes the pieces and owns the song being explored.  Its parts live in their own
modules: :mod:`~explorer.ui.actions` (actions, menus, toolbar), :mod:`~explorer.ui.layout`
(widgets, docks, status bar, saved geometry), :mod:`~explorer.ui.song_session` (opening songs),
:mod:`~explorer.ui.playback` and :mod:`~explorer.ui.editing` (structure edits, export).  Background
work goes through :mod:`explorer.ui.tasks`; :meth:`MainWindow.closeEvent` is the window's way out.
"""

from __future__ import annotations

import logging
import os
from collections import OrderedDict, deque
from pathlib import Path

from PySide6.QtWidgets import (
    QFileDialog,
    QMessageBox,
)

from explorer import __version__
from explorer.analysis.types import Analysis
from explorer.audio.decode import AUDIO_EXTENSIONS
from explorer.library.genre_model import current_genre, genre_text
from explorer.library.listening import Listening
from explorer.services import analysis_helper as analysis_process
from explorer.ui import APP_NAME, tasks
from explorer.ui.actions import WindowActions
from explorer.ui.common import theme
from explorer.ui.common.settings import Settings
from explorer.ui.editing import Editing
from explorer.ui.layout import WindowLayout
from explorer.ui.playback import Playback
from explorer.ui.recommend.sidebar import MODES as SIDEBAR_MODES
from explorer.ui.song.jobs import EDITS_WAIT, SongAudio, SongJob
from explorer.ui.song.player import PlayerController
from explorer.ui.song.structure_edit import StructureState
from explorer.ui.song.time_axis import format_time
from explorer.ui.song_session import SongSession

log = logging.getLogger(__name__)


class MainWindow(WindowActions, WindowLayout, SongSession, Playback, Editing):
    """The window (its signals are those of :class:`~explorer.ui.window_base.WindowBase`)."""

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
            self.library_pane.libraryChanged.connect(self.refresh_song_name)
        if self.sidebar is not None:  # the tab chosen last comes back next time
            mode = self.settings.get("sidebar/mode")
            if mode in dict(SIDEBAR_MODES):
                self.sidebar.set_mode(mode)
            self.sidebar.mode_tabs.currentChanged.connect(
                lambda i: self.settings.set("sidebar/mode", SIDEBAR_MODES[i][0])
            )
        if self.sidebar is not None:
            self.sidebar.ratingChanged.connect(self._on_rating_changed)

    # == files ==========================================================================
    def open_dialog(self) -> None:
        pattern = " ".join(f"*{e}" for e in AUDIO_EXTENSIONS)
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a song", self.settings.get("last_folder"), f"Audio files ({pattern});;All files (*)"
        )
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

    def train_genre_model(self) -> None:
        from explorer.ui.train_dialog import TrainDialog

        self.train_dialog = TrainDialog(self.library, self)
        self.train_dialog.show()

    def refresh_genres(self) -> None:
        """The library's genre model changed: the song on screen and the sidebar show the new genres."""
        genre = current_genre(self.library, self.song_path) if self.analysis is not None and self.song_path else None
        if genre is not None and self.analysis is not None:
            self.analysis = self.analysis.replace(genre=genre)
            self._show_song_info()
        if self.sidebar is not None:
            self.sidebar.set_current(self.song_path, self.analysis)

    def rescan(self) -> None:
        if self.library_pane is not None:
            self.library_pane.rescan()

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
        """The header beside the title: duration, tempo, genre and structure counts on one line that leaves the
        title whole at 1440 px; the file's format and the genre model's doubts in its tooltip."""
        parts, tips = [], []
        if self.song is not None:
            b = self.song.buffer
            parts.append(format_time(b.duration))
            tips.append(f"{b.sr / 1000:g} kHz · {b.channels} channel{'s' if b.channels != 1 else ''}")
        a = self.analysis
        if a is not None:
            if a.tempo:
                parts.append(f"{a.tempo:.0f} BPM")
            if a.genre.label:
                text, tip = genre_text(a.genre, self.library)
                parts.append(text)
                tips += [tip] if tip else []
            parts.append(
                f"{_count(len(a.sections), 'section')} · {_count(len(a.choruses), 'chorus', 'choruses')} · "
                f"{_count(len(a.motifs), 'motif')}"
            )
            if not a.choruses and a.chorus_note:  # why is written where the choruses would be, and here
                parts.append("no chorus")
                tips.append(f"No chorus — {a.chorus_note}")
            if a.key_change is not None:
                at, up = a.key_change
                step = f"{abs(up)} semitone{'s' if abs(up) != 1 else ''} {'up' if up > 0 else 'down'}"
                tips.append(f"Key change at {format_time(at)}: {step} (the sections compare it in one key)")
        self.info_label.setText("   ".join(parts))
        self.info_label.setToolTip("\n".join(tips))

    def about_text(self) -> str:
        """Help ▸ About: the version, where the library and the analysis cache live, credits and licences."""
        import html

        from PySide6 import __version__ as pyside_version
        from PySide6.QtCore import qVersion

        from explorer.library.cache import default_folder

        db = self.library.path if self.library is not None else None
        places = (
            f"Library: {html.escape(str(db))}<br>" if db else "Library: not open<br>"
        ) + f"Analysis cache: {html.escape(str(default_folder()))}<br>Settings: {html.escape(self.settings.path)}"
        return (
            f"<b>{APP_NAME}</b> {__version__}<br>See and hear the structure of your own songs.<br><br>"
            f"{places}<br><br>"
            "<b>Credits and licences</b><br>"
            "Music Explorer: MIT licence.<br>"
            "Genre and sound embeddings: musicnn models by Jordi Pons, Music Technology Group, "
            "Universitat Pompeu Fabra (ISC licence), run with ONNX Runtime (MIT).<br>"
            f"Qt {qVersion()} and PySide6 {pyside_version} (LGPL v3), pyqtgraph (MIT), librosa (ISC), "
            "NumPy and SciPy (BSD), scikit-learn (BSD), pydub (MIT), simpleaudio (MIT), mutagen (GPL v2+); "
            "decoding by FFmpeg (LGPL/GPL, installed on this system).<br>"
            "Demo songs: composed and rendered by this project (MIT), with the FluidR3 GM soundfont by "
            "Frank Wen (MIT)."
        )

    def about(self) -> None:
        QMessageBox.about(self, f"About {APP_NAME}", self.about_text())

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
        if self.library_pane is not None:
            self.library_pane.shutdown()  # no page of the catalogue is read once the library may close
        super().closeEvent(ev)

    def _edits_written(self, timeout: float) -> bool:
        """Wait (from any thread) until the edits handed to the edits lane so far are written."""
        return self.tasks.wait(self, lane="edits", timeout=timeout)


def _count(n: int, one: str, many: str | None = None) -> str:
    """``1 section``, ``3 sections`` (``many`` for an irregular plural)."""
    return f"{n} {one if n == 1 else many or one + 's'}"
