"""Tempo below the frame grid, metre and downbeats, and swung beats, on synthesised audio with a known pulse."""

from __future__ import annotations

import mir_eval
import numpy as np
import pytest

from explorer.analysis import beats as beats_mod
from explorer.analysis import features as features_mod
from explorer.analysis.pipeline import analyze
from explorer.analysis.types import Analysis
from explorer.audio.buffer import AudioBuffer

SR = 22050
LEAD = 0.5


def _tone(freq: float, dur: float, *, decay: float = 4.0) -> np.ndarray:
    t = np.arange(int(dur * SR)) / SR
    y = np.sin(2 * np.pi * freq * t) + 0.4 * np.sin(4 * np.pi * freq * t) + 0.2 * np.sin(6 * np.pi * freq * t)
    return (y * np.minimum(1.0, t / 0.004) * np.exp(-decay * t)).astype(np.float32)


def _hit(dur: float, rng) -> np.ndarray:
    n = int(dur * SR)
    x = np.diff(rng.standard_normal(n + 1)).astype(np.float32)  # bright noise: a hi-hat or ride
    return x * np.exp(-np.arange(n) / (0.03 * SR)).astype(np.float32)


def _add(y: np.ndarray, x: np.ndarray, at: float, gain: float) -> None:
    i = int(round(at * SR))
    j = min(y.size, i + x.size)
    if j > i:
        y[i:j] += gain * x[: j - i]


def _hz(m: float) -> float:
    return 440.0 * 2.0 ** ((m - 69) / 12)


def _song(bpm: float, meter: int, bars: int, *, swing: float | None = None, seed: int = 0):
    """A bass note on each downbeat (the fifth on beat 3 of a 4/4 bar), a chord on the other beats,
    one chord per bar; with ``swing``, a ride cymbal on every beat and on the swung off-beat
    (``swing`` of the beat after it).  Returns audio, beat times and downbeat times."""
    rng = np.random.default_rng(seed)
    beat = 60.0 / bpm
    roots = [48, 53, 55, 50, 45, 52]
    y = np.zeros(int((LEAD + bars * meter * beat + 1.5) * SR), dtype=np.float32)
    beats = LEAD + np.arange(bars * meter) * beat
    for b in range(bars):
        r = roots[(b + seed) % len(roots)]
        t0 = LEAD + b * meter * beat
        _add(y, _tone(_hz(r - 12), 0.9 * beat, decay=3.0), t0, 0.8)
        for j in range(1, meter):
            if meter == 4 and j == 2:
                _add(y, _tone(_hz(r - 5), 0.9 * beat, decay=3.0), t0 + j * beat, 0.6)
            for iv in (12, 16, 19):
                _add(y, _tone(_hz(r + iv), 0.6 * beat, decay=6.0), t0 + j * beat, 0.15)
        if swing is not None:
            for j in range(meter):
                _add(y, _hit(0.2, rng), t0 + j * beat, 0.08)
                _add(y, _hit(0.15, rng), t0 + (j + swing) * beat, 0.05)
    y += 0.002 * rng.standard_normal(y.size).astype(np.float32)
    y /= max(1.0, float(np.abs(y).max()) / 0.9)
    return y, beats, beats[::meter]


def _clicks(bpm: float, seconds: float = 60.0) -> tuple[np.ndarray, np.ndarray]:
    """A click on every beat (louder on every fourth): short tone blips at exact times."""
    beat = 60.0 / bpm
    times = LEAD + np.arange(int((seconds - LEAD - 0.5) / beat)) * beat
    y = np.zeros(int(seconds * SR), dtype=np.float32)
    blip = _tone(1500.0, 0.05, decay=60.0)
    for k, t in enumerate(times):
        _add(y, blip, t, 0.9 if k % 4 == 0 else 0.5)
    return y, times


@pytest.mark.parametrize("bpm", [116.0, 138.0, 87.5])
def test_tempo_between_frame_periods_is_found_to_a_tenth(bpm):
    """116 BPM is 22.3 frames a beat: a period held to whole frames reads 117.5."""
    y, times = _clicks(bpm)
    grid = beats_mod.track(features_mod.compute(y))
    assert grid.tempo == pytest.approx(bpm, abs=0.1)
    # the beats lie between frames (a frame is 23 ms), in a straight line like the clicks, and near them
    k = np.arange(grid.beat_times.size)
    residual = grid.beat_times - np.polyval(np.polyfit(k, grid.beat_times, 1), k)
    assert np.std(residual) < 0.003
    err = np.array([np.min(np.abs(grid.beat_times - t)) for t in times[2:-2]])
    assert np.median(err) < 0.03, np.median(err)


def test_beat_period_is_precise_despite_frame_rounding():
    period = 22.37
    pos = np.round(5 + np.arange(200) * period)  # onsets rounded to whole frames
    assert beats_mod.beat_period(pos) == pytest.approx(period, abs=0.01)


@pytest.mark.parametrize("bpm,meter", [(132.0, 3), (104.0, 3), (118.0, 4), (95.0, 4)])
def test_metre_and_downbeats(bpm, meter):
    y, beats, downs = _song(bpm, meter, bars=24)
    a = analyze(AudioBuffer(y, SR))
    assert a.meter == meter
    assert a.tempo == pytest.approx(bpm, abs=0.3)
    assert mir_eval.beat.f_measure(downs, np.array(a.downbeats), 0.07) > 0.9
    assert a.to_dict()["meter"] == meter


