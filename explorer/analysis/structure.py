"""Sections: beat-synchronous features, the recurrence matrix, boundaries and clustered labels.

Everything here works at beat resolution (``n_beats`` rows), never on frame-level n² matrices.
"""

from __future__ import annotations

import numpy as np

from explorer.analysis import filters


def normalise_cols(X: np.ndarray) -> np.ndarray:
    return X / (np.linalg.norm(X, axis=0, keepdims=True) + 1e-9)


def recurrence(
    chroma: np.ndarray,
    mfcc: np.ndarray,
    *,
    n_steps: int = 4,
    k: int | None = None,
    k_scale: float = 2.0,
    smooth: int = 8,
    w_timbre: float = 0.35,
) -> tuple[np.ndarray, np.ndarray]:
    """Beat-level recurrence: kNN affinity of time-delay-embedded chroma (+ a little timbre),
    then smoothed along the diagonals so that repeated *sequences* stand out.

    Parameters
    ----------
    chroma : np.ndarray [shape=(12, n)]
    mfcc : np.ndarray [shape=(n_mfcc, n)]
    n_steps : int
        Beats stacked into each embedding vector.
    k : int or None
        Neighbours kept per beat (default ``k_scale * sqrt(n)``).
    k_scale : float
    smooth : int
        Length (beats) of the diagonal smoothing filter.
    w_timbre : float
        Weight of the (unit-norm) MFCC part of each embedding vector against the chroma part.

    Returns
    -------
    R : np.ndarray [shape=(n, n), float32]
        Raw kNN affinity in [0, 1] (symmetric).
    R_path : np.ndarray [shape=(n, n), float32]
        Diagonal-smoothed affinity, scaled to [0, 1].
    """
    n = chroma.shape[1]
    if n < 3:
        one = np.ones((n, n), dtype=np.float32)
        return one, one.copy()
    C = normalise_cols(np.maximum(chroma, 0) ** 0.5)
    Mz = mfcc[1:] - mfcc[1:].mean(axis=1, keepdims=True)
    Mz = Mz / (Mz.std(axis=1, keepdims=True) + 1e-9)
    X = np.vstack([C, w_timbre * normalise_cols(Mz)])
    steps = max(1, min(n_steps, n - 1))
    Xs = normalise_cols(stack_centered(X, steps))
    D = np.clip(1.0 - Xs.T @ Xs, 0.0, 2.0)
    if k is None:
        k = int(np.ceil(k_scale * np.sqrt(n)))
    k = int(min(max(2, k), n - 1))
    np.fill_diagonal(D, np.inf)
    kth = np.partition(D, k - 1, axis=1)[:, k - 1]
    sigma = float(np.median(kth[np.isfinite(kth)])) + 1e-9
    np.fill_diagonal(D, 0.0)
    link = (D <= kth[:, None]) & (D <= kth[None, :])
    R = np.where(link, np.exp(-D / sigma), 0.0).astype(np.float32)
    np.fill_diagonal(R, 1.0)
    L = max(1, min(smooth, n))
    R_path = filters.diagonal_mean(R, length=L)
    R_path = R_path / max(float(R_path.max()), 1e-9)
    return R, np.clip(R_path, 0, 1).astype(np.float32)


def repeat_strength(R: np.ndarray, *, span: int) -> np.ndarray | None:
    """How well the stretch starting at every unit is heard again elsewhere in the song.

    Parameters
    ----------
    R : np.ndarray [shape=(n, n)]
        Recurrence (affinity in [0, 1]), e.g. the raw one of :func:`recurrence`.
    span : int
        Length of the compared stretch (units); a repeat lies at a lag of at least ``span``.

    Returns
    -------
    np.ndarray [shape=(n,)] or None
        Per unit, the best mean affinity over ``span`` units along one diagonal; None when the song
        is not longer than two spans.
    """
    n = R.shape[0]
    if n <= 2 * span:
        return None
    D = filters.diagonal_mean(R, length=span)
    idx = np.arange(n)
    return np.where(np.abs(idx[:, None] - idx[None, :]) >= span, D, 0.0).max(axis=1)


