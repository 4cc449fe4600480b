"""Fitting and evaluating the genre model (used by tools/train_genre.py and benchmarks/eval_genre.py)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from explorer.audio.decode import decode
from explorer.genre.classifier import fit
from explorer.genre.model import (
    EMBEDDING_SIZE,
    GENRES,
    NETWORKS,
    GenreModel,
    NetworkOutputs,
    Networks,
    vocabulary,
)

#: Genres the taggers know beyond the ten, each in the family of one or more of them: (member, genre).
#: Chosen from the tag names.  With artists kept apart, folk, soul and punk cost no GTZAN clip; electronic,
#: in the families of pop and hip-hop, gives .720 against .728 (mean of 5 shuffles; figures in the README).
FAMILIES = (
    ("folk", "country"),
    ("soul", "blues"),
    ("punk", "rock"),
    ("electronic", "pop"),
    ("electronic", "hiphop"),
)

#: Zero-shot votes: (genre, network, tag).  A genre's score is the largest of its tags' probabilities.
#: Chosen from the tag names alone (no data), but for electronic: MSD's "electronic" and "electronica",
#: not MTT's "techno" or "electronic", which also score high on GTZAN's pop, disco and hip-hop clips.
#: Reggae has no tag in either network.
ZERO_SHOT = (
    ("blues", "MSD_musicnn", "blues"),
    ("classical", "MTT_musicnn", "classical"),
    ("classical", "MTT_musicnn", "classic"),
    ("country", "MSD_musicnn", "country"),
    ("country", "MTT_musicnn", "country"),
    ("disco", "MSD_musicnn", "dance"),
    ("disco", "MSD_musicnn", "funk"),
    ("disco", "MTT_musicnn", "dance"),
    ("hiphop", "MSD_musicnn", "Hip-Hop"),
    ("jazz", "MSD_musicnn", "jazz"),
    ("metal", "MSD_musicnn", "metal"),
    ("metal", "MSD_musicnn", "heavy metal"),
    ("metal", "MTT_musicnn", "metal"),
    ("pop", "MSD_musicnn", "pop"),
    ("pop", "MTT_musicnn", "pop"),
    ("rock", "MSD_musicnn", "rock"),
    ("rock", "MSD_musicnn", "classic rock"),
    ("rock", "MSD_musicnn", "hard rock"),
    ("rock", "MTT_musicnn", "rock"),
    ("folk", "MSD_musicnn", "folk"),
    ("soul", "MSD_musicnn", "soul"),
    ("soul", "MSD_musicnn", "rnb"),
    ("punk", "MSD_musicnn", "punk"),
    ("electronic", "MSD_musicnn", "electronic"),
    ("electronic", "MSD_musicnn", "electronica"),
)

#: Every genre the shipped recipe names: the ten, then the members of their families.
VOCABULARY = vocabulary(FAMILIES)

#: The recipe of the shipped model (tools/train_genre.py; measured by benchmarks/eval_genre.py).
RECIPE = {"C": 1.0, "zero_shot_weight": 0.5, "embed_weights": (1.0, 0.5)}

_CLIP_NAME = re.compile(r"^(?P<genre>[a-z]+)\.(?P<index>\d{5})\.[A-Za-z0-9]+$")


def labelled_clips(folder: str | Path) -> list[tuple[Path, str]]:
    """Audio files named like GTZAN's (``GENRE.NNNNN.ext``) in ``folder``, with their genre, sorted."""
    found = []
    for path in sorted(Path(folder).iterdir()):
        m = _CLIP_NAME.match(path.name)
        if m and m["genre"] in GENRES:
            found.append((path, m["genre"]))
    return found


def network_outputs(paths: Sequence[str | Path], networks: Networks, *, log=None) -> list[NetworkOutputs]:
    """Decode each file (with ffmpeg, as the program does) and run both networks on it.

    ``log``, when given, is called with a short progress message every 10 files.
    """
    outputs = []
    for i, path in enumerate(paths, 1):
        buffer = decode(path)
        outputs.append(networks.analyse(buffer.mono(), sr=buffer.sr))
        if log is not None and (i % 10 == 0 or i == len(paths)):
            log(f"  {i}/{len(paths)} files")
    return outputs


