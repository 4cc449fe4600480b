"""Decoding another song for a preview, as a background task."""

from __future__ import annotations

from explorer.audio.buffer import AudioBuffer
from explorer.ui.song.jobs import decode_song
from explorer.ui.tasks import Task


class DecodeJob(Task):
    """Decode a song to play a part of it (a preview from the sidebar); finishes with the buffer."""

    def __init__(self, request_id: int, path: str):
        super().__init__(request_id)
        self.path = path

    def work(self) -> AudioBuffer:
        return decode_song(self.path, lambda f: self.report(f, "decoding"), self.is_cancelled)
