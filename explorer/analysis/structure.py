"""Sections: beat-synchronous features, the recurrence matrix, boundaries and clustered labels.

Everything here works at beat resolution (``n_beats`` rows), never on frame-level n² matrices.
"""

from __future__ import annotations

import numpy as np

from explorer.analysis import clustering, dsp


def beat_sync(feats, beat_frames: np.ndarray) -> dict[str, np.ndarray]:
    """Aggregate frame features between consecutive beats.

    Parameters
    ----------
    feats : explorer.analysis.features.Features
    beat_frames : np.ndarray [shape=(n_beats,)]

    Returns
    -------
    dict with ``chroma`` (12, n_beats), ``mfcc`` (n_mfcc, n_beats), ``rms`` (n_beats,) and
    ``fullness`` (n_beats,): the share of mel bands within 30 dB of each frame's loudest band (how
    much of the spectrum sounds at once: a full chorus against a sparse verse).
    """
    n = beat_frames.size
    bounds = np.concatenate([beat_frames, [feats.n_frames]])
    bounds = np.maximum.accumulate(np.clip(bounds, 0, feats.n_frames))
    C = dsp.sync(feats.chroma, bounds, aggregate=np.mean, pad=False)[:, :n]
    M = dsp.sync(feats.mfcc, bounds, aggregate=np.mean, pad=False)[:, :n]
    r = dsp.sync(feats.rms[None, :], bounds, aggregate=np.mean, pad=False)[0, :n]
    full = (
        (feats.mel_db >= feats.mel_db.max(axis=0, keepdims=True) - 30.0).mean(axis=0) if feats.n_frames else np.zeros(0)
    )
    f = dsp.sync(full[None, :].astype(np.float32), bounds, aggregate=np.mean, pad=False)[0, :n]
    return {"chroma": C, "mfcc": M, "rms": r, "fullness": f}


def metrical_level(bar_seconds: float, *, target: float = 2.4, max_octaves: int = 1) -> int:
    """How many octaves to move the structure's bar from the tracked one: the ``k`` for which
    ``bar_seconds * 2**k`` is nearest ``target`` on a log scale (ties go to the tracked bar).

    A beat tracker may count the beat of a song at the annotated level, twice as fast (eighth
    notes) or half as fast; the phrase lengths of the structure stage are counted in bars, so
    the bar they count must mean about the same length of music whatever level was tracked.

    Parameters
    ----------
    bar_seconds : float
        Length of the tracked bar (s).
    target : float
        Bar length (s) the structure stage is made for.
    max_octaves : int
        Largest ``|k|``.

    Returns
    -------
    int : ``k`` in ``-max_octaves … max_octaves`` (0 when ``bar_seconds`` is not positive).
    """
    if not bar_seconds > 0 or not target > 0:
        return 0
    x = np.log2(bar_seconds / target)
    return int(np.clip(-np.round(x - 1e-9 * np.sign(x)), -max_octaves, max_octaves))


