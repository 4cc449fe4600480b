"""A learned boundary strength: how likely a section starts before each structure unit.

The hand-made evidence of :mod:`explorer.analysis.structure` (structure-feature novelty, Foote's
checkerboard, where repetitions start and stop) each see one scale and one kind of change.  Here a
small network reads many of them at once, at several scales and in the bar before and after each
position, and gives one probability per position.  It is trained by
``benchmarks/train_boundaries.py`` on renderings of the POP909 training songs (piano and band
arrangements) and shipped as plain arrays (``resources/models/boundaries.npz``, no pickle).

Every input is normalised per song (a share of the song's own 99th percentile, or a difference in
dB from the song's loudest unit), so that the network sees how strong a change is *for this song*,
not in absolute units that differ between a solo piano and a band.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np

from explorer.analysis import structure
from explorer.errors import ExplorerError
from explorer.util.modelfiles import models_dir, read_manifest, read_verified

#: Bars over which the sound before and after a position are compared.
CONTRAST_BARS = (1, 2, 4)
#: Half-sizes (bars) of the checkerboard kernels.
KERNEL_BARS = (1, 2, 4, 8)
#: Offsets (in half bars) at which every base feature is read around a position.
CONTEXT_HALF_BARS = (-16, -12, -8, -6, -4, -2, -1, 0, 1, 2, 4, 6, 8, 12, 16)

MODEL_NAME = "boundaries.npz"


def _norm99(x: np.ndarray) -> np.ndarray:
    x = np.maximum(np.asarray(x, dtype=float), 0.0)
    hi = np.percentile(x, 99) if x.size else 0.0
    return np.clip(x / hi, 0.0, 2.0) if hi > 0 else np.zeros_like(x)


def _cosine_distance(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    num = (A * B).sum(axis=0)
    den = np.linalg.norm(A, axis=0) * np.linalg.norm(B, axis=0) + 1e-9
    return 1.0 - num / den


def _window_means(X: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Means of the ``width`` columns before and after every position 0 … n (edges clipped)."""
    d, n = X.shape
    csum = np.zeros((d, n + 1))
    np.cumsum(X, axis=1, out=csum[:, 1:])
    pos = np.arange(n + 1)
    lo, hi = np.maximum(pos - width, 0), np.minimum(pos + width, n)
    before = (csum[:, pos] - csum[:, lo]) / np.maximum(pos - lo, 1)
    after = (csum[:, hi] - csum[:, pos]) / np.maximum(hi - pos, 1)
    return before, after


