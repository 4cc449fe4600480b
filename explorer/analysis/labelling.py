"""Letters for segments: how alike two segments are (timbre, harmony, the recurrence along their diagonal),
clustering them into letters, and the rules that join, merge or split runs of letters."""

from __future__ import annotations

import numpy as np

from explorer.analysis import clustering, filters
from explorer.analysis.structure import normalise_cols, zscore_cols


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
    V = filters.median_smooth(filters.smallest_eigenvectors(Lsym, k=k), size=9, axis=0)
    return normalise_cols(V.T)


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
    Z = zscore_cols(mfcc)
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


def relative_similarity(sim: np.ndarray, *, loose_below: float | None = None, floor: float = 0.0) -> np.ndarray:
    """Segment similarities on the song's own scale: the median similarity between different
    segments becomes 0 (a song where everything sounds alike still has distinguishable sections)
    and the scale's top becomes 1.

    The top is exact repetition (1) for a song whose clearest repeat (its most similar pair of
    different segments) reaches ``loose_below``: sequenced music repeats a section note for note.
    A song that repeats more loosely (played by people: timing, dropped notes, a sung line
    phrased anew) is measured against its clearest repeat instead, divided by ``loose_below``, so
    that its repeats read as those of an exact song do; the top is never below ``floor``, where a
    "clearest repeat" is noise rather than a loose repeat.

    Parameters
    ----------
    sim : np.ndarray [shape=(n_seg, n_seg)]
        Similarities of every two segments (1 on the diagonal).
    loose_below : float or None
        None: every song is measured against exact repetition.
    floor : float
        Least top of a loose song's scale.

    Returns
    -------
    np.ndarray [shape=(n_seg, n_seg)] : ``sim`` itself when it has fewer than three segments.
    """
    m = sim.shape[0]
    if m < 3:
        return sim
    off = sim[~np.eye(m, dtype=bool)]
    med = float(np.median(off))
    top = 1.0
    if loose_below is not None and loose_below > 0:
        top = min(1.0, max(float(off.max()) / loose_below, floor))
    return (sim - med) / max(1e-9, top - med)


def cluster(
    sim: np.ndarray,
    *,
    threshold: float = 0.3,
    relative: bool = True,
    method: str = "average",
    loose_below: float | None = None,
    floor: float = 0.0,
) -> np.ndarray:
    """Group segments whose similarity exceeds ``threshold`` (hierarchical clustering, ``method``
    linkage as in :func:`explorer.analysis.clustering.flat_clusters`: with ``"single"`` a chain of strong
    pairwise repeats is one group, as a verse sung three times with small variations is).

    With ``relative``, similarities are first put on the song's own scale
    (:func:`relative_similarity` with ``loose_below`` and ``floor``).

    Returns
    -------
    np.ndarray [shape=(n_seg,), int]: cluster ids numbered in order of first appearance.
    """
    m = sim.shape[0]
    if m == 1:
        return np.zeros(1, dtype=int)
    if relative:
        sim = relative_similarity(sim, loose_below=loose_below, floor=floor)
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
    rel = relative_similarity(sim)
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


def split_opening(
    bounds, labels, R_path: np.ndarray, *, min_extra: int, margin: float = 0.1, apart: float = 0.35
) -> tuple[list[int], list[int]]:
    """Split the song's opening section where the material it shares with a later occurrence begins.

    A short intro often ends up in one section with the first verse: the two have no boundary
    strong enough for the segmentation, and the section takes the verse's label.  That section
    then outlasts the verse's later occurrences.  When its end matches the longest of the shorter
    occurrences clearly better than its start does, and its head resembles that occurrence much
    less than its matched part, the head is material of its own (an intro) and becomes a section
    with a new label.  A head longer than the shared material is left alone: that is more than a
    lead-in, and where it ends is a guess.

    Parameters
    ----------
    bounds : sequence of int [shape=(n_sections + 1,)]
        Section boundaries (structure units); the first section is the one that opens the song.
    labels : sequence of int [shape=(n_sections,)]
    R_path : np.ndarray [shape=(n, n)]
        Path-enhanced recurrence in [0, 1] (:func:`~explorer.analysis.structure.recurrence`).
    min_extra : int
        Least number of units by which the opening section must outlast the other occurrence.
    margin : float
        How much higher the mean affinity along the diagonal must be with the two sections
        aligned at their ends than at their starts.
    apart : float
        How much lower the head's best mean affinity to the other occurrence (aligned with its
        start or its end) must be than that of the matched part.

    Returns
    -------
    (bounds, labels) : lists; unchanged unless the opening section is split.
    """
    bounds, labels = [int(x) for x in bounds], [int(x) for x in labels]
    if len(labels) < 2:
        return bounds, labels
    a, b = bounds[0], bounds[1]
    shorter = [
        (bounds[j + 1] - bounds[j], bounds[j])
        for j in range(1, len(labels))
        if labels[j] == labels[0] and (b - a) - (bounds[j + 1] - bounds[j]) >= max(min_extra, 1)
    ]
    if not shorter:
        return bounds, labels
    length, c = max(shorter)
    extra = (b - a) - length
    if extra > length:  # a head longer than the shared material is more than a lead-in
        return bounds, labels
    t, u = np.arange(length), np.arange(extra)
    start = float(R_path[a + t, c + t].mean())
    end = float(R_path[b - length + t, c + t].mean())
    head = max(float(R_path[a + u, c + u].mean()), float(R_path[a + u, c + length - extra + u].mean()))
    if end - start < margin or head > end - apart:
        return bounds, labels
    return [a, b - length] + bounds[1:], [max(labels) + 1] + labels


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


