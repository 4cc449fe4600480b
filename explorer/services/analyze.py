"""Analyse a song — structure + genre + embedding — through the cache: the one service that does it.

The CLI (``analyze``, ``recommend`` for a file outside the library), the scanner's worker processes
and the window's analysis helper process all call :func:`analyze_path`, so a song analysed by any of
them is instant for the others.  It is the one place that looks the song up in the analysis cache,
decodes it, joins :func:`explorer.analysis.pipeline.analyze` and :func:`explorer.genre.model.describe`,
and applies the user's edited sections (kept in the library).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

from explorer.analysis.types import Analysis
from explorer.audio.buffer import AudioBuffer
from explorer.errors import Cancelled, ExplorerError

ProgressFn = Callable[[float, str], None]
CancelFn = Callable[[], bool]
#: Called with ``"decode"`` before the file is decoded and ``"analyse"`` after; raises to stop (the
#: scanner checks there that the file did not change under it).
GuardFn = Callable[[str], None]

#: Share of the progress bar given to decoding in :func:`analyze_path`, and to the genre model at the end.
DECODE_SHARE = 0.15
GENRE_SHARE = 0.15


def _scaled(progress: ProgressFn | None, lo: float, hi: float) -> ProgressFn | None:
    if progress is None:
        return None
    return lambda frac, stage: progress(lo + (hi - lo) * min(1.0, max(0.0, frac)), stage)


def with_library(result: Analysis, content_hash: str | None, library) -> Analysis:
    """The one place where the library has its say: the user's edited sections replace the automatic
    ones, and the library's own genre model (:mod:`explorer.library.genre_model`), when it has one,
    names the genre."""
    if library is None:
        return result
    if content_hash:
        result = library.apply_edits(result, content_hash)
    from explorer.library.genre_model import relabeller

    return relabeller(library)(result)


def analyze_buffer(
    buffer: AudioBuffer,
    *,
    content_hash: str | None = None,
    cache=None,
    library=None,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> Analysis:
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
        When given, the user's edited sections for this song replace the automatic ones.
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
        result = _compute(buffer, content_hash=content_hash, cache=cache, progress=progress, cancel=cancel)
    if progress is not None:
        progress(1.0, "done")
    return with_library(result, content_hash, library)


def _compute(
    buffer: AudioBuffer, *, content_hash: str | None, cache, progress: ProgressFn | None, cancel: CancelFn | None
) -> Analysis:
    """Analyse ``buffer`` (no cache lookup) and store the result in ``cache`` under ``content_hash``."""
    from explorer.analysis.pipeline import analyze
    from explorer.genre.model import describe, load_models

    structure_progress = _scaled(progress, 0.0, 1.0 - GENRE_SHARE)
    try:
        # the genre networks run in onnxruntime, which releases the GIL: beside the structure stages
        # when the process may use more than one core (a scan worker loads them with one thread)
        beside = load_models().networks.threads > 1 and (os.cpu_count() or 1) > 1
    except ExplorerError:  # a missing or damaged model: describe() below says so, after the structure
        beside = False
    if beside:
        result, desc = _structure_beside_genre(buffer, progress=structure_progress, cancel=cancel)
    else:
        # the structure asks for the vocal score of a song that repeats loosely: the description is
        # then made first, and once
        made: dict = {}

        def voice():
            made["desc"] = describe(buffer, cancel=cancel)
            return made["desc"].vocal

        result = analyze(buffer, progress=structure_progress, cancel=cancel, voice=voice)
        if cancel is not None and cancel():
            raise Cancelled(f"{buffer.path}: analysis cancelled", path=buffer.path)
        if progress is not None:
            progress(1.0 - GENRE_SHARE, "genre")
        desc = made["desc"] if "desc" in made else describe(buffer)
    result = result.replace(genre=desc.genre, embedding=desc.embedding)
    src = buffer.source
    if src.sample_rate and src.channels:  # a buffer decoded at the analysis rate, in mono: name the file's own
        result = result.replace(sample_rate=src.sample_rate, channels=src.channels)
    if cache is not None and content_hash:
        cache.store(content_hash, result)
    return result


def _structure_beside_genre(buffer: AudioBuffer, *, progress: ProgressFn | None, cancel: CancelFn | None):
    """(:func:`~explorer.analysis.pipeline.analyze`, :func:`~explorer.genre.model.describe`) of ``buffer``, the
    description computed in a second thread; an exception of either is raised once both have stopped.

    The structure waits for the description only when it asks for the song's vocal score (a song that
    repeats loosely); a description that failed gives no score, and its error is raised afterwards."""
    from explorer.analysis.pipeline import analyze
    from explorer.genre.model import describe

    stop = threading.Event()
    ready = threading.Event()
    outcome: dict = {}

    def genre():
        try:
            outcome["desc"] = describe(buffer, cancel=lambda: stop.is_set() or (cancel is not None and cancel()))
        except BaseException as e:  # noqa: BLE001 - handed to the calling thread
            outcome["error"] = e
        finally:
            ready.set()

    def voice():
        while not ready.wait(0.05):
            if cancel is not None and cancel():
                raise Cancelled(f"{buffer.path}: analysis cancelled", path=buffer.path)
        desc = outcome.get("desc")
        return None if desc is None else desc.vocal

    worker = threading.Thread(target=genre, name="genre", daemon=True)
    worker.start()
    try:
        result = analyze(buffer, progress=progress, cancel=cancel, voice=voice)
        if progress is not None and worker.is_alive():
            progress(1.0 - GENRE_SHARE, "genre")
    except BaseException:
        stop.set()  # the structure failed or was cancelled: the genre is not wanted either
        raise
    finally:
        worker.join()
    if "error" in outcome:
        raise outcome["error"]
    return result, outcome["desc"]


def _preload() -> None:
    """Import the analysis and load the genre models (what :func:`_compute` needs first), errors ignored."""
    try:
        import explorer.analysis.pipeline  # noqa: F401
        from explorer.genre.model import load_models

        load_models()
    except Exception:  # noqa: BLE001, S110 - only a head start: _compute meets the same error and reports it
        pass


def analyze_path(
    path: str | os.PathLike,
    *,
    content_hash: str | None = None,
    cache=None,
    library=None,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    guard: GuardFn | None = None,
) -> Analysis:
    """Like :func:`analyze_buffer` for a file; a cache hit returns without decoding.

    The file is decoded straight to what the analysis uses (the mono mix at its rate): nothing here
    plays it, and ffmpeg does that far more cheaply than converting a full decode here.

    Parameters
    ----------
    guard : callable(stage) or None
        Called with ``"decode"`` before decoding and ``"analyse"`` after it (never on a cache hit);
        whatever it raises ends the analysis.

    Raises
    ------
    FileMissing, EmptyAudio, UnsupportedFormat, DecodeError, TooLong, Cancelled
    """
    from explorer.analysis.features import SR
    from explorer.audio.decode import check_file, decode
    from explorer.library.cache import content_hash as hash_file

    if content_hash is None:
        path = check_file(path)
        if cache is not None or library is not None:
            content_hash = hash_file(path)
    else:  # the caller hashed the file: a cache hit needs nothing else of it (decode checks it again)
        path = os.fspath(path)
    hit = cache.lookup(content_hash) if cache is not None and content_hash else None
    if hit is not None:
        if progress is not None:
            progress(1.0, "done")
        return with_library(hit.replace(file=path), content_hash, library)
    if guard is not None:
        guard("decode")
    dec_progress = None if progress is None else (lambda f: progress(DECODE_SHARE * f, "decode"))
    # ffmpeg decodes in its own process while this one mostly waits for its output: meanwhile a thread
    # imports the analysis and loads the genre networks
    preload = threading.Thread(target=_preload, name="preload", daemon=True)
    preload.start()
    try:
        buffer = decode(path, progress=dec_progress, cancel=cancel, sr=SR, mono=True)
    except Cancelled:
        raise
    except BaseException:
        preload.join()  # a process about to end on this error must not end in the middle of an import
        raise
    if guard is not None:
        guard("analyse")
    result = _compute(
        buffer, content_hash=content_hash, cache=cache, progress=_scaled(progress, DECODE_SHARE, 1.0), cancel=cancel
    )
    if progress is not None:
        progress(1.0, "done")
    return with_library(result, content_hash, library)
