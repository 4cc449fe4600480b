"""The library's genre model: trained on its own tags, chosen per library, applied to its songs.

The pure part (fitting, grouped cross-validation, the model file) is :mod:`explorer.genre.own`; this
module joins it to the catalogue: :func:`gather` reads the tagged, analysed songs' embeddings,
:func:`train` evaluates and fits, :func:`use` records which model the library uses — a small JSON file
beside the database (:func:`choice_path`), ``{"model": PATH}`` or ``{"model": null}`` for the shipped
model — and relabels every analysed song; :func:`relabeller` gives scans and the window the function
that names a new song's genre with the library's model.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from explorer.errors import ExplorerError
from explorer.genre.own import (
    MIN_SONGS_PER_GENRE,
    OwnModel,
    ProgressFn,
    Report,
    Songs,
    check_enough,
    cross_validate,
    fit_own_model,
    normalise_tag,
)


def gather(library) -> Songs:
    """The library's analysed songs that carry a genre tag and an embedding (genres with fewer than
    :data:`MIN_SONGS_PER_GENRE` songs are counted in ``left_out``)."""
    rows = library.index_rows()  # (id, hash, artist, tempo, genre_tag, labels, genre, embedding)
    items = []
    sizes = [len(r[7]) for r in rows if r[7]]
    d = max(set(sizes), key=sizes.count) if sizes else 0
    paths = {t.id: t.path for t in library.tracks()} if rows else {}
    for tid, _h, artist, _tempo, tag, _labels, _genre, emb in rows:
        genre = normalise_tag(tag or "")
        if not genre or not emb or len(emb) != d:
            continue
        group = (artist or "").strip().lower() or f"path:{paths.get(tid, tid)}"
        items.append((tid, np.frombuffer(emb, np.float32), genre, group))
    counts: dict[str, int] = {}
    for it in items:
        counts[it[2]] = counts.get(it[2], 0) + 1
    left_out = {g: n for g, n in sorted(counts.items()) if n < MIN_SONGS_PER_GENRE}
    items = [it for it in items if it[2] not in left_out]
    X = np.array([it[1] for it in items], np.float64).reshape(len(items), d // 4)
    return Songs([it[0] for it in items], X, [it[2] for it in items], [it[3] for it in items], left_out)


def train(library, *, progress: ProgressFn | None = None) -> tuple[OwnModel, Report]:
    """Gather the library's tagged songs, cross-validate grouped by artist, fit the final model.

    Raises
    ------
    NotEnoughSongs
        Fewer songs, genres or artists than :data:`~explorer.genre.own.RULE` asks.
    """
    from explorer.genre.model import EMBEDDING_VERSION

    songs = gather(library)
    check_enough(songs)
    report, _ = cross_validate(songs, progress=progress)
    if progress is not None:
        progress(0.95, "fitting the model on every song")
    model = fit_own_model(songs, report, embedding_version=EMBEDDING_VERSION)
    if progress is not None:
        progress(1.0, "done")
    return model, report


def default_model_path(library) -> Path:
    """Where ``genre train`` saves by default: ``genre-model.npz`` beside the library database."""
    return Path(library.path).with_name("genre-model.npz")


# -- which model a library uses ----------------------------------------------------------------


def choice_path(library) -> Path:
    """The small JSON file that names the library's genre model: ``<db file name>-genre-model.json``."""
    p = Path(library.path)
    return p.with_name(p.name + "-genre-model.json")


def chosen_path(library) -> Path | None:
    """The model file the library uses, or None for the shipped model."""
    try:
        doc = json.loads(choice_path(library).read_text(encoding="utf-8"))
        return Path(doc["model"]) if doc.get("model") else None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def active_model(library) -> OwnModel | None:
    """The library's own genre model, or None when it uses the shipped one (or has none)."""
    if library is None:
        return None
    path = chosen_path(library)
    return None if path is None else OwnModel.load(path)


def use(library, model_path: str | os.PathLike | None, *, progress: ProgressFn | None = None) -> int:
    """Make the library use the model at ``model_path`` (None: the shipped model) and relabel its songs.

    Returns the number of songs relabelled.
    """
    from explorer.util.fs import atomic_write_text

    model = None
    if model_path is not None:
        model_path = Path(model_path).resolve()
        model = OwnModel.load(model_path)
        check_compatible(model)
    n = relabel_library(library, model, progress=progress)
    atomic_write_text(
        choice_path(library),
        json.dumps({"model": None if model_path is None else str(model_path)}) + "\n",
        overwrite=True,
    )
    return n


