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
