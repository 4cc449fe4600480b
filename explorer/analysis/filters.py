"""Filters and a solver for the analysis, in numpy: a maximum over frequency bands, smoothing along the
diagonals, over time and by median, and the smallest eigenvectors of a symmetric matrix.  They stand in for
scipy.ndimage and scipy.linalg, whose import every analysing process would otherwise pay."""

from __future__ import annotations

import numpy as np


def maximum_filter_bands(S: np.ndarray, *, size: int) -> np.ndarray:
    """Running maximum over ``size`` neighbouring bands (axis -2), edges mirrored.

    The same values as ``scipy.ndimage.maximum_filter1d(S, size, axis=-2)`` (mode ``"reflect"``,
    origin 0), without importing scipy.

    Parameters
    ----------
    S : np.ndarray [shape=(..., n_bands, n_frames)]
    size : int > 0
        Bands in the window: ``size // 2`` below each band and ``size - 1 - size // 2`` above it.

    Returns
    -------
    np.ndarray [shape=S.shape]
    """
    S = np.asarray(S)
    n = S.shape[-2]
    below, above = size // 2, size - 1 - size // 2
    # "reflect" repeats the edge band: index -1 is band 0, index n is band n - 1
    idx = _reflect_index(np.arange(-below, n + above), n)
    padded = np.take(S, idx, axis=-2)
    out = padded[..., 0:n, :].copy()
    for k in range(1, size):
        np.maximum(out, padded[..., k : k + n, :], out=out)
    return out


def _reflect_index(idx: np.ndarray, n: int) -> np.ndarray:
    """Indices mirrored into ``0 … n - 1`` with the edge repeated (``d c b a | a b c d | d c b a``)."""
    period = 2 * n
    r = np.remainder(idx, period)
    return np.where(r >= n, period - 1 - r, r)


def diagonal_mean(R: np.ndarray, *, length: int) -> np.ndarray:
    """Mean of ``length`` consecutive entries along every diagonal, zeros past the edges.

    The same values as ``scipy.ndimage.convolve(R, np.eye(length) / length, mode="constant")``:
    entry ``(i, j)`` averages ``R[i + t, j + t]`` for ``t`` from ``-((length - 1) // 2)`` to
    ``length // 2``, each weighted by ``1 / length`` rounded to ``R``'s precision (the kernel's
    precision in that call).  Summed in float64, returned in ``R``'s dtype.

    Parameters
    ----------
    R : np.ndarray [shape=(n, m)]
    length : int > 0

    Returns
    -------
    np.ndarray [shape=(n, m)]
    """
    R = np.asarray(R)
    n, m = R.shape
    before = (length - 1) // 2
    padded = np.pad(R.astype(np.float64), ((before, length - 1 - before), (before, length - 1 - before)))
    weight = float(np.asarray(1.0 / length, dtype=R.dtype)) if np.issubdtype(R.dtype, np.floating) else 1.0 / length
    out = padded[:n, :m] * weight
    for t in range(1, length):
        out += padded[t : t + n, t : t + m] * weight
    return out.astype(R.dtype, copy=False)


def gaussian_smooth(x: np.ndarray, *, sigma: float, axis: int = 0, precision: type = np.float64) -> np.ndarray:
    """Gaussian smoothing along ``axis``, edges extended with the edge value.

    The same values as ``scipy.ndimage.gaussian_filter1d(x, sigma, axis=axis, mode="nearest")``
    (kernel truncated at 4 sigma).  Summed in ``precision``, returned in ``x``'s dtype.

    Parameters
    ----------
    x : np.ndarray [shape=(..., n, ...)]
    sigma : float > 0
        Standard deviation of the kernel (samples along ``axis``).
    axis : int
    precision : np.float64 or np.float32
        Type the sums are made in; float32 is about three times faster on large matrices and
        differs by about 1e-7 of the values' range.

    Returns
    -------
    np.ndarray [shape=x.shape]
    """
    x = np.asarray(x)
    radius = int(4.0 * float(sigma) + 0.5)
    t = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 / (float(sigma) * float(sigma)) * t * t)
    kernel = (kernel / kernel.sum()).astype(precision)
    n = x.shape[axis]
    idx = np.clip(np.arange(-radius, n + radius), 0, n - 1)
    padded: np.ndarray = np.moveaxis(np.take(x.astype(precision), idx, axis=axis), axis, 0)
    out: np.ndarray = np.zeros((n,) + padded.shape[1:], dtype=precision)
    for k, w in enumerate(kernel):
        out += w * padded[k : k + n]
    return np.moveaxis(out, 0, axis).astype(x.dtype, copy=False)


def median_smooth(x: np.ndarray, *, size: int, axis: int = 0) -> np.ndarray:
    """Running median over ``size`` samples along ``axis``, edges extended with the edge value.

    The same values as ``scipy.ndimage.median_filter`` with a footprint of ``size`` along ``axis``
    and 1 along every other axis (mode ``"nearest"``, origin 0): the window's element of rank
    ``size // 2``, which for an even ``size`` is the upper of the two middle values.

    Parameters
    ----------
    x : np.ndarray [shape=(..., n, ...)]
    size : int > 0
        Samples in the window: ``size // 2`` before each sample and ``size - 1 - size // 2`` after it.
    axis : int

    Returns
    -------
    np.ndarray [shape=x.shape]
    """
    x = np.asarray(x)
    n = x.shape[axis]
    before = size // 2
    idx = np.clip(np.arange(-before, n + size - 1 - before), 0, n - 1)
    padded = np.take(x, idx, axis=axis)
    windows = np.lib.stride_tricks.sliding_window_view(padded, size, axis=axis)
    return np.partition(windows, size // 2, axis=-1)[..., size // 2]


#: From this size on, :func:`smallest_eigenvectors` uses scipy's solver for a few eigenvectors: numpy's
#: computes all of them, which takes twice the time (+0.2 s at 1200, +1.3 s at 2500) and n² more memory,
#: more than importing scipy costs.
EIGH_SUBSET_FROM = 1500


def smallest_eigenvectors(A: np.ndarray, *, k: int) -> np.ndarray:
    """Eigenvectors of the ``k`` smallest eigenvalues of a symmetric matrix, in ascending order.

    Parameters
    ----------
    A : np.ndarray [shape=(n, n)]
        Symmetric.
    k : int, 1 <= k <= n

    Returns
    -------
    np.ndarray [shape=(n, k)]
        Unit columns, each determined up to its sign.
    """
    A = np.asarray(A)
    if A.shape[0] < EIGH_SUBSET_FROM:
        return np.linalg.eigh(A)[1][:, :k]
    import scipy.linalg  # noqa: PLC0415 - only for long songs: slow to import

    return scipy.linalg.eigh(A, subset_by_index=[0, k - 1])[1]
