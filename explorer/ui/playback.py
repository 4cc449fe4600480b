"""Playback in the main window: regions, loops, choruses, previews, and what was heard of a song."""

from __future__ import annotations

from pathlib import Path

from explorer.library.listening import Listening
from explorer.ui.common import theme
from explorer.ui.song.decode_job import DecodeJob
from explorer.ui.song.time_axis import format_time
from explorer.ui.window_base import WindowBase


class Playback(WindowBase):
    """The main window's playback (a part of :class:`~explorer.ui.main_window.MainWindow`)."""

    def play_region(self, start: float, end: float, *, loop: bool | None = None) -> None:
        if self.song is None:
            return
        loop = self.act_loop.isChecked() if loop is None else loop
        self.player.play(self.song.buffer, start, end, loop=loop)
        self.structure.highlight((start, end))
        if self.settings.get("follow_playhead"):
            self.waveform.ensure_visible(
                start, min(end, start + max(self.waveform.view_range()[1] - self.waveform.view_range()[0], 1.0))
            )

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
                (s.start, s.end) for s in self.analysis.sections if s.function == "chorus"
            ]
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
                self._listening = Listening(self.song_path or "", self.song.buffer.duration)
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
        text = {
            1: f"Liked {name}: songs like it rank a little higher in For you and Blend.",
            -1: f"Disliked {name}: it leaves For you and Blend, and songs like it rank a little lower.",
            0: f"Forgot your rating of {name}.",
        }[rating]
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
            self.show_status(
                f"Selection {format_time(a, 1)}–{format_time(b, 1)} ({b - a:.1f} s): Space plays it, L loops it"
            )
