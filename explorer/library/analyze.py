"""Compose the whole analysis of a song — structure + genre + embedding — through the cache.

The one place that joins :func:`explorer.analysis.pipeline.analyze` and
:func:`explorer.genre.model.describe`; the CLI, the window and the library scanner all call it,
so a song analysed by any of them is instant for the others.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from explorer.analysis.types import Analysis
from explorer.audio.buffer import AudioBuffer
from explorer.errors import Cancelled

ProgressFn = Callable[[float, str], None]
CancelFn = Callable[[], bool]

#: Share of the progress bar given to decoding in :func:`analyze_path`, and to the genre model at the end.
DECODE_SHARE = 0.15
GENRE_SHARE = 0.15


def _scaled(progress: ProgressFn | None, lo: float, hi: float) -> ProgressFn | None:
    if progress is None:
        return None
    return lambda frac, stage: progress(lo + (hi - lo) * min(1.0, max(0.0, frac)), stage)


def analyze_buffer(buffer: AudioBuffer, *, content_hash: str | None = None, cache=None, library=None,
                   progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> Analysis:
    """Structure, genre and embedding of a decoded song.

    Parameters
    ----------
    buffer : AudioBuffer
    content_hash : str or None
        :func:`~explorer.library.cache.content_hash` of the file the buffer came from; needed to
        use the cache and the user's edits (computed from ``buffer.path`` when None and a cache is given).
    cache : AnalysisCache or None
        Looked up first and filled afterwards; None computes without caching.
    library : Library or None
        When given, the user's edited sections for this song replace the automatic ones, and the
        library's own genre model (:mod:`explorer.library.genre_model`) names its genre.
    progress : callable(fraction, stage) or None
    cancel : callable() -> bool or None
        Polled between stages; :class:`~explorer.errors.Cancelled` is raised when it returns True.

    Returns
    -------
    Analysis
        With ``genre`` and ``embedding`` filled.
    """
    from explorer.library.cache import content_hash as hash_file

    if content_hash is None and cache is not None and buffer.path and os.path.isfile(buffer.path):
        content_hash = hash_file(buffer.path)
    result = cache.lookup(content_hash) if cache is not None and content_hash else None
    if result is not None:
        result = result.replace(file=buffer.path)
    else:
        result = _compute(buffer, progress=progress, cancel=cancel)
        if cache is not None and content_hash:
            cache.store(content_hash, result)
    if progress is not None:
        progress(1.0, "done")
    if library is not None and content_hash:
        result = library.apply_edits(result, content_hash)
    if library is not None:  # the library's own genre model, when it has one
        from explorer.library.genre_model import relabeller

        result = relabeller(library)(result)
    return result


def _compute(buffer: AudioBuffer, *, progress: ProgressFn | None, cancel: CancelFn | None) -> Analysis:
    from explorer.analysis.pipeline import analyze
    from explorer.genre.model import describe

    result = analyze(buffer, progress=_scaled(progress, 0.0, 1.0 - GENRE_SHARE), cancel=cancel)
    if cancel is not None and cancel():
        raise Cancelled(f"{buffer.path}: analysis cancelled", path=buffer.path)
    if progress is not None:
        progress(1.0 - GENRE_SHARE, "genre")
    desc = describe(buffer)
    result = result.replace(genre=desc.genre, embedding=desc.embedding)
    src = buffer.source
    if src.sample_rate and src.channels:  # a buffer decoded at the analysis rate, in mono: name the file's own
        result = result.replace(sample_rate=src.sample_rate, channels=src.channels)
    return result


def analyze_path(path: str | os.PathLike, *, content_hash: str | None = None, cache=None, library=None,
                 progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> Analysis:
    """Like :func:`analyze_buffer` for a file; a cache hit returns without decoding.

    Raises
    ------
    FileMissing, EmptyAudio, UnsupportedFormat, DecodeError, TooLong, Cancelled
    """
    from explorer.analysis.features import SR
    from explorer.audio.decode import check_file, decode
    from explorer.library.cache import content_hash as hash_file

    path = check_file(path)
    if cache is not None or library is not None:
        content_hash = content_hash or hash_file(path)
    if cache is not None:
        hit = cache.lookup(content_hash)
        if hit is not None:
            if progress is not None:
                progress(1.0, "done")
            hit = hit.replace(file=path)
            if library is None:
                return hit
            from explorer.library.genre_model import relabeller

            return relabeller(library)(library.apply_edits(hit, content_hash))
    dec_progress = None if progress is None else (lambda f: progress(DECODE_SHARE * f, "decode"))
    # nothing here plays the audio: decode straight to what the analysis uses (mono at its rate)
    buffer = decode(path, progress=dec_progress, cancel=cancel, sr=SR, mono=True)
    return analyze_buffer(buffer, content_hash=content_hash, cache=cache, library=library,
                          progress=_scaled(progress, DECODE_SHARE, 1.0), cancel=cancel)
