"""A genre model trained on the user's own genre tags, evaluated with artists kept apart (pure: numpy, scikit-learn).

How it works
------------
The library already holds, for every analysed song, its sound embedding (400 float32 numbers,
:attr:`explorer.genre.model.TrackDescription.embedding`).  Given the embeddings of the songs whose
files carry a genre tag (:class:`Songs`, gathered by :mod:`explorer.library.genre_model`),
:func:`check_enough` says whether they are enough to learn from (:data:`RULE`), :func:`cross_validate`
measures how well a logistic regression on the embeddings names the genre of songs *by artists it has
not seen* (scikit-learn's ``StratifiedGroupKFold``, grouped by artist), and :func:`fit_own_model` fits
the model on every song.  The out-of-fold probabilities also fit a temperature (calibration) and the
confidence below which a song is called :data:`UNCERTAIN`.

The model is data: an ``.npz`` file read with ``allow_pickle=False`` (the classifier's arrays, the
temperature, the threshold, the version of the embeddings it was trained on); its evaluation report
is JSON next to it (:func:`report_path`).
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from explorer.errors import ExplorerError
from explorer.genre.classifier import LinearClassifier

#: A genre is learnt only from at least this many tagged, analysed songs …
MIN_SONGS_PER_GENRE = 5
#: … and a model needs at least this many such genres …
MIN_GENRES = 2
#: … and songs by at least this many different artists (the cross-validation keeps artists apart).
MIN_ARTISTS = 3
#: Folds of the grouped cross-validation (fewer when there are fewer artists).
FOLDS = 5
#: Inverse regularisation strength of the logistic regression.
C = 0.5
#: What a song whose best genre is below the model's threshold is called.
UNCERTAIN = "uncertain"
#: The rule, as told when there are too few songs.
RULE = (
    f"at least {MIN_GENRES} genres with {MIN_SONGS_PER_GENRE} or more tagged, analysed songs each, "
    f"by at least {MIN_ARTISTS} different artists"
)

ProgressFn = Callable[[float, str], None]


class NotEnoughSongs(ExplorerError):
    """The library has too few tagged, analysed songs (or genres, or artists) to train on."""


@dataclass(frozen=True)
class Songs:
    """Training material: one row per tagged, analysed song.

    Attributes
    ----------
    ids : list of int [shape=(n,)]
    X : np.ndarray [shape=(n, d)]
        The songs' embeddings.
    genres : list of str [shape=(n,)]
        Their genre tags (normalised: lower case, stripped).
    artists : list of str [shape=(n,)]
        The group of each song: its artist, or its own path when the file names no artist.
    left_out : dict of str → int
        Genres with too few songs, and how many they had.
    """

    ids: list[int]
    X: np.ndarray
    genres: list[str]
    artists: list[str]
    left_out: dict[str, int] = field(default_factory=dict)


def normalise_tag(tag: str) -> str:
    """The genre a tag names: the first of several (``Rock; Pop`` → ``rock``), lower case, spaces tidied."""
    for sep in (";", "/", ",", "\x00"):
        tag = tag.split(sep)[0]
    return " ".join(tag.strip().lower().split())


def check_enough(songs: Songs) -> None:
    """Raise :class:`NotEnoughSongs` (one line, with the rule) unless ``songs`` meet :data:`RULE`."""
    genres = sorted(set(songs.genres))
    artists = len(set(songs.artists))
    if len(genres) < MIN_GENRES or artists < MIN_ARTISTS:
        have = f"{len(songs.genres)} usable songs in {len(genres)} genre{'s' if len(genres) != 1 else ''}"
        if songs.genres:
            have += f" by {artists} artist{'s' if artists != 1 else ''}"
        if songs.left_out:
            have += "; too few songs in " + ", ".join(f"{g} ({n})" for g, n in songs.left_out.items())
        raise NotEnoughSongs(f"too few songs to train a genre model: it needs {RULE} (the library has {have})")


@dataclass(frozen=True)
class Report:
    """How well a model names the genre of songs by artists it was not trained on.

    Attributes
    ----------
    genres : list of str
        The classes, in the order of the matrix.
    accuracy : float
        Share of songs whose out-of-fold prediction is their tag.
    per_genre : dict of str → {"precision", "recall", "f1", "support"}
    confusion : list of list of int [shape=(n_genres, n_genres)]
        ``confusion[i][j]``: songs tagged ``genres[i]`` predicted as ``genres[j]``.
    songs, artists, folds : int
    left_out : dict of str → int
        Genres not learnt (too few songs).
    temperature, threshold : float
        The calibration fitted on the out-of-fold probabilities.
    uncertain_share : float
        Share of songs whose calibrated top probability is below the threshold.
    """

    genres: list[str]
    accuracy: float
    per_genre: dict[str, dict[str, float]]
    confusion: list[list[int]]
    songs: int
    artists: int
    folds: int
    left_out: dict[str, int]
    temperature: float
    threshold: float
    uncertain_share: float

    def to_dict(self) -> dict:
        return {
            "genres": list(self.genres),
            "accuracy": round(self.accuracy, 4),
            "per_genre": {
                g: {k: (round(v, 4) if k != "support" else int(v)) for k, v in d.items()}
                for g, d in self.per_genre.items()
            },
            "confusion": [list(map(int, row)) for row in self.confusion],
            "songs": self.songs,
            "artists": self.artists,
            "folds": self.folds,
            "left_out": dict(self.left_out),
            "temperature": round(self.temperature, 4),
            "threshold": round(self.threshold, 4),
            "uncertain_share": round(self.uncertain_share, 4),
            "rule": RULE,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Report:
        return cls(
            list(d["genres"]),
            float(d["accuracy"]),
            {g: dict(v) for g, v in d["per_genre"].items()},
            [list(map(int, row)) for row in d["confusion"]],
            int(d["songs"]),
            int(d["artists"]),
            int(d["folds"]),
            dict(d.get("left_out", {})),
            float(d.get("temperature", 1.0)),
            float(d.get("threshold", 0.0)),
            float(d.get("uncertain_share", 0.0)),
        )

    def text(self) -> str:
        """The report as a few lines of text: accuracy, a per-genre table and the confusion matrix."""
        lines = [
            (
                f"accuracy {self.accuracy:.3f} on {self.songs} songs by {self.artists} artists "
                f"({self.folds}-fold cross-validation, artists kept apart)"
            )
        ]
        if self.left_out:
            lines.append("left out (too few songs): " + ", ".join(f"{g} ({n})" for g, n in self.left_out.items()))
        w = max(8, *(len(g) for g in self.genres))
        lines.append(f"{'genre':<{w}} {'precision':>9} {'recall':>7} {'F1':>5} {'songs':>5}")
        for g in self.genres:
            d = self.per_genre[g]
            lines.append(f"{g:<{w}} {d['precision']:>9.2f} {d['recall']:>7.2f} {d['f1']:>5.2f} {int(d['support']):>5}")
        lines.append("confusion matrix (rows: tag, columns: predicted)")
        cw = max(5, *(len(g) for g in self.genres))
        lines.append(" " * w + " " + " ".join(f"{g[:cw]:>{cw}}" for g in self.genres))
        for g, row in zip(self.genres, self.confusion):
            lines.append(f"{g:<{w}} " + " ".join(f"{n:>{cw}}" for n in row))
        lines.append(
            f"calibration: temperature {self.temperature:.2f}; below {self.threshold:.2f} a song is "
            f'"{UNCERTAIN}" ({self.uncertain_share:.0%} of these songs)'
        )
        return "\n".join(lines)


def fit_classifier(X: np.ndarray, y: Sequence[str], classes: Sequence[str], *, C: float = C) -> LinearClassifier:
    """A logistic regression over ``classes`` fitted on the rows of ``X`` [shape=(n, d)] that carry them.

    Classes absent from ``y`` (a fold without them) get a very low intercept and never win.
    """
    from explorer.genre.classifier import fit

    present = [c for c in classes if c in set(y)]
    if len(present) == 1:
        mean, scale = X.mean(axis=0), np.ones(X.shape[1])
        coef = np.zeros((len(classes), X.shape[1]))
        intercept = np.array([0.0 if c == present[0] else -30.0 for c in classes])
        return LinearClassifier(tuple(classes), mean, scale, coef, intercept)
    clf = fit(X, y, classes=present, C=C)
    coef = np.zeros((len(classes), X.shape[1]))
    intercept = np.full(len(classes), -30.0)
    for i, c in enumerate(present):
        j = list(classes).index(c)
        coef[j], intercept[j] = clf.coef[i], clf.intercept[i]
    return LinearClassifier(tuple(classes), clf.mean, clf.scale, coef, intercept)


def temperature_scale(p: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities ``p`` [shape=(..., k)] sharpened (T < 1) or softened (T > 1): ``p^(1/T)``, renormalised."""
    logp = np.log(np.clip(np.asarray(p, np.float64), 1e-12, 1.0)) / float(temperature)
    logp -= logp.max(axis=-1, keepdims=True)
    q = np.exp(logp)
    return q / q.sum(axis=-1, keepdims=True)