def fit_genre_model(
    outputs: Sequence[NetworkOutputs],
    labels: Sequence[str],
    *,
    C: float = 1.0,
    zero_shot_weight: float = 0.2,
    embed_weights: Sequence[float] = (1.0, 1.0),
    zero_shot=ZERO_SHOT,
    families=FAMILIES,
    allow_missing: bool = False,
) -> GenreModel:
    """Fit the genre model on songs whose network outputs and genres are known.

    Every window of every song is one training row (labelled with its song's genre).  The embedding's
    standardisation statistics are the per-dimension mean and standard deviation of the songs' mean
    penultimate layers (no labels involved).

    Parameters
    ----------
    outputs : sequence of NetworkOutputs [shape=(n_songs,)]
    labels : sequence of str [shape=(n_songs,)]
        Genre of each song, each one of :data:`~explorer.genre.model.GENRES` (all ten must occur).
    C : float > 0
        Inverse regularisation strength of the logistic regression.
    zero_shot_weight : float in [0, 1]
        Weight of the tag-based distribution in the blend.
    embed_weights : sequence of 2 floats
        Weight of the MSD and MTT blocks in the embedding.
    zero_shot : sequence of (genre, network, tag)
        Votes for genres the model does not name are left out.
    families : sequence of (member, genre)
        Genres outside :data:`GENRES` and the genre whose family each belongs to (none: a model
        of the ten).
    allow_missing : bool
        Accept labels that leave out some genres (a cross-validation fold): those never win the
        classifier's vote.

    Returns
    -------
    GenreModel
    """
    rows, y = [], []
    for out, label in zip(outputs, labels, strict=True):
        X = out.window_features()
        rows.append(X)
        y += [label] * len(X)
    if allow_missing:
        from explorer.genre.own import fit_classifier

        classifier = fit_classifier(np.vstack(rows), y, GENRES, C=C)
    else:
        classifier = fit(np.vstack(rows), y, classes=GENRES, C=C)
    means = np.array([out.mean_embedding() for out in outputs])
    scale = means.std(axis=0)
    scale[scale < 1e-9] = 1.0
    if len(embed_weights) != len(NETWORKS) or means.shape[1] != EMBEDDING_SIZE:
        raise ValueError("embedding weights or network outputs of the wrong size")
    named = set(GENRES) | {member for member, _ in families}
    return GenreModel(
        classifier,
        tuple(tuple(t) for t in zero_shot if t[0] in named),
        float(zero_shot_weight),
        means.mean(axis=0),
        scale,
        np.asarray(embed_weights, dtype=np.float64),
        tuple(tuple(f) for f in families),
    )


def leave_one_out(
    outputs: Sequence[NetworkOutputs], labels: Sequence[str], tag_names: dict[str, list[str]], **params
) -> np.ndarray:
    """Genre distributions of each song from a model fitted on all the other songs.

    Parameters
    ----------
    outputs, labels : as in :func:`fit_genre_model`
    tag_names : dict of network → list of its 50 tag names
    **params
        Passed to :func:`fit_genre_model`.

    Returns
    -------
    np.ndarray [shape=(n_songs, n_genres)]
        Over the model's :attr:`~explorer.genre.model.GenreModel.genres`.
    """
    probabilities = []
    for i in range(len(outputs)):
        rest = [j for j in range(len(outputs)) if j != i]
        model = fit_genre_model([outputs[j] for j in rest], [labels[j] for j in rest], **params)
        probabilities.append(model.probabilities(outputs[i], tag_names))
    return np.array(probabilities)


def precision_at_k(embeddings: np.ndarray, labels: Sequence[str], *, k: int = 5) -> float:
    """Mean share of same-label songs among each song's ``k`` nearest others by cosine similarity.

    Parameters
    ----------
    embeddings : np.ndarray [shape=(n, d)]
    labels : sequence of str [shape=(n,)]
    k : int
    """
    E = np.asarray(embeddings, dtype=np.float64)
    E = E / np.maximum(np.linalg.norm(E, axis=1, keepdims=True), 1e-12)
    S = E @ E.T
    np.fill_diagonal(S, -np.inf)
    nearest = np.argsort(-S, axis=1, kind="stable")[:, :k]
    y = np.asarray(labels)
    return float((y[nearest] == y[:, None]).mean())


