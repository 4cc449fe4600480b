"""Motifs: short stretches (about 1–8 s) that recur, found as short diagonal stripes in the
beat-level recurrence matrix."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MotifHit:
    """One motif in beat units: ``starts`` (beat indices), ``length`` (beats), ``score`` (0–1)."""

    starts: tuple[int, ...]
    length: int
    score: float


def diagonal_mean(R: np.ndarray, length: int) -> np.ndarray:
    """``out[i, j]`` = mean of ``R[i + t, j + t]`` for ``t < length``.

    Parameters
    ----------
    R : np.ndarray [shape=(n, n)]
    length : int

    Returns
    -------
    np.ndarray [shape=(n - length + 1, n - length + 1)]
    """
    n = R.shape[0]
    m = n - length + 1
    out = np.zeros((m, m), dtype=np.float32)
    for t in range(length):
        out += R[t : t + m, t : t + m]
    return out / length


def find(
    R: np.ndarray,
    beat_times: np.ndarray,
    *,
    active: np.ndarray | None = None,
    beats_per_bar: int = 4,
    bars: tuple[int, ...] = (2, 1),
    min_seconds: float = 1.0,
    max_seconds: float = 8.0,
    threshold: float = 0.6,
    max_motifs: int = 10,
    max_overlap: float = 0.5,
    min_gap_bars: int = 4,
    mutual: float = 0.5,
) -> list[MotifHit]:
    """Greedy search for the most-repeated short windows.

    Parameters
    ----------
    R : np.ndarray [shape=(n, n)]
        Beat-level affinity in [0, 1].
    beat_times : np.ndarray [shape=(n + 1,)]
        Edges of the beats (s).
    active : np.ndarray [shape=(n,), bool] or None
        Beats that sound (silence is never a motif).
    beats_per_bar : int
    bars : tuple of int
        Window lengths tried, in bars (longer first).
    min_seconds, max_seconds : float
        Allowed motif durations.
    threshold : float
        Minimum mean affinity along the window for a recurrence.
    max_motifs : int
    max_overlap : float
        A window overlapping a chosen occurrence by more than this fraction is not a new motif.
    min_gap_bars : int
        Occurrences start at least this many bars apart (a figure repeated within one phrase
        is accompaniment, not a motif).
    mutual : float
        Least mean affinity between any two occurrences (each must reach ``threshold`` with the
        first): a chain of look-alikes, each like the first but not like each other, is not one
        figure.

    Returns
    -------
    list of MotifHit, best first.
    """
    n = R.shape[0]
    if active is None:
        active = np.ones(n, dtype=bool)
    taken = np.zeros(n, dtype=np.int32)  # how many chosen occurrences cover each beat
    tables = []
    for nb in bars:
        W = nb * beats_per_bar
        if W >= n // 2 or W < 1:
            continue
        dur = beat_times[W : n + 1] - beat_times[: n - W + 1]
        act = np.convolve(active.astype(float), np.ones(W), mode="valid") >= W
        ok = (dur >= min_seconds) & (dur <= max_seconds) & act
        if ok.any():
            Rw = diagonal_mean(R, W)
            Rw[~ok, :] = 0
            Rw[:, ~ok] = 0
            tables.append((W, ok, Rw, Rw >= mutual if mutual > 0 else None))
    found: list[MotifHit] = []
    while len(found) < max_motifs:
        best = None
        for W, ok, Rw, linked in tables:
            cover = np.convolve(taken > 0, np.ones(W), mode="valid") / W
            free = (cover <= max_overlap) & ok
            strong = (Rw >= threshold) & free[None, :] & free[:, None]
            rows = np.flatnonzero(strong.sum(axis=1) > 0)
            # a quick upper bound on each row's score skips most rows
            bound = np.where(strong, Rw, 0).sum(axis=1)
            for i in rows[np.argsort(-bound[rows])]:
                if best is not None and bound[i] <= best[0]:
                    break
                row = np.where(strong[i], Rw[i], 0.0)
                row[i] = 2.0
                occ = _non_overlapping(
                    np.flatnonzero(row > 0),
                    row,
                    max(W, min_gap_bars * beats_per_bar),
                    pairwise=linked,
                )
                if len(occ) < 2:
                    continue
                s = float(sum(Rw[i, j] for j in occ if j != i))
                if best is None or s > best[0]:
                    best = (s, occ, i, W, Rw)
        if best is None:
            break
        s, occ, i, W, Rw = best
        mean_sim = s / (len(occ) - 1)
        score = mean_sim * min(1.0, (len(occ) - 1) / 3.0)
        found.append(MotifHit(starts=tuple(int(j) for j in sorted(occ)), length=W, score=score))
        for j in occ:
            taken[j : j + W] += 1
    found.sort(key=lambda h: -h.score)
    return found


def _non_overlapping(cand: np.ndarray, row: np.ndarray, W: int, *, pairwise: np.ndarray | None = None) -> list[int]:
    """Pick the strongest candidates that start at least ``W`` apart (and, with ``pairwise``, that
    are linked to every candidate already picked)."""
    chosen: list[int] = []
    if cand.size == 0:
        return chosen
    # blocked[j] once a chosen start lies less than W from j
    blocked = bytearray(int(cand.max()) + 1)
    for j in cand[np.argsort(-row[cand], kind="stable")].tolist():
        if not blocked[j] and (pairwise is None or all(pairwise[j, k] for k in chosen)):
            chosen.append(j)
            lo, hi = max(0, j - W + 1), min(len(blocked), j + W)
            blocked[lo:hi] = b"\x01" * (hi - lo)
    return chosen