def fit_temperature(p: np.ndarray, y: np.ndarray, *, lowest: float = 0.25) -> float:
    """The temperature (``lowest`` … 8, log-spaced grid) that minimises the negative log-likelihood of the
    true classes ``y`` [shape=(n,), int] under ``p`` [shape=(n, k)].

    ``lowest`` = 1 only ever softens: a sharpening fitted on the model's own genres would make songs
    from outside them look surer too.
    """
    grid = np.exp(np.linspace(np.log(0.25), np.log(8.0), 61))
    grid = np.append(grid[grid >= lowest], lowest) if lowest > 0.25 else grid
    nll = [-np.mean(np.log(np.clip(temperature_scale(p, t)[np.arange(len(y)), y], 1e-12, 1.0))) for t in grid]
    return float(grid[int(np.argmin(nll))])


def fit_threshold(top: np.ndarray, correct: np.ndarray, *, floor: float) -> float:
    """The confidence below which a prediction is more often wrong than right.

    The largest candidate ``t`` (the songs' own top probabilities) such that the songs with top
    probability below ``t`` are right at most half the time; ``floor`` (e.g. the chance level
    plus a margin) when none is.
    """
    order = np.argsort(top)
    top, correct = np.asarray(top)[order], np.asarray(correct, float)[order]
    best = floor
    for i in range(1, len(top) + 1):
        if correct[:i].mean() <= 0.5:
            best = max(best, float(top[i - 1]) + 1e-6)
    return float(min(best, 0.95))