def unit_features(
    *,
    R: np.ndarray,
    R_path: np.ndarray,
    chroma: np.ndarray,
    mfcc: np.ndarray,
    rms: np.ndarray,
    fullness: np.ndarray,
    downbeat: np.ndarray,
    units_per_bar: int,
    onsets: np.ndarray | None = None,
) -> np.ndarray:
    """The inputs of the boundary network at every position between structure units.

    Parameters
    ----------
    R, R_path : np.ndarray [shape=(n, n)]
        Raw and diagonal-smoothed recurrence (:func:`explorer.analysis.structure.recurrence`).
    chroma : np.ndarray [shape=(12, n)]
    mfcc : np.ndarray [shape=(n_mfcc, n)]
    rms, fullness : np.ndarray [shape=(n,)]
        Loudness (linear) and spectral fullness per unit (:func:`beatsync.beat_sync`).
    downbeat : np.ndarray [shape=(n + 1,), bool]
        Whether each position starts a bar.
    units_per_bar : int
    onsets : np.ndarray [shape=(n + 1,)] or None
        ``structure.repetition_onsets(R, after=4 bars, before=2 bars)`` when the caller has it already.

    Returns
    -------
    np.ndarray [shape=(n + 1, d), float32]
        Row ``b`` describes a boundary before unit ``b``: the base features of :func:`base_features`
        read at every offset of :data:`CONTEXT_HALF_BARS`, then the position in the song.
    """
    n = R.shape[0]
    base = base_features(
        R=R,
        R_path=R_path,
        chroma=chroma,
        mfcc=mfcc,
        rms=rms,
        fullness=fullness,
        units_per_bar=units_per_bar,
        onsets=onsets,
    )
    half = max(1, units_per_bar // 2)
    pos = np.arange(n + 1)
    cols = [base[np.clip(pos + k * half, 0, n)] for k in CONTEXT_HALF_BARS]
    bars_in = np.minimum(pos, 16 * units_per_bar) / (16.0 * units_per_bar)
    bars_left = np.minimum(n - pos, 16 * units_per_bar) / (16.0 * units_per_bar)
    extra = np.column_stack([downbeat[: n + 1].astype(float), bars_in, bars_left])
    return np.hstack(cols + [extra]).astype(np.float32)


def base_features(
    *,
    R: np.ndarray,
    R_path: np.ndarray,
    chroma: np.ndarray,
    mfcc: np.ndarray,
    rms: np.ndarray,
    fullness: np.ndarray,
    units_per_bar: int,
    onsets: np.ndarray | None = None,
) -> np.ndarray:
    """Change and repetition evidence at every position 0 … n, before any context is added.

    ``onsets``, when given, is ``structure.repetition_onsets(R, after=4 bars, before=2 bars)``
    (the pipeline computes it anyway).

    Returns
    -------
    np.ndarray [shape=(n + 1, d)]: structure-feature novelty at three smoothings; checkerboard
    novelty at :data:`KERNEL_BARS`; where repetitions start or stop over 4 and over 1 bar;
    for every span of :data:`CONTRAST_BARS` the chroma and timbre distance between the span before
    and the span after, their loudness difference (dB, signed) and fullness difference (signed);
    the loudness of the unit after (dB below the song's loudest).
    """
    n = R.shape[0]
    u = max(1, int(units_per_bar))
    out: list[np.ndarray] = []
    if n < 4:
        return np.zeros((n + 1, 3 + len(KERNEL_BARS) + 2 + 4 * len(CONTRAST_BARS) + 1))
    for sf in structure.structure_feature_novelty(R_path, sigmas=(1.0, 2.0, 4.0), precision=np.float32):
        out.append(_norm99(sf))
    S = structure.sound_similarity(chroma, mfcc)
    for bars in KERNEL_BARS:
        out.append(_norm99(structure.checkerboard_novelty(S, half=min(bars * u, max(1, n // 2)))))
    out.append(structure.repetition_onsets(R, after=4 * u, before=2 * u) if onsets is None else onsets)
    out.append(structure.repetition_onsets(R, after=u, before=max(1, u // 2)))
    C = structure.normalise_cols(np.maximum(chroma, 0))
    M = structure.zscore_cols(mfcc)
    db = 20 * np.log10(np.maximum(np.asarray(rms, dtype=float), 1e-6))
    db = np.maximum(db - db.max(initial=0.0), -60.0)
    full = np.asarray(fullness, dtype=float)
    for bars in CONTRAST_BARS:
        w = bars * u
        cb, ca = _window_means(C, w)
        mb, ma = _window_means(M, w)
        lb, la = _window_means(db[None, :], w)
        fb, fa = _window_means(full[None, :], w)
        out.append(_norm99(_cosine_distance(cb, ca)))
        out.append(_norm99(_cosine_distance(mb, ma)))
        out.append((la - lb)[0] / 20.0)
        out.append((fa - fb)[0])
    level = np.concatenate([db, [db[-1]]]) / 60.0
    out.append(level)
    return np.column_stack(out)


def read_arrays(data: bytes) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` file's bytes (never unpickled)."""
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        return {k: np.asarray(z[k], dtype=np.float64) for k in z.files}


def load_model(folder: Path | None = None) -> dict[str, np.ndarray]:
    """The shipped network's arrays, checked against the SHA-256 in the folder's ``manifest.json``.

    Parameters
    ----------
    folder : Path, optional
        Folder of model files (default :func:`explorer.util.modelfiles.models_dir`).

    Raises
    ------
    ExplorerError
        The file, the manifest or its entry is missing, or the file is damaged or not a network.
    """
    folder = models_dir() if folder is None else folder
    data = read_verified(folder, MODEL_NAME, read_manifest(folder))
    path = folder / MODEL_NAME
    try:
        model = read_arrays(data)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise ExplorerError(f"{path}: model file cannot be read ({e})", path=path) from None
    if "mean" not in model or "scale" not in model or not _members(model):
        raise ExplorerError(f"{path}: not a boundary network (arrays missing)", path=path)
    return model


def _members(model: dict[str, np.ndarray]) -> list[str]:
    """Prefixes of the networks in ``model``: ``[""]`` for one network, ``["m0_", "m1_", …]`` for an ensemble."""
    if "W0" in model:
        return [""]
    return sorted({k[: k.index("_") + 1] for k in model if k.startswith("m") and k.endswith("_W0")})


def probability(F: np.ndarray, model: dict[str, np.ndarray]) -> np.ndarray:
    """The network's boundary probability for every row of ``F``.

    Parameters
    ----------
    F : np.ndarray [shape=(m, d)]
        Rows of :func:`unit_features`.
    model : dict
        ``mean`` and ``scale`` (d,) standardise the inputs; ``W0``, ``b0``, ``W1``, ``b1``, … are the
        layers (ReLU between them, a logistic output).  An ensemble holds several networks with the same
        standardisation, their layers prefixed ``m0_``, ``m1_``, …; its probability is their mean.

    Returns
    -------
    np.ndarray [shape=(m,)] in [0, 1].
    """
    x = (np.asarray(F, dtype=np.float64) - model["mean"]) / model["scale"]
    out = np.zeros(x.shape[0])
    members = _members(model)
    for pre in members:
        h = x
        k = 0
        while f"{pre}W{k + 1}" in model:
            h = np.maximum(h @ model[f"{pre}W{k}"] + model[f"{pre}b{k}"], 0.0)
            k += 1
        z = (h @ model[f"{pre}W{k}"] + model[f"{pre}b{k}"]).ravel()
        out += 1.0 / (1.0 + np.exp(-z))
    return out / max(1, len(members))