def key_change(
    chroma: np.ndarray,
    *,
    min_units: int,
    shifts: tuple[int, ...] = (1, 2),
    n_steps: int = 4,
    margin: float = 0.015,
) -> tuple[int, int, float] | None:
    """Where a song moves to another key for good (the last chorus a tone higher), and by how much.

    For every split ``b`` and shift, the units from ``b`` on are compared with everything before
    ``b``: each is matched to its best earlier unit as it sounds and moved back by the shift (chroma
    sequences of ``n_steps`` units, cosine).  The gain of a split is how much better the moved
    matches are, summed over the units after it, less ``margin`` per unit; the split and shift with
    the largest mean gain per unit after the split are returned.

    Parameters
    ----------
    chroma : np.ndarray [shape=(12, n)]
        Beat-synchronous chroma.
    min_units : int
        Shortest stretch before and after a split.
    shifts : tuple of int
        Semitones tried, up and down.
    n_steps : int
        Units stacked into each compared sequence.
    margin : float
        Gain a unit must bring to count for a split (cosine; the threshold the caller believes).

    Returns
    -------
    (start, semitones, gain) or None when the song is shorter than two ``min_units``: the first
    unit in the new key, how far the key moved (positive: up) and the mean gain in cosine
    similarity (compare it with a threshold before believing it).
    """
    n = chroma.shape[1]
    if n < 2 * min_units or not shifts:
        return None
    C = normalise_cols(np.maximum(chroma, 0) ** 0.5)
    X = normalise_cols(stack_centered(C, n_steps)).astype(np.float32)
    # [b, j]: the best match of unit j among units 0..b
    same = _running_max_rows(X.T @ X)
    splits = np.arange(min_units, n - min_units + 1)
    best: tuple[int, int, float] | None = None
    for up in sorted({abs(s) for s in shifts if s % 12}):
        for sign in (1, -1):
            moved = normalise_cols(stack_centered(np.roll(C, -sign * up, axis=0), n_steps)).astype(np.float32)
            gain = _running_max_rows(X.T @ moved)
            gain -= same
            # the gains of the units from b on against units 0..b-1
            total = np.array([float(gain[b - 1, b:].sum()) for b in splits])
            # the split with the most gain beyond `margin` per unit after it: units that gain less
            # (the old key's last bars) count against it
            k = int(np.argmax(total - margin * (n - splits)))
            g = float(total[k]) / (n - int(splits[k]))
            if best is None or g > best[2]:
                best = (int(splits[k]), sign * up, g)
    return best


def _running_max_rows(S: np.ndarray) -> np.ndarray:
    """Row ``i`` becomes the elementwise maximum of rows 0..i, in place (a loop over rows runs ~8× faster
    than ``np.maximum.accumulate`` down the columns of a C-ordered array)."""
    for i in range(1, S.shape[0]):
        np.maximum(S[i - 1], S[i], out=S[i])
    return S


def stack_centered(X: np.ndarray, n_steps: int) -> np.ndarray:
    """Time-delay embedding: column ``i`` holds columns ``i - (n_steps - 1) // 2`` … ``i + n_steps // 2``
    of ``X`` (the first and last columns repeated past the ends).

    Parameters
    ----------
    X : np.ndarray [shape=(d, n)]
    n_steps : int

    Returns
    -------
    np.ndarray [shape=(d * n_steps, n)]
    """
    n = X.shape[1]
    offsets = np.arange(n_steps) - (n_steps - 1) // 2
    idx = np.clip(np.arange(n)[None, :] + offsets[:, None], 0, n - 1)
    return X[:, idx].transpose(1, 0, 2).reshape(-1, n)


def norm01(x: np.ndarray) -> np.ndarray:
    """``x`` as a share of its 99th percentile, clipped to [0, 1] (zeros when that percentile is 0)."""
    x = np.asarray(x, dtype=float)
    hi = np.percentile(x, 99) if x.size else 0.0
    return np.clip(x / hi, 0, 1) if hi > 0 else np.zeros_like(x)