def classification_report(y_true: Sequence[str], y_pred: Sequence[str], classes: Sequence[str] = VOCABULARY) -> str:
    """Accuracy and per-class precision/recall as a small text table."""
    t, p = np.asarray(y_true), np.asarray(y_pred)
    lines = [
        f"accuracy {np.mean(t == p):.3f} ({int(np.sum(t == p))}/{len(t)})",
        f"{'genre':<10} {'precision':>9} {'recall':>7} {'n':>3}",
    ]
    for c in classes:
        tp = int(np.sum((p == c) & (t == c)))
        n_pred, n_true = int(np.sum(p == c)), int(np.sum(t == c))
        prec = f"{tp / n_pred:.2f}" if n_pred else "-"
        rec = f"{tp / n_true:.2f}" if n_true else "-"
        lines.append(f"{c:<10} {prec:>9} {rec:>7} {n_true:>3}")
    return "\n".join(lines)


def likely_same_artist(
    embeddings: np.ndarray, labels: Sequence[str], *, threshold: float | None = None
) -> tuple[list[int], float]:
    """Groups of clips presumed to share an artist (or a recording session), from their sound alone.

    Two clips of the same genre are linked when their embeddings are more alike (cosine) than
    ``threshold``; by default the largest similarity of any two clips of *different* genres, so a
    linked pair is closer than genre alone ever made two clips.  Groups are the linked components.
    Without artist metadata this is a presumption, stated as such by the benchmark; it errs towards
    grouping (a genre of one ensemble's recordings becomes one group).

    Parameters
    ----------
    embeddings : np.ndarray [shape=(n, d)]
    labels : sequence of str [shape=(n,)]

    Returns
    -------
    groups : list of int [shape=(n,)]
        Group number of each clip.
    threshold : float
    """
    E = np.asarray(embeddings, dtype=np.float64)
    E = E / np.maximum(np.linalg.norm(E, axis=1, keepdims=True), 1e-12)
    S = E @ E.T
    y = np.asarray(labels)
    same = y[:, None] == y[None, :]
    if threshold is None:
        threshold = float(S[~same].max()) if (~same).any() else 1.0
    parent = list(range(len(y)))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in zip(*np.nonzero(np.triu(same & (S > threshold), 1))):
        parent[root(int(i))] = root(int(j))
    roots = [root(i) for i in range(len(y))]
    order = {r: k for k, r in enumerate(dict.fromkeys(roots))}
    return [order[r] for r in roots], float(threshold)


def grouped_cross_validation(
    outputs: Sequence[NetworkOutputs],
    labels: Sequence[str],
    groups: Sequence,
    tag_names: dict[str, list[str]],
    *,
    folds: int = 5,
    seed: int = 0,
    **params,
) -> np.ndarray:
    """Genre distributions of each song from a model fitted on the other groups' songs only.

    ``StratifiedGroupKFold`` keeps every group (artist) within one fold.  A genre whose every song
    is in the held-out fold gets no classifier vote (only the zero-shot one) in that fold.

    Returns
    -------
    np.ndarray [shape=(n_songs, n_genres)]
        Over the model's :attr:`~explorer.genre.model.GenreModel.genres`.
    """
    from sklearn.model_selection import StratifiedGroupKFold

    y = np.asarray(labels)
    n_folds = max(2, min(folds, len(set(groups))))
    rows: dict[int, np.ndarray] = {}
    for train_idx, test_idx in StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed).split(
        np.zeros(len(y)), y, np.asarray(groups)
    ):
        model = fit_genre_model(
            [outputs[i] for i in train_idx], [labels[i] for i in train_idx], allow_missing=True, **params
        )
        for i in test_idx:
            rows[int(i)] = model.probabilities(outputs[i], tag_names)
    return np.array([rows[i] for i in range(len(y))])
