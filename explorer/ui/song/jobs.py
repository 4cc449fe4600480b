"""Opening a song as a background task: hash, cached analysis, decode and peaks, analysis.
It runs through :mod:`explorer.ui.tasks`.

A :class:`SongJob` emits ``partial`` results before it ends: a song's audio before its analysis,
a cached analysis before the audio.  Inputs are immutable (paths,
:class:`~explorer.audio.buffer.AudioBuffer`) and so are results.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from explorer.audio.buffer import AudioBuffer
from explorer.audio.peaks import PeakPyramid, build_peaks
from explorer.services import analysis_helper as analysis_process
from explorer.services.analyze import with_library
from explorer.ui.tasks import Task

#: Longest wait (s) for edits still being written before a song's edits are read anyway.
EDITS_WAIT = 10.0


@dataclass(frozen=True, eq=False)
class SongAudio:
    """A decoded song, its peak pyramid and the hash of its file's bytes (the key of its cache and edits)."""

    buffer: AudioBuffer
    peaks: PeakPyramid
    content_hash: str | None = None


class SongJob(Task):
    """Open a song: hash → cached analysis (if any) → decode + peaks → analysis.

    Emits ``partial(rid, "automatic", (sections, choruses, edited))`` before each analysis (see
    :meth:`_with_edits`), ``partial(rid, "analysis", Analysis)`` first when the cache knows the song (so its
    structure is on screen before the audio is decoded), ``partial(rid, "audio", SongAudio)`` as
    soon as the audio is ready, and finally ``finished(rid, Analysis)``.  With ``audio`` given
    (the window still holds the song), decoding is skipped.  With a ``library``, the user's edited
    sections replace the automatic ones and the song is entered in the catalogue.  ``cache`` None
    means the user's default analysis cache.
    """

    #: Share of the progress bar that decoding takes.
    DECODE_SHARE = 0.3

    def __init__(
        self,
        request_id: int,
        path: str,
        *,
        audio: SongAudio | None = None,
        library=None,
        cache=None,
        analyze: bool = True,
        edits_written: Callable[[float], object] | None = None,
    ):
        super().__init__(request_id)
        self.edits_written = edits_written
        self.path = path
        self.audio = audio
        self.library = library
        self.cache = cache
        self.analyze = analyze

    def work(self):
        from explorer.audio.decode import check_file
        from explorer.library.cache import content_hash

        check_file(self.path)
        audio = self.audio
        h = audio.content_hash if audio is not None else content_hash(self.path)
        if self.cache is None:  # made here, not in the GUI thread: it reads the model manifest
            from explorer.library.cache import default_cache

            self.cache = default_cache()
        analysis = None
        if self.library is not None and self.edits_written is not None:
            self.edits_written(EDITS_WAIT)  # an edit made just before is read back, not the one before it
        if self.analyze:
            analysis = self.cache.lookup(h)
            if analysis is not None:
                analysis = self._with_edits(analysis.replace(file=self.path), h)
                self.send("analysis", analysis)
        if audio is None:
            self.report(0.0, "decoding")
            buffer = decode_song(self.path, lambda f: self.report(f * self.DECODE_SHARE, "decoding"), self.is_cancelled)
            self.check()
            audio = SongAudio(buffer, build_peaks(buffer), h)
        self.send("audio", audio)
        if not self.analyze:
            return None
        if analysis is None:
            self.check()
            self.report(self.DECODE_SHARE, "analysing")
            share = 1.0 - self.DECODE_SHARE
            # in the helper process (it decodes the file itself, at the analysis rate), so that
            # the analysis never holds this process' GIL; it fills the cache as before
            analysis = analysis_process.analyse(
                self.path,
                content_hash=h,
                cache=self.cache,
                progress=lambda f, stage: self.report(self.DECODE_SHARE + share * f, stage),
                cancelled=self.is_cancelled,
            )
            self.check()
            analysis = self._with_edits(analysis, h)
        if self.library is not None:
            track = self.library.add_or_update_file(self.path, content_hash=h)
            self.library.record_analysis(track.id, analysis, h)
        self.report(1.0, "done")
        return analysis

    def _with_edits(self, analysis, h):
        """``analysis`` as the library has it (:func:`~explorer.services.analyze.with_library`: the user's
        edited sections, the library's own genre model); first emits ``partial(rid, "automatic", (sections,
        choruses, edited))``: what the analysis found, to revert to, and whether the user's edits replace it."""
        result = with_library(analysis, h, self.library)
        self.send("automatic", (analysis.sections, analysis.choruses, result.sections is not analysis.sections))
        return result


def decode_song(path, progress, cancel) -> AudioBuffer:
    from explorer.audio.decode import decode

    return decode(path, progress=progress, cancel=cancel)
