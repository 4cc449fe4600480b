"""Tempo estimation on onset envelopes with a known pulse."""

from __future__ import annotations

import numpy as np

from explorer.analysis.beats import estimate_period

SR, HOP = 22050, 512


def _envelope(onsets_per_bar: list[tuple[int, float]], *, bar: int, bars: int = 60) -> np.ndarray:
    rng = np.random.default_rng(1)
    env = 0.05 * rng.random(bar * bars)
    for k in range(bars):
        for pos, height in onsets_per_bar:
            env[k * bar + pos] += height
    return env


def test_plain_four_four_pulse():
    beat = 36  # frames: 72 bpm
    env = _envelope([(0, 1.0), (beat, 0.6), (2 * beat, 0.8), (3 * beat, 0.6)], bar=4 * beat)
    period = estimate_period(env, sr=SR, hop_length=HOP)
    assert abs(period - beat) < 1 or abs(period - beat / 2) < 1


def test_three_three_two_accompaniment_does_not_set_the_beat():
    """Each half bar's sixteenths grouped 3+3+2 (onsets 3/4 of a beat apart dominate the
    autocorrelation), but the half bar and the bar repeat, so the beat (or its half) is the
    pulse, not 3/4 of it."""
    beat = 36
    sixteenth = beat // 4
    half = [(0, 0.8), (3 * sixteenth, 0.7), (6 * sixteenth, 0.7)]
    env = _envelope([(0, 0.4)] + half + [(2 * beat + p, h) for p, h in half], bar=4 * beat)
    period = estimate_period(env, sr=SR, hop_length=HOP)
    assert abs(period - beat) < 1 or abs(period - beat / 2) < 1, period
    # the autocorrelation alone picks the grouping's period
    assert abs(estimate_period(env, sr=SR, hop_length=HOP, ternary_margin=np.inf) - 0.75 * beat) < 1