def novelty(
    R_path: np.ndarray,
    chroma: np.ndarray,
    mfcc: np.ndarray,
    *,
    sigma: float = 2.0,
    kernel: int = 16,
    w_structure: float = 0.6,
) -> np.ndarray:
    """Boundary strength at the start of every beat.

    A mix of *structure features* novelty (Serrà et al. 2014: where the pattern of repetitions
    changes) and Foote's checkerboard novelty on chroma+timbre (where the sound changes).

    Parameters
    ----------
    R_path : np.ndarray [shape=(n, n)]
    chroma, mfcc : np.ndarray [shape=(d, n)]
    sigma : float
        Gaussian smoothing (beats) of the structure features along time.
    kernel : int
        Half-size (beats) of the checkerboard kernel.
    w_structure : float
        Weight of the structure-feature novelty (the rest is checkerboard).

    Returns
    -------
    np.ndarray [shape=(n + 1,)] in [0, 1]; entry ``b`` is the strength of a boundary before beat ``b``.
    """
    n = R_path.shape[0]
    out = np.zeros(n + 1)
    if n < 4:
        return out
    sf = structure_feature_novelty(R_path, sigmas=(sigma,))[0]
    foote = checkerboard_novelty(sound_similarity(chroma, mfcc), half=kernel)
    return w_structure * norm01(sf) + (1 - w_structure) * norm01(foote)


def zscore_cols(M: np.ndarray) -> np.ndarray:
    Z = M - M.mean(axis=1, keepdims=True)
    Z = Z / (Z.std(axis=1, keepdims=True) + 1e-9)
    return normalise_cols(Z)


def credit_pickups(strength: np.ndarray, *, width: int) -> np.ndarray:
    """Let a boundary collect the evidence from the ``width`` beats just before it.

    A phrase usually starts on a downbeat, but what announces it comes a little earlier: the
    melody's pick-up notes, a drum fill, the lead-in chord.  Repetitions therefore begin, and the
    sound changes, one or two beats *before* the bar line where a listener (and an annotator) puts
    the boundary; scored on the beat where it rises, the evidence favours the bar before.  The
    running maximum over ``b - width … b`` credits that lead-in to the bar line that follows it.

    Parameters
    ----------
    strength : np.ndarray [shape=(m,)]
        Boundary strength per position (beat).
    width : int
        Beats of lead-in credited to the next position (0 leaves ``strength`` as it is).

    Returns
    -------
    np.ndarray [shape=(m,)]
    """
    strength = np.asarray(strength, dtype=float)
    if width <= 0 or strength.size == 0:
        return strength.copy()
    padded = np.concatenate([np.full(width, -np.inf), strength])
    windows = np.lib.stride_tricks.sliding_window_view(padded, width + 1)
    return windows.max(axis=1)


#: Score of a segment length in bars (phrase prior); other whole-bar lengths get ``_OTHER_BARS``.
_BAR_PRIOR = {1: -0.5, 2: -0.15, 3: -0.3, 4: 0.25, 5: -0.2, 6: -0.1, 8: 0.3, 12: 0.05, 16: 0.1}
_OTHER_BARS = -0.3
_OFF_GRID = -0.6


