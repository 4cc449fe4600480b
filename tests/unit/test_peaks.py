"""The min/max peak pyramid agrees with brute force, and a view gets the level that fits its width."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.audio.buffer import AudioBuffer
from explorer.audio.peaks import build_peaks


def random_buffer(n: int, sr: int = 8000, channels: int = 2, seed: int = 0) -> AudioBuffer:
    rng = np.random.default_rng(seed)
    y = rng.standard_normal((n, channels)).astype(np.float32) * np.linspace(0.1, 1, n, dtype=np.float32)[:, None]
    return AudioBuffer(y, sr)


def brute(y: np.ndarray, a: int, b: int) -> tuple[float, float]:
    seg = y[a:b]
    return float(seg.min()), float(seg.max())


@pytest.mark.parametrize("n,base_block,factor", [(100_003, 16, 4), (54_321, 7, 3), (4096, 16, 4), (17, 16, 4)])
def test_every_level_is_the_min_max_of_its_samples(n, base_block, factor):
    b = random_buffer(n, seed=n)
    y = b.mono()
    p = build_peaks(b, base_block=base_block, factor=factor, min_bins=64)
    assert p.n_frames == n and p.sr == b.sr
    rng = np.random.default_rng(1)
    for k, level in enumerate(p.levels):
        spb = p.samples_per_bin(k)
        assert spb == base_block * factor**k
        assert len(level) == -(-n // spb)  # ceil: the last bin holds the tail
        assert not level.flags.writeable
        bins = set(rng.integers(0, len(level), size=min(len(level), 300)).tolist()) | {0, len(level) - 1}
        for i in bins:
            assert tuple(level[i]) == brute(y, i * spb, (i + 1) * spb), (k, i)
    assert len(p.levels[-1]) <= 64
    if len(p.levels) > 1:
        assert len(p.levels[-2]) > 64


def test_peaks_are_of_the_mono_mix():
    n = 4000
    x = np.sin(np.arange(n) / 10.0).astype(np.float32)
    p = build_peaks(AudioBuffer(np.stack([x, -x], axis=1), 8000))
    assert all(np.abs(lv).max() == 0 for lv in p.levels)
    p = build_peaks(AudioBuffer(np.stack([x, x * 0.5], axis=1), 8000))
    assert p.levels[-1][:, 1].max() == pytest.approx(0.75, abs=1e-3)


def test_random_windows_agree_with_brute_force():
    b = random_buffer(300_007, sr=11025, channels=1, seed=3)
    y = b.mono()
    p = build_peaks(b)
    rng = np.random.default_rng(2)
    for _ in range(60):
        start = float(rng.uniform(-1, b.duration + 0.5))
        end = start + float(rng.choice([0.001, 0.05, 1.0, 7.0, 40.0]))
        width = int(rng.integers(1, 2000))
        t, lo, hi = p.window(start, end, width)
        level = p.choose_level(start, end, width)
        spb = p.samples_per_bin(level)
        assert len(t) == len(lo) == len(hi)
        if end <= -spb / b.sr or start >= b.duration + spb / b.sr:
            assert len(t) == 0, "a range outside the song has no peaks"
            continue
        assert len(t) > 0
        assert np.all(np.diff(t) > 0)
        first = int(round(t[0] * b.sr / spb))
        np.testing.assert_allclose(t, (first + np.arange(len(t))) * spb / b.sr)
        for j in range(len(t)):
            i = first + j
            assert (lo[j], hi[j]) == brute(y, i * spb, (i + 1) * spb)
        # the bins cover the asked range (clamped to the song)
        assert t[0] <= max(start, 0.0)
        assert t[-1] + spb / b.sr >= min(end, b.duration)
        # every sample in the range lies inside its bin's envelope
        a, z = int(max(start, 0) * b.sr), int(min(end, b.duration) * b.sr)
        if z > a:
            idx = np.arange(a, z)
            j = idx // spb - first
            assert np.all((y[idx] >= lo[j]) & (y[idx] <= hi[j]))


def test_level_choice_fits_the_width():
    sr = 8000
    b = random_buffer(sr * 600, sr=sr, channels=1, seed=4)  # ten minutes
    p = build_peaks(b)
    oversample = 2.0
    for span in (0.01, 0.5, 5.0, 60.0, 600.0):
        for width in (100, 800, 1920):
            level = p.choose_level(10.0, 10.0 + span, width, oversample=oversample)
            bins = span * sr / p.samples_per_bin(level)
            if level > 0:
                assert bins >= oversample * width, "too coarse: fewer bins than pixels need"
            if level + 1 < len(p.levels):
                assert span * sr / p.samples_per_bin(level + 1) < oversample * width, "a coarser level would do"
    assert p.choose_level(0.0, 0.001, 1000) == 0  # zoomed in past the samples: the finest level
    assert p.choose_level(0.0, 600.0, 1) == len(p.levels) - 1  # a one-pixel overview: the coarsest


def test_a_window_costs_pixels_not_samples():
    b = random_buffer(8000 * 1800, sr=8000, channels=1, seed=5)  # 30 minutes
    p = build_peaks(b)
    for start, end in ((0.0, 1800.0), (600.0, 1200.0), (100.0, 130.0)):
        t, lo, hi = p.window(start, end, 1000)
        assert 2000 <= len(t) <= 4 * 2000 + 3


def test_ranges_outside_the_song_are_empty():
    p = build_peaks(random_buffer(80_000, seed=6))
    for start, end in ((-5.0, -1.0), (11.0, 12.0), (500.0, 900.0)):
        t, lo, hi = p.window(start, end, 800)
        assert len(t) == len(lo) == len(hi) == 0, (start, end)
    t, lo, hi = p.window(-5.0, 0.5, 800)
    assert t[0] == 0.0 and len(t) == len(lo) > 0


def test_empty_and_tiny_buffers():
    p = build_peaks(AudioBuffer(np.zeros((0, 2), np.float32), 44100))
    t, lo, hi = p.window(0.0, 1.0, 500)
    assert len(t) == len(lo) == len(hi) == 0
    p = build_peaks(AudioBuffer(np.array([0.5, -0.25, 0.125], np.float32), 44100))
    assert len(p.levels) == 1
    t, lo, hi = p.window(0.0, 1.0, 500)
    assert (lo.tolist(), hi.tolist()) == ([-0.25], [0.5])
