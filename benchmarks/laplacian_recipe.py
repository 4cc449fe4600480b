"""librosa's Laplacian segmentation recipe as a structure analyser, a textbook reference for the evaluation.

The recipe is the librosa gallery's "Laplacian segmentation" (McFee & Ellis 2014): a constant-Q
spectrogram synchronised to librosa's beats, a recurrence matrix with time-lag median filtering, a
sequence graph from MFCC distances between neighbouring beats, the normalised Laplacian's first
``k`` eigenvectors and k-means with ``k`` clusters.  A section runs while the cluster stays the same.

The recipe names no chorus.  Here the chorus is the cluster with the most separate sections (ties: the
most time), every section of it a chorus: a plain reading of "the part that comes back most often".
A recipe that cuts the song into many short sections gets many chorus starts this way, which helps its
"found" figure and costs its chorus F1.  Functions are ``chorus`` and ``verse`` only, so the function
figure means little for this analyser.

``analyse(audio)`` returns a dictionary shaped like ``Analysis.to_dict()`` (``sections``, ``choruses``,
``motifs`` empty, ``duration``, ``tempo``), cached as JSON under
``~/.cache/music-explorer-corpus/laplacian`` keyed by the file's path, size and modification time.
``python -m benchmarks.laplacian_recipe FILE`` analyses one file without the cache, as a whole process
(``bench_analysis.py`` times our analysis against it).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

CACHE = Path(os.environ.get("CORPUS_CACHE", os.path.expanduser("~/.cache/music-explorer-corpus"))) / "laplacian"
SR = 22050
#: Clusters (the gallery's value).
K = 5
#: Bumped when the recipe or the chorus rule changes (the cache key holds it).
VERSION = 1


def _key(audio: Path) -> str:
    st = audio.stat()
    return hashlib.sha1(f"{audio.resolve()}|{st.st_size}|{st.st_mtime_ns}|{K}|{VERSION}".encode()).hexdigest()[:16]


def segment(y: np.ndarray, *, sr: int = SR, k: int = K, seed: int = 0) -> tuple[np.ndarray, np.ndarray, float]:
    """Section boundaries and cluster labels of the recipe.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
        Mono signal.
    sr : int
    k : int
        Number of clusters.
    seed : int
        k-means seed (the recipe's result depends on it a little).

    Returns
    -------
    bounds : np.ndarray [shape=(m + 1,)]
        Section edges (s), from 0 to the signal's end.
    labels : np.ndarray [shape=(m,)]
        Cluster of every section.
    tempo : float
        librosa's tempo estimate (BPM).
    """
    import librosa
    import scipy.linalg
    import scipy.ndimage
    import scipy.sparse.csgraph
    import sklearn.cluster

    duration = y.size / sr
    bins_per_octave = 36
    C = librosa.amplitude_to_db(
        np.abs(librosa.cqt(y=y, sr=sr, bins_per_octave=bins_per_octave, n_bins=7 * bins_per_octave)), ref=np.max
    )
    tempo, beats = librosa.beat.beat_track(y=y, sr=sr, trim=False)
    if beats.size < 2 * k:
        return np.array([0.0, duration]), np.zeros(1, dtype=int), float(np.atleast_1d(tempo)[0])
    Csync = librosa.util.sync(C, beats, aggregate=np.median)
    R = librosa.segment.recurrence_matrix(Csync, width=3, mode="affinity", sym=True)
    Rf = librosa.segment.timelag_filter(scipy.ndimage.median_filter)(R, size=(1, 7))
    mfcc = librosa.feature.mfcc(y=y, sr=sr)
    Msync = librosa.util.sync(mfcc, beats)
    path_distance = np.sum(np.diff(Msync, axis=1) ** 2, axis=0)
    path_sim = np.exp(-path_distance / max(float(np.median(path_distance)), 1e-12))
    R_path = np.diag(path_sim, k=1) + np.diag(path_sim, k=-1)
    deg_path = np.sum(R_path, axis=1)
    deg_rec = np.sum(Rf, axis=1)
    mu = deg_path.dot(deg_path + deg_rec) / np.sum((deg_path + deg_rec) ** 2)
    A = mu * Rf + (1 - mu) * R_path
    L = scipy.sparse.csgraph.laplacian(A, normed=True)
    _, evecs = scipy.linalg.eigh(L)
    evecs = scipy.ndimage.median_filter(evecs, size=(9, 1))
    Cnorm = np.cumsum(evecs**2, axis=1) ** 0.5
    X = evecs[:, :k] / np.maximum(Cnorm[:, k - 1 : k], 1e-12)
    seg_ids = sklearn.cluster.KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(X)
    # the synchronised columns run from 0 to the first beat, between beats, and from the last beat to the end
    edges = np.concatenate([[0.0], librosa.frames_to_time(beats, sr=sr), [duration]])
    edges = np.unique(np.clip(edges, 0.0, duration))
    seg_ids = seg_ids[: edges.size - 1]
    change = np.flatnonzero(np.diff(seg_ids)) + 1
    starts = np.concatenate([[0], change])
    bounds = np.concatenate([edges[starts], [duration]])
    return bounds, seg_ids[starts], float(np.atleast_1d(tempo)[0])


def to_analysis(bounds: np.ndarray, labels: np.ndarray, *, duration: float, tempo: float) -> dict:
    """The recipe's sections as ``Analysis.to_dict()`` would give them, with the chorus rule above."""
    labels = [int(x) for x in labels]
    durs = np.diff(bounds)
    runs = {lab: labels.count(lab) for lab in set(labels)}
    time_of = {lab: float(sum(d for d, x in zip(durs, labels) if x == lab)) for lab in set(labels)}
    repeated = [lab for lab in runs if runs[lab] > 1]
    chorus = max(repeated, key=lambda lab: (runs[lab], time_of[lab])) if repeated else None
    order: dict[int, str] = {}
    for lab in labels:
        order.setdefault(lab, chr(ord("A") + len(order)))
    sections = [
        {
            "start": float(bounds[i]),
            "end": float(bounds[i + 1]),
            "label": order[lab],
            "function": "chorus" if lab == chorus else "verse",
            "confidence": 1.0,
        }
        for i, lab in enumerate(labels)
    ]
    choruses = [
        {"start": s["start"], "end": s["end"], "confidence": 1.0} for s in sections if s["function"] == "chorus"
    ]
    return {
        "duration": float(duration),
        "tempo": tempo,
        "meter": None,
        "sections": sections,
        "choruses": choruses,
        "motifs": [],
    }


def analyse(audio: str | Path, *, cache: Path | None = CACHE) -> dict:
    """The recipe's analysis of one file (cached)."""
    audio = Path(audio)
    path = cache / (_key(audio) + ".json") if cache is not None else None
    if path is not None and path.exists():
        return json.loads(path.read_text())
    from explorer.audio.decode import decode

    buf = decode(str(audio), sr=SR, mono=True)
    y = np.asarray(buf.mono(), dtype=np.float32)
    bounds, labels, tempo = segment(y)
    est = to_analysis(bounds, labels, duration=buf.duration, tempo=tempo)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(est))
        os.replace(tmp, path)
    return est


if __name__ == "__main__":
    import sys

    analyse(sys.argv[1], cache=None)