def segment(
    nov: np.ndarray,
    downbeat: np.ndarray,
    *,
    beats_per_bar: int = 4,
    penalty: float = 0.9,
    w_downbeat: float = 0.25,
    w_prior: float = 1.0,
    max_bars: int = 24,
    times: np.ndarray | None = None,
    short_seconds: float = 14.0,
    w_short: float = 1.0,
    long_seconds: float = 32.0,
    w_long: float = 1.0,
) -> np.ndarray:
    """Choose boundaries by dynamic programming: strong novelty, on downbeats, phrase-like lengths.

    Parameters
    ----------
    nov : np.ndarray [shape=(n + 1,)]
        Boundary strength before each beat (``nov[n]`` is the end).
    downbeat : np.ndarray [shape=(n + 1,), bool]
        Whether each position is the first beat of a bar.
    beats_per_bar : int
    penalty : float
        Cost of each segment (fewer, longer segments when larger).
    w_downbeat, w_prior : float
        Weights of the downbeat bonus and of the phrase-length prior.
    max_bars : int
        Longest segment considered.
    times : np.ndarray [shape=(n + 1,)] or None
        Time (s) of every position; when given, segments shorter than ``short_seconds`` cost up
        to ``w_short`` more (a phrase rarely lasts only a few seconds, whatever the beat tracker
        thinks a bar is), and segments longer than ``long_seconds`` cost ``w_long`` more per
        ``long_seconds`` beyond it (a section rarely lasts a minute: when the beat tracker counts
        half-time bars, the bar prior alone would allow one).
    short_seconds, w_short, long_seconds, w_long : float

    Returns
    -------
    np.ndarray of int: boundary positions (beat indices) including 0 and n.
    """
    n = nov.size - 1
    if n <= beats_per_bar:
        return np.array([0, n])
    max_len = max(beats_per_bar, max_bars * beats_per_bar)
    lengths = np.arange(1, max_len + 1)
    prior = np.full(lengths.size, _OFF_GRID)
    whole = lengths % beats_per_bar == 0
    prior[whole] = [_BAR_PRIOR.get(int(L // beats_per_bar), _OTHER_BARS) for L in lengths[whole]]
    gain_at = nov + w_downbeat * downbeat.astype(float)
    gain_at[n] = 0.0
    best = np.full(n + 1, -np.inf)
    best[0] = 0.0
    back = np.zeros(n + 1, dtype=int)
    for b in range(1, n + 1):
        lo = max(0, b - max_len)
        a = np.arange(lo, b)
        L = b - a
        cand = best[a] + w_prior * prior[L - 1] - penalty + gain_at[b]
        if times is not None:
            dur = times[b] - times[a]
            cand = (
                cand
                - w_short * np.clip(1.0 - dur / short_seconds, 0.0, 1.0)
                - w_long * np.maximum(dur / long_seconds - 1.0, 0.0)
            )
        j = int(np.argmax(cand))
        best[b] = cand[j]
        back[b] = a[j]
        if not np.isfinite(best[b]):
            best[b], back[b] = best[lo], lo
    out = [n]
    while out[-1] > 0:
        out.append(back[out[-1]])
    return np.array(out[::-1])


#: Positions :func:`repetition_onsets` handles at once (smaller blocks skip more empty lag columns).
BLOCK_POSITIONS = 64


def repetition_onsets(R: np.ndarray, *, after: int = 16, before: int = 8, floor: float = 0.3) -> np.ndarray:
    """Where repetitions begin or end: for every beat, how many recurrence paths (diagonals of
    ``R``) start or stop there, and how clearly.

    A path starts at beat ``b`` when its diagonal is strong over the ``after`` beats from ``b`` and
    weaker by more than ``floor`` over the ``before`` beats before ``b``; it stops at ``b`` in the
    mirror case.  These one-sided windows put the peak on the first beat of the repeated material,
    where a symmetric kernel spreads it over both sides; repetitions closer than ``after`` beats
    (a riff within a section) are left out.

    Parameters
    ----------
    R : np.ndarray [shape=(n, n)]
        Recurrence affinity in [0, 1], e.g. the raw matrix of :func:`recurrence`.
    after, before : int
        Window lengths (beats) on the repeated side and on the other side.
    floor : float
        How much weaker (mean affinity) the other side must be for the change to count.

    Returns
    -------
    np.ndarray [shape=(n + 1,)] in [0, 1]; entry ``b`` is the strength of a boundary before beat ``b``.
    """
    n = R.shape[0]
    out = np.zeros(n + 1)
    if n < after + before + 2:
        return out
    # lag matrix without wrap-around: column k holds the diagonal at offset k - (n - 1), NaN outside
    # (row i of R, shifted right by i, read through a strided view of a NaN-padded copy)
    padded = np.full((n, 3 * n - 2), np.nan, dtype=np.float32)
    padded[:, n - 1 : 2 * n - 1] = R
    row, col = padded.strides
    lags = np.lib.stride_tricks.as_strided(
        padded, shape=(n, 2 * n - 1), strides=(row + col, col), writeable=False
    ).copy()
    del padded
    lags[:, n - after : n - 1 + after] = np.nan  # offsets closer than ``after``
    valid = np.isfinite(lags)
    csum = np.zeros((n + 1, lags.shape[1]), dtype=np.float32)
    np.cumsum(np.where(valid, lags, 0.0), axis=0, out=csum[1:])
    ccount = np.zeros((n + 1, lags.shape[1]), dtype=np.float32)
    np.cumsum(valid, axis=0, out=ccount[1:])
    del lags, valid

    # per position pair (lo, hi) and lag column in ``cols``: the mean of rows lo … hi-1, NaN where none is valid
    def mean(lo: np.ndarray, hi: np.ndarray, cols: slice) -> np.ndarray:
        count = ccount[hi, cols] - ccount[lo, cols]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, (csum[hi, cols] - csum[lo, cols]) / count, np.nan)

    # blocks of positions at once: vectorised, with a bounded amount of memory; a block reads rows
    # first … last-1, and row i holds a diagonal only in lag columns n-1-i … 2n-2-i, so the other
    # columns (all NaN for these rows, nothing to add) are left out
    block = max(1, min(BLOCK_POSITIONS, (1 << 20) // (2 * n - 1)))
    for b0 in range(before, n - before + 1, block):
        b = np.arange(b0, min(b0 + block, n - before + 1))
        first, last = max(0, int(b[0]) - after), min(n, int(b[-1]) + after)
        cols = slice(n - last, 2 * n - 1 - first)
        start = mean(b, np.minimum(n, b + after), cols) - mean(np.maximum(0, b - before), b, cols) - floor
        stop = mean(np.maximum(0, b - after), b, cols) - mean(b, np.minimum(n, b + before), cols) - floor
        out[b] = np.nansum(np.maximum(start, 0), axis=1) + np.nansum(np.maximum(stop, 0), axis=1)
    return norm01(out)


def structure_feature_novelty(
    R_path: np.ndarray, *, sigmas: tuple[float, ...], precision: type = np.float64
) -> list[np.ndarray]:
    """How fast the song's repetition structure changes, at every position 0 … n, for each smoothing.

    Every row of the lag matrix (unit ``i``'s similarity to the units ``0 … n-1`` after it, wrapped)
    is smoothed along time with a Gaussian of each ``sigma`` (units); the strength before unit ``b`` is
    the distance between the smoothed rows ``b - 1`` and ``b`` (Serrà et al.'s structure features).

    Returns
    -------
    list of np.ndarray [shape=(n + 1,)], one per sigma (zeros at both ends); empty rows when n < 4.
    """
    n = R_path.shape[0]
    if n < 4:
        return [np.zeros(n + 1) for _ in sigmas]
    idx = (np.arange(n)[:, None] + np.arange(n)[None, :]) % n
    lag: np.ndarray = np.take_along_axis(R_path, idx, axis=1)
    out = []
    for sigma in sigmas:
        smooth = filters.gaussian_smooth(lag, sigma=sigma, axis=0, precision=precision)
        sf = np.zeros(n + 1)
        sf[1:n] = np.linalg.norm(np.diff(smooth, axis=0), axis=1)
        out.append(sf)
    return out


def sound_similarity(chroma: np.ndarray, mfcc: np.ndarray) -> np.ndarray:
    """Cosine self-similarity [shape=(n, n)] of unit vectors of chroma and (half-weight, z-scored) MFCC."""
    X = np.vstack([normalise_cols(np.maximum(chroma, 0)), 0.5 * zscore_cols(mfcc)])
    X = normalise_cols(X)
    return X.T @ X


def checkerboard_novelty(S: np.ndarray, *, half: int) -> np.ndarray:
    """Foote's novelty [shape=(n + 1,)], ≥ 0: a Gaussian-tapered checkerboard kernel of half-size ``half``
    (units) slid along the diagonal of the self-similarity ``S``, edges extended; zeros when n < 4."""
    n = S.shape[0]
    out = np.zeros(n + 1)
    if n < 4 or half < 1:
        return out
    g = np.exp(-0.5 * np.linspace(-1.5, 1.5, 2 * half) ** 2)
    kernel = np.outer(g, g)
    kernel[:half, half:] *= -1
    kernel[half:, :half] *= -1
    Sp = np.pad(S, half, mode="edge")
    for b in range(1, n):
        out[b] = float((Sp[b : b + 2 * half, b : b + 2 * half] * kernel).sum())
    return np.maximum(out, 0.0)
