"""The motif search on affinity matrices whose repetitions are known."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.analysis import motifs

BEAT = 0.5  # s: a 4-beat bar lasts 2 s, so one- and two-bar windows are motif-sized


def _affinity(n: int, pairs, length: int) -> np.ndarray:
    """Identity plus, for each ``(a, b, value)``, a diagonal stripe of ``length`` beats from (a, b)."""
    R = np.eye(n, dtype=np.float32)
    for a, b, value in pairs:
        for t in range(length):
            R[a + t, b + t] = R[b + t, a + t] = value
    return R


def _times(n: int) -> np.ndarray:
    return np.arange(n + 1) * BEAT


def test_a_figure_heard_three_times_is_one_motif_with_three_occurrences():
    R = _affinity(64, [(0, 16, 0.9), (16, 32, 0.9), (0, 32, 0.85)], 8)
    (hit,) = motifs.find(R, _times(64))
    assert hit.starts == (0, 16, 32) and hit.length == 8
    # its mean likeness, discounted while it recurs fewer than four times
    assert hit.score == pytest.approx(0.9 * 2 / 3)


def test_a_chain_of_look_alikes_is_not_one_motif():
    # 0 sounds like 16 and 16 like 32, but 0 and 32 do not sound alike
    R = _affinity(64, [(0, 16, 0.9), (16, 32, 0.9), (0, 32, 0.2)], 8)
    (hit,) = motifs.find(R, _times(64))
    assert len(hit.starts) == 2 and 16 in hit.starts
    # without the rule, the first occurrence's two look-alikes make one motif
    (chained,) = motifs.find(R, _times(64), mutual=0.0)
    assert chained.starts == (0, 16, 32)


def test_occurrences_of_one_figure_lie_apart_and_silence_is_never_a_motif():
    R = _affinity(64, [(0, 4, 0.95), (0, 16, 0.9)], 4)
    hits = motifs.find(R, _times(64), bars=(1,))
    assert [h.starts for h in hits] == [(0, 16)]  # 4 beats apart is one phrase's accompaniment
    active = np.ones(64, dtype=bool)
    active[16:20] = False
    assert motifs.find(R, _times(64), bars=(1,), active=active) == []
