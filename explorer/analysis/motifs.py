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
        out += R[t:t + m, t:t + m]
    return out / length


def find(R: np.ndarray, beat_times: np.ndarray, *, active: np.ndarray | None = None,
         beats_per_bar: int = 4, bars: tuple[int, ...] = (2, 1), min_seconds: float = 1.0,
         max_seconds: float = 8.0, threshold: float = 0.45, max_motifs: int = 10,
         max_overlap: float = 0.5) -> list[MotifHit]:
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

    Returns
    -------
    list of MotifHit, best first.
    """
    n = R.shape[0]
    if active is None:
        active = np.ones(n, dtype=bool)
    taken = np.zeros(n, dtype=np.int32)  # how many chosen occurrences cover each beat
    found: list[MotifHit] = []
    for nb in bars:
        W = nb * beats_per_bar
        if W >= n // 2 or W < 1:
            continue
        dur = np.array([beat_times[i + W] - beat_times[i] for i in range(n - W + 1)])
        ok_len = (dur >= min_seconds) & (dur <= max_seconds)
        act = np.convolve(active.astype(float), np.ones(W), mode="valid") >= W
        ok = ok_len & act
        if not ok.any():
            continue
        Rw = diagonal_mean(R, W)
        Rw[~ok, :] = 0
        Rw[:, ~ok] = 0
        for _ in range(max_motifs):
            if len(found) >= max_motifs:
                break
            cover = np.convolve(taken > 0, np.ones(W), mode="valid") / W
            free = cover <= max_overlap
            best = None
            for i in np.flatnonzero(free & ok):
                row = Rw[i]
                cand = np.flatnonzero((row >= threshold) & free)
                occ = _non_overlapping(cand, row, W)
                if i not in occ:
                    occ = _non_overlapping(np.union1d(cand, [i]), np.where(np.arange(row.size) == i, 2.0, row), W)
                if len(occ) < 2:
                    continue
                s = float(np.sum([row[j] for j in occ if j != i])) + 1.0
                if best is None or s > best[0]:
                    best = (s, occ, i)
            if best is None:
                break
            s, occ, i = best
            mean_sim = float(np.mean([Rw[i, j] for j in occ if j != i]))
            score = mean_sim * min(1.0, (len(occ) - 1) / 3.0)
            found.append(MotifHit(starts=tuple(int(j) for j in sorted(occ)), length=W, score=score))
            for j in occ:
                taken[j:j + W] += 1
    found.sort(key=lambda h: -h.score)
    return found[:max_motifs]


def _non_overlapping(cand: np.ndarray, row: np.ndarray, W: int) -> list[int]:
    """Pick the strongest candidates that do not overlap one another."""
    chosen: list[int] = []
    for j in cand[np.argsort(-row[cand], kind="stable")]:
        if all(abs(int(j) - c) >= W for c in chosen):
            chosen.append(int(j))
    return chosen