def check_compatible(model: OwnModel) -> None:
    """Refuse a model trained on the embeddings of other shipped networks (they would mean something else)."""
    from explorer.genre.model import EMBEDDING_VERSION, LEGACY_EMBEDDING_VERSIONS

    version = LEGACY_EMBEDDING_VERSIONS.get(model.embedding_version, model.embedding_version)
    if version != EMBEDDING_VERSION:
        raise ExplorerError(
            "the genre model was trained on sound embeddings of another version of the shipped "
            "models; "
            "train it again (music-explorer genre train)"
        )


def relabel(analysis, model: OwnModel | None):
    """``analysis`` with its genre from ``model`` (unchanged when None or without an embedding)."""
    if model is None or analysis is None or analysis.embedding is None:
        return analysis
    return analysis.replace(genre=model.genre(analysis.embedding))


def relabeller(library) -> Callable:
    """A function that relabels an analysis with the library's own model; identity with the shipped model.

    A model that cannot be read (moved, damaged) is ignored here: the shipped model's labels stand.
    """
    try:
        model = active_model(library)
        if model is not None:
            check_compatible(model)
    except ExplorerError:
        model = None
    return lambda analysis: relabel(analysis, model)


def relabel_library(library, model: OwnModel | None, *, progress: ProgressFn | None = None) -> int:
    """Give every analysed song of the library the genre of ``model`` (None: the shipped model's, read
    back from the analysis cache; a song no longer in the cache loses its genre and is analysed again
    by the next scan).  Returns how many songs were relabelled."""
    ids, X = library.embeddings()
    if len(ids) == 0:
        return 0
    updates = []
    if model is not None:
        P = model.probabilities(X)
        for tid, p in zip(ids.tolist(), P):
            updates.append((tid, model.genres[int(np.argmax(p))], {g: float(v) for g, v in zip(model.genres, p)}))
    else:
        misses = []
        for i, tid in enumerate(ids.tolist()):
            hit = library.analysis(tid)
            if hit is not None and hit.genre.label:
                updates.append((tid, hit.genre.label, dict(hit.genre.probabilities)))
            else:
                misses.append(tid)
            if progress is not None and i % 50 == 0:
                progress(i / len(ids), "relabelling")
        library.set_genres(updates + [(tid, None, {}) for tid in misses])
        library.mark_pending(misses)
        return len(updates)
    library.set_genres(updates)
    return len(updates)


def genre_namer(library) -> Callable[[str | None, dict[str, float]], tuple[str, str]]:
    """How the window names genres, as a function of a song's label and probabilities returning the text and
    what its tooltip adds: the label, or ``uncertain genre`` when the model in use is not confident enough
    (see :mod:`explorer.genre.calibration`), its best guess then in the tooltip.  The library's model and the
    shipped calibration are read once, for a caller that names many songs (the library's table)."""
    from explorer.genre.calibration import assess, shipped_calibration

    try:
        own = active_model(library)
    except ExplorerError:
        own = None
    calibration = shipped_calibration()

    def name(label: str | None, probabilities: dict[str, float]) -> tuple[str, str]:
        verdict = assess(probabilities, own_model=own, calibration=calibration)
        if not verdict.uncertain:
            return label or "", ""
        return f"{verdict.label} genre", f"The genre model is not sure of this song; its best guess is {verdict.best}."

    return name


def genre_text(genre, library) -> tuple[str, str]:
    """How the window names a song's genre, and what its tooltip adds (see :func:`genre_namer`); the song's
    header is one line beside its title, which must stay whole, hence the guess in the tooltip."""
    return genre_namer(library)(genre.label, genre.probabilities)


def current_genre(library, path: str):
    """The genre the library now gives the song at ``path`` (after a change of model), or None."""
    from explorer.analysis.types import Genre

    track = library.track_by_path(path) if library is not None and path else None
    if track is None or not track.genre_label:
        return None
    return Genre(track.genre_label, track.genre_probabilities)