def _chords_in_eighths(eighth: float, bars: int, per_bar: int, play) -> np.ndarray:
    """``bars`` bars of ``per_bar`` eighth notes, a new chord root every bar (``play(y, root, t0)``
    writes one bar starting at ``t0``), over faint noise, normalised."""
    roots = [48, 53, 55, 50, 45, 52]
    y = np.zeros(int((LEAD + bars * per_bar * eighth + 1.5) * SR), dtype=np.float32)
    for b in range(bars):
        play(y, roots[b % len(roots)], LEAD + b * per_bar * eighth)
    y += 0.002 * np.random.default_rng(0).standard_normal(y.size).astype(np.float32)
    return y / max(1.0, float(np.abs(y).max()) / 0.9)


def _ballad(bpm: float, bars: int) -> np.ndarray:
    """Eighth-note chords (the on-beat ones louder) over a bass note and a new chord every bar of
    four beats: the eighths make the stronger pulse, the bar is four slow beats."""
    eighth = 30.0 / bpm

    def bar(y, r, t0):
        _add(y, _tone(_hz(r - 12), 7.5 * eighth, decay=0.6), t0, 0.9)
        for j in range(8):
            for iv in (12, 16, 19):
                _add(y, _tone(_hz(r + iv), 0.9 * eighth, decay=8.0), t0 + j * eighth, 0.3 if j % 2 == 0 else 0.22)

    return _chords_in_eighths(eighth, bars, 8, bar)


@pytest.mark.parametrize("bpm", [60.0, 66.0])
def test_eighth_notes_under_a_slow_bar_of_four(bpm):
    """Tracked at the eighths, the bar is eight beats: that is four beats at half the tempo."""
    grid = beats_mod.track(features_mod.compute(_ballad(bpm, 20)))
    assert grid.tempo == pytest.approx(bpm, abs=0.2)
    assert grid.beats_per_bar == 4
    downs = LEAD + np.arange(20) * 240.0 / bpm
    assert mir_eval.beat.f_measure(downs, grid.beat_times[grid.downbeat_index], 0.07) > 0.9


@pytest.mark.parametrize("bpm", [104.0, 126.0])
def test_swung_beats(bpm):
    y, beats, downs = _song(bpm, 4, bars=24, swing=2.0 / 3.0, seed=1)
    grid = beats_mod.track(features_mod.compute(y))
    assert grid.tempo == pytest.approx(bpm, abs=0.3)
    assert mir_eval.beat.f_measure(beats, grid.beat_times, 0.07) > 0.9
    assert grid.beats_per_bar == 4  # swung eighths are not a compound metre


def _six_eight(dq_bpm: float, bars: int) -> tuple[np.ndarray, np.ndarray]:
    """6/8: a bass note on both dotted-quarter beats of a bar (root, then fifth), a broken chord in
    eighths (three to a beat, the first of each three louder), a new chord every bar."""
    eighth = 20.0 / dq_bpm

    def bar(y, r, t0):
        _add(y, _tone(_hz(r - 12), 2.7 * eighth, decay=2.0), t0, 0.9)
        _add(y, _tone(_hz(r - 5), 2.7 * eighth, decay=2.0), t0 + 3 * eighth, 0.7)
        for j, iv in enumerate((12, 19, 24, 16, 24, 19)):
            _add(y, _tone(_hz(r + iv), 0.9 * eighth, decay=8.0), t0 + j * eighth, 0.3 if j % 3 == 0 else 0.2)

    return _chords_in_eighths(eighth, bars, 6, bar), LEAD + np.arange(bars) * 6 * eighth


@pytest.mark.parametrize("dq_bpm", [72.0, 76.0])
def test_six_eight_is_two_dotted_quarters_a_bar(dq_bpm):
    y, downs = _six_eight(dq_bpm, 24)
    a = analyze(AudioBuffer(y, SR))
    assert a.tempo == pytest.approx(dq_bpm, abs=0.3)
    assert a.meter == 2 and a.to_dict()["meter"] == 2
    # a bar every two beats (which of the two starts it is not always right: see the README)
    assert np.median(np.diff(a.downbeats)) == pytest.approx(np.median(np.diff(downs)), rel=0.02)


def test_beats_in_three_swung_or_straight():
    from explorer.analysis.metre import triple_subdivision

    period, n = 30.0, 40
    beats = 10 + np.arange(n) * period
    env = np.zeros(int(beats[-1] + 2 * period))

    def onsets(fractions):
        e = env.copy()
        for b in beats:
            e[int(b)] = 1.0
            for f in fractions:
                e[int(round(b + f * period))] = 0.6
        return e

    assert triple_subdivision(onsets((1 / 3, 2 / 3)), beats) > 1.0  # three eighths to a beat
    assert triple_subdivision(onsets((1 / 2,)), beats) < -1.0  # straight eighths
    assert abs(triple_subdivision(onsets((2 / 3,)), beats)) < 0.1  # swung eighths: long, short
    assert triple_subdivision(onsets(()), beats) == pytest.approx(0.0)
    assert triple_subdivision(env, beats[:1]) == 0.0


def test_meter_round_trips_and_old_documents_read():
    a = Analysis(file="x.wav", duration=10.0, sample_rate=SR, channels=1, tempo=150.0, meter=3)
    d = a.to_dict()
    assert d["meter"] == 3 and Analysis.from_dict(d).meter == 3
    del d["meter"]  # a cached document from before the field existed
    assert Analysis.from_dict(d).meter is None
