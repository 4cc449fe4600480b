"""The song on screen: opening it, the decoded songs kept for going back, and the order in which
its arrival is shown.

Opening a song starts a :class:`~explorer.ui.song.jobs.SongJob` tagged with a new request id; its
signals are dropped unless they carry the id of the latest request, so a slow old song can never
overwrite a newer one.  The audio arrives first (the waveform is drawn and can be played at once),
the analysis after it (or before it, straight from the cache).  What an arrival changes is shown
in steps, each in an event-loop turn of its own (:meth:`SongSession._later`).
"""

from __future__ import annotations

import gc
import os
from pathlib import Path

from PySide6.QtCore import QTimer

from explorer.analysis.types import Analysis
from explorer.audio.decode import AUDIO_EXTENSIONS
from explorer.ui import APP_NAME
from explorer.ui.song.jobs import SongAudio, SongJob
from explorer.ui.song.structure_edit import StructureState
from explorer.ui.song.warm_up import WarmUpJob
from explorer.ui.window_base import WindowBase

#: Decoded songs kept in memory, so that going back to one is instant.
RECENT_SONGS = 3


class SongSession(WindowBase):
    """The main window's song session (a part of :class:`~explorer.ui.main_window.MainWindow`)."""

    def open_paths(self, paths) -> None:
        """Open files and folders given on the command line or dropped: folders go to the library,
        the first file (or the first song of the first folder) is opened."""
        first = None
        folders = []
        for p in map(os.fspath, paths):
            if os.path.isdir(p):
                songs = sorted(
                    str(f) for f in Path(p).rglob("*") if f.suffix.lower() in AUDIO_EXTENSIONS and f.is_file()
                )
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
        # until its audio or its cached analysis arrives (not the last song's failure, nor empty axes)
        self.waveform.show_message(f"Opening {Path(path).name}…")
        self._show_song_name(path, self._song_name(path))
        self.info_label.setText("")
        audio = self._recent_audio(path)
        job = SongJob(
            rid,
            path,
            audio=audio,
            library=self.library,
            cache=self.cache,
            analyze=self.auto_analyze,
            edits_written=self._edits_written,
        )
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

    def _show_song_name(self, path: str, name: str) -> None:
        self.title_label.setText(name)
        self.title_label.setToolTip(f"{name}\n{path}")
        self.setWindowTitle(f"{name} — {APP_NAME}")

    def refresh_song_name(self) -> None:
        """Name the open song again as the library now does: a scan that lists the song (or reads new tags)
        after it was opened turns its file name in the header into "artist – title"."""
        path = self.song_path
        if path is None or (self.song is None and self._job is None):  # nothing open, or it failed to open
            return
        name = self._song_name(path)
        if name != self.title_label.text():
            self._show_song_name(path, name)

    def _song_name(self, path: str) -> str:
        """What the header calls a song: as the library and the sidebar do ("artist – title" from its
        tags), or its file name when the library does not list it."""
        track = self.library.track_by_path(path) if self.library is not None else None
        return track.display_name if track is not None else Path(path).name

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
                self.library_pane.set_progress(self.song_path or "", fraction)

    def _on_partial(self, rid: int, kind: str, value) -> None:
        if not self._current(rid):
            return
        if kind == "audio":
            self.song = value
            self.waveform.set_peaks(value.peaks)
            # the rest in the next turn: this turn already repaints the waveform
            self._later(self._audio_arrived, rid, value)
            return
        if kind == "automatic":
            sections, choruses, edited = value
            self._automatic = StructureState(sections, choruses, False)
            self._edited = edited
            return
        if kind == "analysis":
            # a turn of its own: a cached analysis arrives at once, in the turn that also repaints
            # for the song just opened
            self._later(self._analysis_arrived, rid, value)

    def _analysis_arrived(self, rid: int, analysis: Analysis) -> None:
        if self._current(rid) and analysis is not self.analysis:
            self.set_analysis(analysis)

    def _audio_arrived(self, rid: int, value: SongAudio) -> None:
        if not self._current(rid) or self.song is not value:
            return
        self._remember(value)
        self.settings.set("last_song", os.path.abspath(self.song_path or ""))  # opened: the song to come back to
        self.player.prepare(value.buffer)  # the first click then only slices the prepared buffer
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
        self.show_status(f"Opened {Path(self.song_path or '').name}")
        if self.library_pane is not None:
            self.library_pane.set_progress(self.song_path or "", None)
        self._later(self._finished, rid, analysis)  # after the partial results queued before it

    def _finished(self, rid: int, analysis) -> None:
        if analysis is not None:
            self._analysis_arrived(rid, analysis)  # (nothing to do when its partial result showed it)
        self._later(self._finish_job, rid)  # after the matrix (queued by set_analysis), one turn each

    def _finish_job(self, rid: int) -> None:
        if not self._current(rid):
            return
        self._job = None  # only now: "no job" means the song and everything about it is on screen
        if self.library_pane is not None and not self.library_pane.select_path(self.song_path or ""):
            self.library_pane.refresh()  # the song was just entered in the catalogue
        if self.sidebar is not None and self.analysis is not None:
            self.sidebar.set_current(self.song_path, self.analysis)
        self._update_actions()
        self.jobEnded.emit(rid)

    def _later(self, fn, *args) -> None:
        """Run ``fn(*args)`` in an event-loop turn of its own, after the work queued before it.

        What a song's arrival changes is shown in steps (song view, then matrix, then library
        pane and sidebar), each followed by its repaint, so that no single turn of the event loop
        adds them all up and the window stays responsive while a scan runs.  A 1 ms timer, not a
        posted call: timers run after the pending repaint.
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
            self.library_pane.set_progress(self.song_path or "", None)

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
        if key is None:
            return None
        audio = self._recent.get(key)
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


def _file_key(path: str | None) -> tuple | None:
    if not path:
        return None
    try:
        s = os.stat(path)
    except OSError:
        return None
    return (os.path.abspath(path), s.st_size, s.st_mtime_ns)