def structural_grid(
    beat_frames: np.ndarray,
    downbeat_index: np.ndarray,
    *,
    beats_per_bar: int,
    fps: float,
    target_bar: float = 2.4,
    n_frames: int | None = None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """The grid the structure stage works on: tracked beats, or half-beats, or every other beat,
    so that its bar (``beats_per_bar`` units) lasts about ``target_bar`` seconds.

    The metre is kept (a bar of 3 stays 3 units); only the metrical octave changes.  When the
    bar is halved (slow tracked beat), the units are the beats and the points halfway between
    them and a bar starts on every tracked downbeat and half bar.  When it is doubled (fast
    tracked beat in an even metre: a tracked bar of 4 eighth notes is half a bar of 4 beats),
    the units are every other beat, on the downbeats' side, and both tracked downbeats of a
    doubled bar are marked, so the segmentation decides which one starts a phrase.  A bar of
    3 (or another odd number of) tracked beats is never doubled: the metre found it.

    Parameters
    ----------
    beat_frames : np.ndarray [shape=(n_beats,), int]
        Frame index of every tracked beat.
    downbeat_index : np.ndarray [shape=(n_bars,), int]
        Indices into ``beat_frames`` of the tracked downbeats.
    beats_per_bar : int
    fps : float
        Frames per second.
    target_bar : float
        Bar length (s) aimed at (see :func:`metrical_level`).
    n_frames : int or None
        Frames in the song (a half-beat after the last beat is added only before this).

    Returns
    -------
    unit_frames : np.ndarray [shape=(n_units,), int]
    unit_down : np.ndarray [shape=(n_units + 1,), bool]
        Whether each unit starts a (structural) bar; the last entry is the end of the song.
    k : int
        The octave moved (``-1``: units are half-beats, ``0``: beats, ``1``: every other beat).
    """
    frames = np.asarray(beat_frames, dtype=int)
    down = np.asarray(downbeat_index, dtype=int)
    down = down[(down >= 0) & (down < frames.size)]
    bpb = max(1, int(beats_per_bar))
    k = 0
    if frames.size >= 4 * bpb and down.size:
        period = float(np.median(np.diff(frames))) / fps
        k = metrical_level(bpb * period, target=target_bar)
        if k > 0 and bpb % 2:
            # a bar of three tracked beats is a bar the metre found (a waltz is phrased in it), not
            # the eighth notes of a slower bar: two of them make a hypermeasure, not a bar
            k = 0
    if k < 0:
        mid = (frames[:-1] + frames[1:]) // 2
        last = frames[-1] + round(0.5 * float(np.median(np.diff(frames))))
        tail = [last] if n_frames is None or last < n_frames else []
        units = np.empty(2 * frames.size - 1 + len(tail), dtype=int)
        units[0::2] = frames
        units[1 : 2 * frames.size - 1 : 2] = mid
        if tail:
            units[-1] = tail[0]
        marks = np.concatenate([2 * down, 2 * down + bpb])
    elif k > 0:
        p = int(down[0]) % 2
        units = frames[p::2]
        marks = (down[(down - p) % 2 == 0] - p) // 2
    else:
        units, marks = frames, down
    unit_down = np.zeros(units.size + 1, dtype=bool)
    unit_down[marks[(marks >= 0) & (marks < units.size)]] = True
    return units, unit_down, k


def _normalise_cols(X: np.ndarray) -> np.ndarray:
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
    C = _normalise_cols(np.maximum(chroma, 0) ** 0.5)
    Mz = mfcc[1:] - mfcc[1:].mean(axis=1, keepdims=True)
    Mz = Mz / (Mz.std(axis=1, keepdims=True) + 1e-9)
    X = np.vstack([C, w_timbre * _normalise_cols(Mz)])
    steps = max(1, min(n_steps, n - 1))
    Xs = _normalise_cols(stack_centered(X, steps))
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
    R_path = dsp.diagonal_mean(R, length=L)
    R_path = R_path / max(float(R_path.max()), 1e-9)
    return R, np.clip(R_path, 0, 1).astype(np.float32)


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


def _norm01(x: np.ndarray) -> np.ndarray:
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
    idx = (np.arange(n)[:, None] + np.arange(n)[None, :]) % n
    lag = np.take_along_axis(R_path, idx, axis=1)
    lag = dsp.gaussian_smooth(lag, sigma=sigma, axis=0)
    sf = np.zeros(n + 1)
    sf[1:n] = np.linalg.norm(np.diff(lag, axis=0), axis=1)
    X = np.vstack([_normalise_cols(np.maximum(chroma, 0)), 0.5 * _zcols(mfcc)])
    X = _normalise_cols(X)
    S = X.T @ X
    K = kernel
    g = np.exp(-0.5 * (np.linspace(-1.5, 1.5, 2 * K)) ** 2)
    taper = np.outer(g, g)
    sign = np.ones((2 * K, 2 * K))
    sign[:K, K:] = -1
    sign[K:, :K] = -1
    ck = taper * sign
    Sp = np.pad(S, K, mode="edge")
    foote = np.zeros(n + 1)
    for b in range(1, n):
        foote[b] = float((Sp[b : b + 2 * K, b : b + 2 * K] * ck).sum())
    foote = np.maximum(foote, 0)
    return w_structure * _norm01(sf) + (1 - w_structure) * _norm01(foote)


def _zcols(M: np.ndarray) -> np.ndarray:
    Z = M - M.mean(axis=1, keepdims=True)
    Z = Z / (Z.std(axis=1, keepdims=True) + 1e-9)
    return _normalise_cols(Z)


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


def spectral_embedding(R_path: np.ndarray, mfcc: np.ndarray, *, k: int = 8) -> np.ndarray:
    """Beat embedding from the graph Laplacian of repetition + sequence links (McFee & Ellis 2014).

    Beats joined by a repetition path (``R_path``) or following each other with similar timbre
    end up close together; the smallest eigenvectors of the normalised Laplacian of that graph
    give every beat coordinates in which the repeated material of a song forms tight clusters,
    whatever the sections' boundaries are.

    Parameters
    ----------
    R_path : np.ndarray [shape=(n, n)]
        Path-enhanced recurrence in [0, 1].
    mfcc : np.ndarray [shape=(n_mfcc, n)]
    k : int
        Eigenvectors kept.

    Returns
    -------
    np.ndarray [shape=(k, n)]: unit-norm columns.
    """
    n = R_path.shape[0]
    if n < 4:
        return np.ones((1, n))
    Rr = np.array(R_path, dtype=float)
    np.fill_diagonal(Rr, 0.0)
    Z = mfcc - mfcc.mean(axis=1, keepdims=True)
    d2 = np.sum(np.diff(Z, axis=1) ** 2, axis=0)
    loc = np.exp(-d2 / (np.median(d2) + 1e-9))
    deg_r, deg_l = Rr.sum(axis=1), np.zeros(n)
    deg_l[:-1] += loc
    deg_l[1:] += loc
    mu = float(deg_l.dot(deg_l + deg_r) / max(((deg_l + deg_r) ** 2).sum(), 1e-9))
    A = mu * Rr
    A[np.arange(n - 1), np.arange(1, n)] += (1 - mu) * loc
    A[np.arange(1, n), np.arange(n - 1)] += (1 - mu) * loc
    d = A.sum(axis=1) + 1e-9
    Dm = 1.0 / np.sqrt(d)
    Lsym = np.eye(n) - Dm[:, None] * A * Dm[None, :]
    k = int(min(k, n - 1))
    V = dsp.median_smooth(dsp.smallest_eigenvectors(Lsym, k=k), size=9, axis=0)
    return _normalise_cols(V.T)


def segment_similarity(
    bounds: np.ndarray,
    R: np.ndarray,
    mfcc: np.ndarray,
    *,
    beats_per_bar: int = 4,
    w_timbre: float = 0.4,
    embedding: np.ndarray | None = None,
) -> np.ndarray:
    """Similarity (0–1) of every pair of segments: the best-aligned diagonal of the recurrence
    (same material played again) mixed with the similarity of their average timbre.

    Parameters
    ----------
    bounds : np.ndarray [shape=(n_seg + 1,)]
        Segment boundaries (beat indices).
    R : np.ndarray [shape=(n, n)]
    mfcc : np.ndarray [shape=(n_mfcc, n)]
    beats_per_bar : int
        Alignments are tried in steps of one bar (and ±1 beat).
    w_timbre : float
    embedding : np.ndarray [shape=(k, n)] or None
        Beat embedding (:func:`spectral_embedding`); when given, two segments are also as similar as
        their mean embeddings are (the larger of the two similarities counts), so that repeats
        found by the graph survive boundaries that cut them differently.

    Returns
    -------
    np.ndarray [shape=(n_seg, n_seg)]
    """
    m = bounds.size - 1
    Z = _zcols(mfcc)
    means = np.stack([_unit(Z[:, bounds[i] : bounds[i + 1]].mean(axis=1)) for i in range(m)], axis=1)
    timbre = np.clip(means.T @ means, 0, 1)
    sim = np.eye(m)
    for i in range(m):
        a0, a1 = bounds[i], bounds[i + 1]
        for j in range(i + 1, m):
            b0, b1 = bounds[j], bounds[j + 1]
            sim[i, j] = sim[j, i] = (1 - w_timbre) * _diag_match(R, a0, a1, b0, b1, beats_per_bar) + w_timbre * timbre[
                i, j
            ]
    if embedding is not None:
        Ec = embedding - embedding.mean(axis=1, keepdims=True)
        E = np.stack([_unit(Ec[:, bounds[i] : bounds[i + 1]].mean(axis=1)) for i in range(m)], axis=1)
        sim = np.maximum(sim, np.clip(E.T @ E, 0, 1))
    return sim


def _unit(v):
    return v / (np.linalg.norm(v) + 1e-9)


def _diag_match(R, a0, a1, b0, b1, step):
    la, lb = a1 - a0, b1 - b0
    if la > lb:
        a0, a1, b0, b1, la, lb = b0, b1, a0, a1, lb, la
        R = R.T
    best = 0.0
    for off in range(0, lb - la + 1, step):
        for d in (-1, 0, 1):
            s = b0 + off + d
            i = np.arange(a0, a1)
            j = i - a0 + s
            ok = (j >= 0) & (j < R.shape[0])
            if not ok.any():
                continue
            v = float(R[i[ok], j[ok]].sum()) / la
            best = max(best, v)
    cover = la / lb
    return best * (0.5 + 0.5 * cover)


def cluster(sim: np.ndarray, *, threshold: float = 0.3, relative: bool = True, method: str = "average") -> np.ndarray:
    """Group segments whose similarity exceeds ``threshold`` (hierarchical clustering, ``method``
    linkage as in :func:`explorer.analysis.clustering.flat_clusters`: with ``"single"`` a chain of strong
    pairwise repeats is one group, as a verse sung three times with small variations is).

    With ``relative``, similarities are first rescaled so that the song's median similarity
    between different segments becomes 0 (a song where everything sounds alike still has
    distinguishable sections).

    Returns
    -------
    np.ndarray [shape=(n_seg,), int]: cluster ids numbered in order of first appearance.
    """
    m = sim.shape[0]
    if m == 1:
        return np.zeros(1, dtype=int)
    if relative and m > 2:
        med = float(np.median(sim[~np.eye(m, dtype=bool)]))
        sim = (sim - med) / max(1e-9, 1.0 - med)
    D = np.clip(1.0 - sim, 0, 1)
    np.fill_diagonal(D, 0)
    return clustering.flat_clusters(D, max_distance=1.0 - threshold, method=method)


def join_closest_pair(sim: np.ndarray, labels, *, threshold: float) -> list[int]:
    """Give the most similar two segments that are not neighbours one label, when their
    similarity (rescaled so that the song's median between different segments is 0, as in
    :func:`cluster`) reaches ``threshold``.

    For a song where clustering found no repeat: a section heard twice with changes (another
    instrument, a key change) is still the song's most similar pair.

    Returns
    -------
    list of int : ``labels`` with the later segment's label set to the earlier one's.
    """
    labels = [int(x) for x in labels]
    m = sim.shape[0]
    if m < 3:
        return labels
    med = float(np.median(sim[~np.eye(m, dtype=bool)]))
    rel = (sim - med) / max(1e-9, 1.0 - med)
    far = np.abs(np.subtract.outer(np.arange(m), np.arange(m))) > 1
    rel = np.where(far, rel, -np.inf)
    i, j = np.unravel_index(int(np.argmax(rel)), rel.shape)
    if rel[i, j] < threshold:
        return labels
    i, j = min(i, j), max(i, j)
    old = labels[j]
    return [labels[i] if x == old else x for x in labels]


def merge_pairs(labels: list[int], lengths: np.ndarray, *, max_length: float, min_share: float = 0.75) -> list[int]:
    """Join labels that mostly occur as a pair (``x`` then ``y``, at least twice and in at least
    ``min_share`` of the occurrences of each) into one unit wherever they occur together, as long
    as the pair stays shorter than ``max_length`` and the joined unit still comes back as a
    separate run (pairs heard back to back, ``x y x y``, would fuse into one run and hide the
    very repeat they stand for).

    A chorus made of two different halves is one section that repeats, not two.

    Parameters
    ----------
    labels : list of int
        Label of every segment, in order.
    lengths : np.ndarray [shape=(n_seg,)]
        Segment lengths (any unit).
    max_length : float
        Longest merged unit (same unit as ``lengths``).
    min_share : float

    Returns
    -------
    list of int : labels where every joined ``y`` is renamed to its ``x``.
    """
    labels = list(labels)
    lengths = np.asarray(lengths, dtype=float)
    while True:
        runs = _runs(labels)
        count = {lab: sum(1 for r in runs if r[0] == lab) for lab in set(labels)}
        pairs: dict[tuple[int, int], list[int]] = {}
        for k in range(len(runs) - 1):
            pairs.setdefault((runs[k][0], runs[k + 1][0]), []).append(k)
        best = None
        for (x, y), ks in pairs.items():
            if len(ks) < 2 or len(ks) < min_share * count[x] or len(ks) < min_share * count[y]:
                continue
            span = max(lengths[runs[k][1] : runs[k + 1][2]].sum() for k in ks)
            if span > max_length:
                continue
            key = (len(ks), -span)
            if best is not None and key <= best[0]:
                continue
            if sum(1 for r in _runs(_join(labels, runs, x, ks)) if r[0] == x) < 2:
                continue
            best = (key, x, ks)
        if best is None:
            return labels
        _, x, ks = best
        labels = _join(labels, runs, x, ks)


def _join(labels: list[int], runs, x: int, ks: list[int]) -> list[int]:
    """``labels`` with the run after each run ``k`` in ``ks`` renamed to ``x``."""
    out = list(labels)
    for k in ks:
        _, a, b = runs[k + 1]
        out[a:b] = [x] * (b - a)
    return out


def split_long_runs(bounds, labels, cuts, strength, *, max_length: int) -> tuple[list[int], list[int]]:
    """Split every section longer than ``max_length`` at its strongest inner boundary, recursively.

    Neighbouring segments with one label are merged into one section; a run far longer than any
    verse or chorus is more likely two sections of related material (a chorus, then its chords
    without the melody) than one.

    Parameters
    ----------
    bounds : sequence of int [shape=(n_sections + 1,)]
        Section boundaries (beat indices).
    labels : sequence [shape=(n_sections,)]
    cuts : np.ndarray of int
        Positions where a section may be split (the segment boundaries it was merged from).
    strength : np.ndarray
        Boundary strength per position.
    max_length : int
        Longest section (beats).

    Returns
    -------
    (bounds, labels) : the split sections, the pieces of a run keeping its label.
    """
    cuts = np.asarray(cuts)
    out_b, out_l = [int(bounds[0])], []
    for k, lab in enumerate(labels):
        pending, done = [(int(bounds[k]), int(bounds[k + 1]))], []
        while pending:
            a, b = pending.pop()
            inside = cuts[(cuts > a) & (cuts < b)]
            if b - a <= max_length or inside.size == 0:
                done.append((a, b))
                continue
            c = int(inside[np.argmax(strength[inside])])
            pending.extend([(a, c), (c, b)])
        for _, b in sorted(done):
            out_b.append(b)
            out_l.append(lab)
    return out_b, out_l


def _runs(labels: list[int]) -> list[tuple[int, int, int]]:
    """Runs of equal labels as ``(label, first, end)`` (``end`` exclusive)."""
    out: list[tuple[int, int, int]] = []
    for i, lab in enumerate(labels):
        if out and out[-1][0] == lab:
            out[-1] = (lab, out[-1][1], i + 1)
        else:
            out.append((lab, i, i + 1))
    return out


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
    lags = np.full((n, 2 * n - 1), np.nan, dtype=np.float32)
    rows = np.arange(n)
    for off in range(-(n - 1), n):
        if abs(off) < after:
            continue
        cols = rows + off
        ok = (cols >= 0) & (cols < n)
        lags[rows[ok], off + n - 1] = R[rows[ok], cols[ok]]
    valid = np.isfinite(lags)
    csum = np.zeros((n + 1, lags.shape[1]), dtype=np.float32)
    np.cumsum(np.where(valid, lags, 0.0), axis=0, out=csum[1:])
    ccount = np.zeros((n + 1, lags.shape[1]), dtype=np.float32)
    np.cumsum(valid, axis=0, out=ccount[1:])
    del lags, valid

    def mean(a: int, b: int) -> np.ndarray:  # per lag: mean of rows a … b-1, NaN where none is valid
        count = ccount[b] - ccount[a]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, (csum[b] - csum[a]) / count, np.nan)

    for b in range(before, n - before + 1):
        start = mean(b, min(n, b + after)) - mean(max(0, b - before), b) - floor
        stop = mean(max(0, b - after), b) - mean(b, min(n, b + before)) - floor
        out[b] = float(np.nansum(np.maximum(start, 0)) + np.nansum(np.maximum(stop, 0)))
    return _norm01(out)
