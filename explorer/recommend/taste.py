"""The listener's taste: what they liked, disliked, played to the end and skipped, recent first.

Each signal gives a track a weight, halved every :data:`HALF_LIFE_DAYS` days of age:

=========  ======  =====================================================
signal     weight  source
=========  ======  =====================================================
like       +1.0    the current rating (its time is when it was given)
dislike    -1.0    the current rating
play       +0.3    each listen with ≥ 50 % heard (``Library.record_play``)
skip       -0.3    each listen with < 10 % heard
=========  ======  =====================================================

A candidate's taste is the weighted mean of its similarity to the *other* tracks of the profile,
above what a typical track of the library resembles them, in [-1, 1]
(:class:`explorer.recommend.rank._Scorer`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

LIKE_WEIGHT = 1.0
DISLIKE_WEIGHT = -1.0
PLAY_WEIGHT = 0.3
SKIP_WEIGHT = -0.3
HALF_LIFE_DAYS = 60.0
#: At most this many tracks (largest |weight| first) form the profile.
MAX_PROFILE = 500


@dataclass(frozen=True, eq=False)
class Taste:
    """Rows of the index that carry taste, with their weights and what they mostly are."""

    rows: np.ndarray  #: (m,) index rows
    weights: np.ndarray  #: (m,) float64, signed
    kinds: tuple[str, ...]  #: per row the strongest signal: like, dislike, play or skip
    ratings: dict[int, int]  #: track id -> +1/-1 of every rated track

    def __bool__(self) -> bool:
        return len(self.rows) > 0


def _decay(at: float | None, now: float) -> float:
    if at is None:
        return 1.0
    age_days = max(0.0, now - at) / 86400.0
    return 0.5 ** (age_days / HALF_LIFE_DAYS)


def build_taste(library, index, *, now: float | None = None) -> Taste:
    """The taste profile of ``library``'s listener, over the tracks of ``index``."""
    now = time.time() if now is None else now
    rated, listened = library.taste_rows()
    weight: dict[int, float] = {}
    strongest: dict[int, tuple[float, str]] = {}

    def add(tid: int, w: float, kind: str):
        weight[tid] = weight.get(tid, 0.0) + w
        if abs(w) > strongest.get(tid, (0.0, ""))[0]:
            strongest[tid] = (abs(w), kind)

    ratings = {}
    for tid, rating, at in rated:
        ratings[tid] = rating
        add(tid, (LIKE_WEIGHT if rating > 0 else DISLIKE_WEIGHT) * _decay(at, now), "like" if rating > 0 else "dislike")
    for tid, kind, at in listened:
        add(tid, (PLAY_WEIGHT if kind == "play" else SKIP_WEIGHT) * _decay(at, now), kind)
    items = []
    for tid, w in weight.items():
        row = index.row_of(tid)
        if row is not None and abs(w) > 1e-6:
            items.append((row, w, strongest[tid][1]))
    items.sort(key=lambda x: -abs(x[1]))
    items = items[:MAX_PROFILE]
    return Taste(
        rows=np.array([r for r, _, _ in items], np.int64),
        weights=np.array([w for _, w, _ in items]),
        kinds=tuple(k for _, _, k in items),
        ratings=ratings,
    )