def cross_validate(
    songs: Songs, *, folds: int = FOLDS, progress: ProgressFn | None = None, seed: int = 0
) -> tuple[Report, np.ndarray]:
    """Out-of-fold predictions of every song from models that never saw its artist.

    Returns
    -------
    report : Report
    probabilities : np.ndarray [shape=(n, n_genres)]
        Out-of-fold probabilities (uncalibrated), columns in the order of ``report.genres``.
    """
    from sklearn.model_selection import StratifiedGroupKFold

    check_enough(songs)
    genres = sorted(set(songs.genres))
    y = np.array([genres.index(g) for g in songs.genres])
    groups = np.array(songs.artists)
    n_folds = max(2, min(folds, len(set(groups))))
    splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    P = np.zeros((len(y), len(genres)))
    for k, (train, test) in enumerate(splitter.split(songs.X, y, groups)):
        if progress is not None:
            progress(k / (n_folds + 1), f"fold {k + 1} of {n_folds}")
        clf = fit_classifier(songs.X[train], [genres[i] for i in y[train]], genres)
        P[test] = clf.predict_proba(songs.X[test])
    pred = P.argmax(axis=1)
    confusion = np.zeros((len(genres), len(genres)), int)
    np.add.at(confusion, (y, pred), 1)
    per_genre = {}
    for i, g in enumerate(genres):
        tp = confusion[i, i]
        precision = tp / confusion[:, i].sum() if confusion[:, i].sum() else 0.0
        recall = tp / confusion[i].sum() if confusion[i].sum() else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_genre[g] = {
            "precision": float(precision),
            "recall": float(recall),
            "f1": float(f1),
            "support": int(confusion[i].sum()),
        }
    temperature = fit_temperature(P, y)
    Q = temperature_scale(P, temperature)
    top = Q.max(axis=1)
    threshold = fit_threshold(top, Q.argmax(axis=1) == y, floor=min(0.9, 1.0 / len(genres) + 0.1))
    report = Report(
        genres,
        float(np.mean(pred == y)),
        per_genre,
        confusion.tolist(),
        len(y),
        len(set(groups)),
        n_folds,
        dict(songs.left_out),
        temperature,
        threshold,
        float(np.mean(top < threshold)),
    )
    return report, P