def repeats_pair_up(labels, lengths: np.ndarray, *, ratio: float) -> bool:
    """Whether a segmentation's repeats are alike in length.

    A segment that repeats only a part of a longer one (a chorus matching the tail of a
    verse-and-chorus segment) means that the cut is too coarse to show the repeat.

    Parameters
    ----------
    labels : sequence of int [shape=(n_seg,)]
    lengths : np.ndarray [shape=(n_seg,)]
        Segment lengths (units).
    ratio : float
        Two lengths are alike when the shorter is at least this share of the longer.

    Returns
    -------
    bool
        True when two separate runs of one label are alike in length, or when at least ``ratio``
        of the time in labels heard in separate runs lies in segments that have a segment of their
        label alike in length.
    """
    labels = [int(x) for x in labels]
    lengths = np.asarray(lengths, dtype=float)

    def alike(a: float, b: float) -> bool:
        return min(a, b) >= ratio * max(a, b)

    runs = [(lab, float(lengths[i0:i1].sum())) for lab, i0, i1 in _runs(labels)]
    if any(la == lb and alike(na, nb) for i, (la, na) in enumerate(runs) for lb, nb in runs[i + 1 :]):
        return True
    heads = [lab for lab, _ in runs]
    again = {lab for lab in heads if heads.count(lab) > 1}
    total = paired = 0.0
    for i, (lab, n) in enumerate(zip(labels, lengths)):
        if lab in again:
            total += n
            if any(j != i and labels[j] == lab and alike(n, m) for j, m in enumerate(lengths)):
                paired += n
    return total > 0 and paired >= ratio * total


def split_mixed_runs(labels, sim: np.ndarray, *, ratio: float = 0.5) -> list[int]:
    """Give a run of one label a second label for its head when the head is other material.

    Single linkage chains segments through middling similarities: the last phrase of a verse that
    resembles the chorus a little ends up with the chorus's label, and the run of that label then
    starts a phrase early wherever it occurs.  For a label heard as at least two runs of the same
    number of segments, the head (the first ``h`` segments of every run) is given its own label
    when it is alike across the runs but not within them: the mean similarity between head and
    tail inside the runs is below ``ratio`` times the mean similarity of aligned segments across
    runs.  The split with the smallest such share is taken, once per label.

    Parameters
    ----------
    labels : sequence of int
        Label of every segment.
    sim : np.ndarray [shape=(n_seg, n_seg)]
        Segment similarity (:func:`segment_similarity`).
    ratio : float

    Returns
    -------
    list of int
    """
    labels = [int(x) for x in labels]
    runs = _runs(labels)
    nxt = max(labels, default=-1) + 1
    for lab in sorted(set(labels)):
        mine = [(a, b) for x, a, b in runs if x == lab]
        k = mine[0][1] - mine[0][0] if mine else 0
        if len(mine) < 2 or k < 2 or any(b - a != k for a, b in mine):
            continue
        across = np.mean(
            [sim[a1 + p, a2 + p] for i, (a1, _) in enumerate(mine) for a2, _ in mine[i + 1 :] for p in range(k)]
        )
        best = None
        for h in range(1, k):
            inside = np.mean([sim[a + p, a + q] for a, _ in mine for p in range(h) for q in range(h, k)])
            share = inside / max(float(across), 1e-9)
            if share < ratio and (best is None or share < best[0]):
                best = (share, h)
        if best is None:
            continue
        for a, _ in mine:
            for p in range(best[1]):
                labels[a + p] = nxt
        nxt += 1
    return labels


