"""The genre networks run beside the structure stages: the same answers, and cancellation stops both."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest
from songgen import make_song

from explorer.analysis.pipeline import analyze
from explorer.audio.buffer import AudioBuffer
from explorer.errors import Cancelled
from explorer.genre.model import describe, load_models
from explorer.services.analyze import analyze_buffer


@pytest.fixture(scope="module")
def song() -> AudioBuffer:
    y, sr, _ = make_song("ABAB", sr=22050, seed=3, bars_per_section=2)
    return AudioBuffer(samples=y.astype(np.float32)[:, None], sr=sr)


def test_runs_beside_on_more_than_one_core():
    """The default (not a scan worker's one-thread models) on a machine with cores to spare."""
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: the genre runs after the structure")
    assert load_models().networks.threads > 1


def test_the_same_answers_as_each_stage_alone(song):
    both = analyze_buffer(song)
    alone = analyze(song)
    desc = describe(song)
    assert both.genre.label == desc.genre.label
    assert both.genre.probabilities == pytest.approx(desc.genre.probabilities, abs=1e-6)
    np.testing.assert_allclose(both.embedding, desc.embedding, atol=1e-6)
    assert [(s.start, s.end, s.label) for s in both.sections] == [(s.start, s.end, s.label) for s in alone.sections]
    np.testing.assert_array_equal(both.beats, alone.beats)


def test_describe_polls_cancel(song):
    calls = []

    def cancel():
        calls.append(1)
        return len(calls) > 3

    with pytest.raises(Cancelled):
        describe(song, cancel=cancel)
    assert len(calls) == 4


def test_cancel_stops_the_structure_and_the_genre(song):
    polled = threading.Event()

    def cancel():
        if threading.current_thread().name == "genre":
            polled.set()  # the genre thread has started
        return polled.is_set()

    with pytest.raises(Cancelled):
        analyze_buffer(song, cancel=cancel)
    assert polled.is_set()
    assert not [t for t in threading.enumerate() if t.name == "genre"]


def test_a_sung_song_that_repeats_loosely_waits_for_its_vocal_score(song, monkeypatch):
    """Both ways of running the genre networks hand their vocal score to the structure, which compares
    longer stretches when it is above the bar (every song counts as loose and as sung here)."""
    from explorer.analysis import pipeline
    from explorer.genre import model

    plain = analyze(song)
    monkeypatch.setattr(pipeline, "VOICE_REPEAT", 2.0)
    asked = []
    sung = analyze(song, voice=lambda: asked.append(1) or 1.0)
    assert asked == [1]
    assert not np.allclose(sung.recurrence, plain.recurrence)
    np.testing.assert_array_equal(analyze(song, voice=lambda: None).recurrence, plain.recurrence)

    monkeypatch.setattr(pipeline, "VOICE_SCORE", -2.0)
    described = []
    real_describe = model.describe
    monkeypatch.setattr(model, "describe", lambda *a, **k: described.append(1) or real_describe(*a, **k))
    for cores in (1, 2):  # after the structure's first stages, or beside them
        monkeypatch.setattr(os, "cpu_count", lambda cores=cores: cores)
        both = analyze_buffer(song)
        np.testing.assert_array_equal(both.recurrence, sung.recurrence)
        assert described == [1]  # the description the structure waited for is the song's description
        described.clear()
    monkeypatch.setattr(pipeline, "VOICE_SCORE", 2.0)
    np.testing.assert_array_equal(analyze_buffer(song).recurrence, plain.recurrence)


def test_a_song_that_repeats_exactly_never_waits_for_the_taggers(song):
    """The default bar: the synthetic song repeats note for note, so its vocal score is not asked for."""
    asked = []
    analyze(song, voice=lambda: asked.append(1) or 1.0)
    assert asked == []


def test_cancel_while_the_structure_waits_for_the_vocal_score(song, monkeypatch):
    from explorer.analysis import pipeline
    from explorer.genre import model

    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: the genre runs within the structure")
    monkeypatch.setattr(pipeline, "VOICE_REPEAT", 2.0)
    waiting, release = threading.Event(), threading.Event()
    real_describe = model.describe

    def slow_describe(*a, **k):
        waiting.set()
        while not release.wait(0.05):  # held until the structure's cancellation stops it
            if k["cancel"]():
                raise Cancelled("genre analysis cancelled")
        return real_describe(*a, **k)

    monkeypatch.setattr(model, "describe", slow_describe)
    seen = []

    def progress(frac, stage):
        seen.append(stage)

    def cancel():
        return "vocals" in seen

    try:
        with pytest.raises(Cancelled):
            analyze_buffer(song, progress=progress, cancel=cancel)
    finally:
        release.set()
    assert waiting.is_set() and "vocals" in seen
    assert not [t for t in threading.enumerate() if t.name == "genre"]