@dataclass(frozen=True, eq=False)
class OwnModel:
    """A genre model over the library's embeddings.

    Attributes
    ----------
    classifier : LinearClassifier
        Embedding → genres (the user's tags).
    temperature : float
        Applied to the classifier's probabilities (:func:`temperature_scale`).
    threshold : float
        A song whose best calibrated probability is below it is :data:`UNCERTAIN`.
    embedding_version : str
        :data:`explorer.genre.model.EMBEDDING_VERSION` of the embeddings it was trained on
        (or one of :data:`~explorer.genre.model.LEGACY_EMBEDDING_VERSIONS`).
    """

    classifier: LinearClassifier
    temperature: float
    threshold: float
    embedding_version: str

    @property
    def genres(self) -> tuple[str, ...]:
        return self.classifier.classes

    def probabilities(self, embeddings: np.ndarray) -> np.ndarray:
        """Calibrated genre probabilities [shape=(n, n_genres)] of embeddings [shape=(n, d)]."""
        return temperature_scale(self.classifier.predict_proba(embeddings), self.temperature)

    def genre(self, embedding: np.ndarray):
        """The :class:`~explorer.analysis.types.Genre` of one embedding [shape=(d,)]."""
        from explorer.analysis.types import Genre

        p = self.probabilities(np.asarray(embedding, np.float64)[None, :])[0]
        return Genre(self.genres[int(np.argmax(p))], {g: float(v) for g, v in zip(self.genres, p)})

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        arrays: dict = self.classifier.arrays("clf_")
        np.savez(
            buf,
            **arrays,
            temperature=np.float64(self.temperature),
            threshold=np.float64(self.threshold),
            embedding_version=np.array(self.embedding_version),
            kind=np.array("music-explorer/own-genre-model/1"),
        )
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> OwnModel:
        """Read :meth:`to_bytes` output (never unpickles); ``ValueError`` when it is not one."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                if str(npz["kind"]) != "music-explorer/own-genre-model/1":
                    raise ValueError("not a genre model trained by music-explorer")
                model = cls(
                    LinearClassifier.from_arrays(npz, "clf_"),
                    float(npz["temperature"]),
                    float(npz["threshold"]),
                    str(npz["embedding_version"]),
                )
        except (KeyError, OSError, EOFError, zipfile.BadZipFile) as e:
            raise ValueError(f"not a genre model file ({e})") from None
        except ValueError as e:
            raise ValueError(str(e) if "music-explorer" in str(e) else f"not a genre model file ({e})") from None
        if not model.temperature > 0 or len(model.genres) < 2:
            raise ValueError("genre model file has the wrong shape")
        return model

    def save(self, path: str | os.PathLike, report: Report | None = None) -> None:
        """Write the model to ``path`` and its report to :func:`report_path` (atomically)."""
        from explorer.util.fs import atomic_write_bytes, atomic_write_text

        atomic_write_bytes(path, self.to_bytes(), overwrite=True)
        if report is not None:
            atomic_write_text(report_path(path), json.dumps(report.to_dict(), indent=1) + "\n", overwrite=True)

    @classmethod
    def load(cls, path: str | os.PathLike) -> OwnModel:
        """Read a model file; :class:`~explorer.errors.ExplorerError` (one line) when it cannot be used."""
        try:
            data = Path(path).read_bytes()
        except FileNotFoundError:
            raise ExplorerError(f"{path}: genre model not found", path=path) from None
        except OSError as e:
            raise ExplorerError(f"{path}: cannot read the genre model ({e.strerror})", path=path) from None
        try:
            return cls.from_bytes(data)
        except ValueError as e:
            raise ExplorerError(f"{path}: {e}", path=path) from None


def fit_own_model(songs: Songs, report: Report, *, embedding_version: str) -> OwnModel:
    """The model fitted on every song, calibrated with the report's temperature and threshold."""
    clf = fit_classifier(songs.X, songs.genres, report.genres)
    return OwnModel(clf, report.temperature, report.threshold, embedding_version)


def report_path(model_path: str | os.PathLike) -> Path:
    """Where a model's report is kept: ``NAME.report.json`` beside ``NAME.npz``."""
    p = Path(model_path)
    return p.with_name(p.stem + ".report.json")


def read_report(model_path: str | os.PathLike) -> Report | None:
    try:
        return Report.from_dict(json.loads(report_path(model_path).read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None