def loop_cycles(
    R: np.ndarray,
    downbeat: np.ndarray,
    *,
    units_per_bar: int,
    mfcc: np.ndarray | None = None,
    min_bars: int = 2,
    coverage: float = 0.8,
    floor: float = 0.2,
    timbre_floor: float = 0.2,
    contrast: float = 2.0,
    max_cycles: int = 16,
) -> np.ndarray | None:
    """Where the cycles of music that plays one phrase over and over begin.

    A waltz or a game loop repeats one cycle back to back: its recurrence holds one unbroken
    diagonal at the cycle's length, and no section comes back apart from its neighbour, so the
    labelling merges all of it into one run.  Here the shortest whole number of bars (± one unit
    of tempo drift) at which the recurrence links at least ``coverage`` of the units to the unit
    one lag later gives the cycle (the lag within one unit of it whose diagonal is strongest on
    average); the first cycle starts where that diagonal first holds for a whole
    bar (moved to the nearest downbeat within half a bar).  With ``mfcc``, the cycle must come back
    in sound as well: a glide through an octave repeats its pitch classes, not its timbre.

    Parameters
    ----------
    R : np.ndarray [shape=(n, n)]
        Raw recurrence affinity in [0, 1] of the stretch (:func:`~explorer.analysis.structure.recurrence`).
    downbeat : np.ndarray [shape=(n + 1,), bool]
        Whether each position starts a bar.
    units_per_bar : int
    mfcc : np.ndarray [shape=(n_mfcc, n)] or None
        Timbre of every unit.
    min_bars : int
        Shortest cycle (bars).
    coverage : float
        Share of the units that must repeat one cycle later.
    floor : float
        Affinity above which a unit counts as repeated.
    timbre_floor : float
        Least mean cosine similarity of the z-scored timbre of units one cycle apart (unrelated
        units average about 0).
    contrast : float
        How many times stronger (mean affinity) the cycle's diagonal is than the median diagonal
        between a bar and the cycle: music that sounds alike at every lag does not loop.
    max_cycles : int
        Most cycles: a riff heard a hundred times under a twelve-minute track is not its sections
        (the arrangement's changes are, and the usual cut follows them).

    Returns
    -------
    np.ndarray of int or None
        Positions (units, 0 … n) where a cycle begins, with the first one and ``n`` (the stretch's end)
        included, when there are at least two whole cycles; None when the music does not loop.
    """
    n = R.shape[0]
    u = max(1, int(units_per_bar))
    Z = zscore_cols(mfcc) if mfcc is not None else None
    diag_means: np.ndarray | None = None  # mean affinity of every diagonal, computed when first needed
    for lag in range(min_bars * u, n // 2 + 1, u):
        m = n - lag - 1
        if m < u:
            break
        near_lags = [np.diagonal(R, lag + e)[:m] for e in (-1, 0, 1)]
        diag = np.max(near_lags, axis=0) > floor
        if diag.mean() < coverage:
            continue
        # the cycle is the nearby lag whose diagonal is strongest (a beat tracked off the music's bar)
        cycle = lag + int(np.argmax([d.mean() for d in near_lags])) - 1
        if Z is not None and timbre_match(Z, 0, cycle, n - cycle) < timbre_floor:
            continue
        # a cycle changes within itself: a held chord or a drone is as alike at every lag
        if diag_means is None:
            diag_means = np.array([np.diagonal(R, k).mean() for k in range(n)])
        within = float(np.median(diag_means[u : cycle - 1])) if cycle - 1 > u else 0.0
        if max(float(d.mean()) for d in near_lags) < contrast * within:
            continue
        run = np.convolve(diag.astype(float), np.ones(u), mode="valid") >= u
        start = int(np.argmax(run)) if run.any() else 0
        near = [p for p in range(max(0, start - u // 2), min(n, start + u // 2) + 1) if downbeat[p]]
        if near:
            start = min(near, key=lambda p: abs(p - start))
        if start < u:
            start = 0
        cuts = list(range(start, n - u // 2, cycle))
        if len(cuts) < 2 or n - cuts[1] < cycle - u or len(cuts) > max_cycles:
            return None
        return np.array(cuts + [n])
    return None


def timbre_match(Z: np.ndarray, a: int, b: int, length: int) -> float:
    """Mean cosine similarity of the timbre of units ``a …`` and ``b …``, ``length`` units each.

    Parameters
    ----------
    Z : np.ndarray [shape=(d, n)]
        Unit-norm z-scored timbre columns (:func:`~explorer.analysis.structure.zscore_cols` of the MFCC);
        unrelated units average about 0.
    a, b : int
        First unit of each stretch.
    length : int

    Returns
    -------
    float in [-1, 1] (0 when ``length`` < 1).
    """
    length = int(min(length, Z.shape[1] - a, Z.shape[1] - b))
    if length < 1:
        return 0.0
    return float(np.mean(np.sum(Z[:, a : a + length] * Z[:, b : b + length], axis=0)))
