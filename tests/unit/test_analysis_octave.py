"""The structure stage counts phrases in bars of about the same length whatever metrical level the
beat tracker locked to (eighth notes, the beat, half notes)."""

from __future__ import annotations

import numpy as np
import pytest
from songgen import make_song

from explorer.analysis import beats as beats_mod
from explorer.analysis import beatsync, pipeline
from explorer.analysis.pipeline import analyze
from explorer.audio.buffer import AudioBuffer

SR = 22050
FPS = SR / 512


@pytest.mark.parametrize(
    "bar, k", [(2.0, 0), (2.5, 0), (3.33, -1), (4.8, -1), (1.2, 1), (0.9, 1), (9.9, -1), (0.3, 1), (0.0, 0)]
)
def test_metrical_level_moves_the_bar_nearest_the_target(bar, k):
    assert beatsync.metrical_level(bar, target=2.0) == k


def test_slow_beat_is_split_into_half_beats_with_bars_on_the_half_bar():
    period = 60 / 72 * FPS  # 72 BPM in 4: a 3.3 s bar
    frames = np.round(10 + period * np.arange(64)).astype(int)
    down = np.arange(1, 64, 4)
    units, unit_down, k = beatsync.structural_grid(frames, down, beats_per_bar=4, fps=FPS, target_bar=2.0)
    assert k == -1
    assert units.size == 2 * frames.size  # the half-beats and one after the last beat
    assert np.array_equal(units[::2], frames)
    assert np.median(np.diff(units)) / FPS == pytest.approx(60 / 144, abs=0.02)
    assert np.array_equal(np.flatnonzero(unit_down), np.arange(2, 128, 4))
    # a structural bar of 4 units lasts half the tracked bar
    assert 4 * np.median(np.diff(units)) / FPS == pytest.approx(2 * 60 / 72, abs=0.05)


def test_fast_beat_keeps_every_other_beat_on_the_downbeats_side():
    period = 60 / 200 * FPS  # 200 BPM in 4: a 1.2 s bar
    frames = np.round(5 + period * np.arange(96)).astype(int)
    down = np.arange(3, 96, 4)
    units, unit_down, k = beatsync.structural_grid(frames, down, beats_per_bar=4, fps=FPS, target_bar=2.0)
    assert k == 1
    assert np.array_equal(units, frames[1::2])
    marked = units[np.flatnonzero(unit_down[:-1])]
    assert set(marked) == set(frames[down])  # every tracked downbeat may start a phrase


def test_a_fast_triple_bar_is_never_doubled():
    period = 60 / 180 * FPS  # 180 BPM in 3: a 1 s bar, but the metre found three beats in it
    frames = np.round(period * np.arange(90)).astype(int)
    down = np.arange(2, 90, 3)
    units, unit_down, k = beatsync.structural_grid(frames, down, beats_per_bar=3, fps=FPS, target_bar=2.0)
    assert k == 0 and np.array_equal(units, frames)
    assert np.array_equal(np.flatnonzero(unit_down), down)


def test_a_slow_triple_bar_is_halved_on_its_half_bar():
    period = 60 / 50 * FPS  # 50 BPM in 3: a 3.6 s bar
    frames = np.round(period * np.arange(30)).astype(int)
    down = np.arange(0, 30, 3)
    _, unit_down, k = beatsync.structural_grid(frames, down, beats_per_bar=3, fps=FPS, target_bar=2.0)
    assert k == -1
    assert np.array_equal(np.flatnonzero(unit_down), np.sort(np.concatenate([2 * down, 2 * down + 3])))


def test_beat_level_grid_is_kept():
    period = 60 / 120 * FPS
    frames = np.round(period * np.arange(64)).astype(int)
    down = np.arange(0, 64, 4)
    units, unit_down, k = beatsync.structural_grid(frames, down, beats_per_bar=4, fps=FPS, target_bar=2.0)
    assert k == 0 and np.array_equal(units, frames)
    assert np.array_equal(np.flatnonzero(unit_down), down)


def _grid(truth, level: str) -> beats_mod.BeatGrid:
    """The song's true beats at the beat level, or as a tracker locked to half or twice the tempo."""
    times = truth.beats
    phase = 0
    if level == "half":
        times = times[::2]
    elif level == "double":
        times = np.sort(np.concatenate([times, times + 0.5 * float(np.median(np.diff(times)))]))
    frames = np.round(times * FPS).astype(int)
    tempo = 60.0 / float(np.median(np.diff(times)))
    return beats_mod.BeatGrid(
        tempo=tempo,
        beat_frames=frames,
        beat_times=times,
        downbeat_index=np.arange(phase, frames.size, 4),
        beats_per_bar=4,
        steady=True,
    )


@pytest.fixture(scope="module")
def song():
    y, sr, truth = make_song("ABABCB", sr=SR, seed=4, bars_per_section=8, bpm=120.0)
    return y, sr, truth


@pytest.mark.parametrize("level", ["beat", "half", "double"])
def test_sections_do_not_depend_on_the_tracked_octave(song, level, monkeypatch):
    y, sr, truth = song
    monkeypatch.setattr(beats_mod, "track", lambda feats, **kw: _grid(truth, level))
    a = analyze(AudioBuffer(y, sr))
    # the structure works on the same half-second units whatever the tracked level
    assert np.median(np.diff(a.recurrence_times)) == pytest.approx(0.5, abs=0.03)
    est = np.array([s.start for s in a.sections] + [a.sections[-1].end])
    for b in truth.boundaries[:-1]:  # where the music stops and its tail rings is not a section change
        assert np.min(np.abs(est - b)) <= 0.5, f"{level}: no boundary near {b:.2f}: {est.round(2)}"
    assert len(est) <= len(truth.boundaries) + 2
    assert a.choruses and all(any(abs(c.start - s) <= 0.5 for s, _ in truth.choruses) for c in a.choruses)
    # the reported beats and metre stay the tracker's
    assert len(a.beats) == len(_grid(truth, level).beat_times)


def test_without_the_structural_grid_the_units_follow_the_tracker(song, monkeypatch):
    y, sr, truth = song
    monkeypatch.setattr(beats_mod, "track", lambda feats, **kw: _grid(truth, "half"))
    monkeypatch.setattr(pipeline, "BAR_SECONDS", 0)
    a = analyze(AudioBuffer(y, sr))
    assert np.median(np.diff(a.recurrence_times)) == pytest.approx(1.0, abs=0.03)
