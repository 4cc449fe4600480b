"""Chorus choice and section functions: the rules on label sequences, and the demo songs end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from explorer.analysis.chorus import functions, merge_runs, pick_chorus
from explorer.analysis.labelling import join_closest_pair
from explorer.analysis.types import FUNCTIONS

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo"


def test_non_repeating_stretch_between_verse_and_chorus_is_a_pre_chorus():
    # intro, verse, X, chorus, verse, Y, chorus, outro: X and Y are heard once each
    f = functions([0, 1, 2, 3, 1, 4, 3, 5], 3)
    assert f == ["intro", "verse", "pre-chorus", "chorus", "verse", "pre-chorus", "chorus", "outro"]


def test_repeated_pre_chorus_and_a_song_that_opens_with_its_verse():
    f = functions([0, 1, 2, 0, 1, 2, 3, 2], 2)
    assert f == ["verse", "pre-chorus", "chorus", "verse", "pre-chorus", "chorus", "bridge", "chorus"]


def test_a_pre_chorus_is_shorter_than_the_verse_before_it():
    def middle(labels, seconds):  # the functions of verse 1, what follows it and the chorus, twice
        return functions(labels, 3, durations=np.array(seconds, dtype=float))[1:7]

    # intro, verse 1, verse 2 (its own material), chorus, twice: verse 2 as long as verse 1 is a verse
    labels = [0, 1, 2, 3, 1, 2, 3, 4]
    assert middle(labels, [8, 16, 16, 16, 16, 16, 16, 8]) == ["verse", "verse", "chorus"] * 2
    # the same material at half the verse's length builds toward the chorus: a pre-chorus
    assert middle(labels, [8, 16, 8, 16, 16, 8, 16, 8]) == ["verse", "pre-chorus", "chorus"] * 2
    # heard once between a verse and the chorus: a pre-chorus when short, else the verse goes on
    once = [0, 1, 2, 3, 1, 4, 3, 5]
    assert middle(once, [8, 16, 6, 16, 16, 6, 16, 8])[1] == "pre-chorus"
    assert middle(once, [8, 16, 16, 16, 16, 16, 16, 8])[1] == "verse"


def test_the_intro_heard_again_before_a_verse_is_an_interlude():
    # intro riff, verse, chorus, the riff again, verse, chorus, bridge, chorus
    labels = [0, 1, 2, 0, 1, 2, 3, 2]
    dur = np.array([8, 16, 16, 8, 16, 16, 12, 16.0])
    assert functions(labels, 2, durations=dur) == [
        "intro",
        "verse",
        "chorus",
        "instrumental",
        "verse",
        "chorus",
        "bridge",
        "chorus",
    ]
    # a song that opens with its verse, then a short pre-chorus: the verse stays the verse
    dur = np.array([16, 8, 16, 16, 8, 16, 12, 16.0])
    assert functions(labels, 2, durations=dur)[:6] == ["verse", "pre-chorus", "chorus"] * 2


@pytest.mark.parametrize("seed", range(40))
def test_never_a_run_of_bridges(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 14))
    labels = [int(x) for x in rng.integers(0, n, n)]
    chorus, _ = pick_chorus(labels, np.full(n, 10.0), np.zeros(n))
    f = functions(labels, chorus)
    assert all(x in FUNCTIONS for x in f)
    groups = merge_runs(f)
    merged = [f[i] for i in range(n) if i == 0 or groups[i] != groups[i - 1]]
    assert not any(a == b == "bridge" for a, b in zip(merged, merged[1:])), (labels, f)
    # a stretch of sections heard once that ends right before a chorus after a verse ends in a pre-chorus
    for i in range(1, n - 1):
        if f[i - 1] == "verse" and labels.count(labels[i]) == 1 and f[i + 1] == "chorus":
            assert f[i] == "pre-chorus"


def test_repeats_always_give_a_chorus_and_only_repeats_do():
    assert pick_chorus([0, 1, 2, 1, 3], np.full(5, 10.0), np.zeros(5))[0] == 1
    assert pick_chorus([0, 1, 2, 3], np.full(4, 10.0), np.zeros(4)) == (None, 0.0)
    assert "chorus" not in functions([0, 1, 2, 3], None)


def test_chorus_is_the_full_loud_return_not_the_opening():
    # label 0 opens and closes the song, quietly; label 2 comes back as often, louder and fuller
    labels = [0, 1, 2, 1, 2, 0]
    dur = np.full(6, 15.0)
    loud = np.array([-30, -24, -16, -24, -16, -30.0])
    full = np.array([0.2, 0.3, 0.6, 0.3, 0.6, 0.2])
    lab, conf = pick_chorus(labels, dur, loud, fullness=full)
    assert lab == 2 and 0.5 < conf <= 1.0


def test_a_chorus_is_less_sure_when_a_section_heard_once_looks_like_one():
    # verse A twice, then one more section: a quiet short interlude, or a loud full one as long as a
    # chorus (perhaps a chorus whose repeat was missed); A is the chorus both times, not as surely
    labels = [0, 1, 0, 2]
    dur = np.array([20.0, 8.0, 20.0, 8.0])
    loud = np.array([-20.0, -30.0, -20.0, -30.0])
    lab_quiet, quiet = pick_chorus(labels, dur, loud, fullness=np.array([0.5, 0.2, 0.5, 0.2]))
    dur_rival = np.array([20.0, 8.0, 20.0, 30.0])
    loud_rival = np.array([-20.0, -30.0, -20.0, -12.0])
    lab_loud, loud_rival_conf = pick_chorus(labels, dur_rival, loud_rival, fullness=np.array([0.5, 0.2, 0.5, 0.9]))
    assert lab_quiet == lab_loud == 0
    assert 0.5 < quiet < 1.0 and 0.0 < loud_rival_conf < quiet - 0.2


def test_a_song_of_one_repeated_label_has_the_stated_confidence():
    from explorer.analysis.chorus import NO_RIVAL_CONFIDENCE

    assert pick_chorus([0, 0, 0, 0], np.full(4, 10.0), np.zeros(4)) == (0, NO_RIVAL_CONFIDENCE)
    # silent sections (negative labels) are no rivals
    assert pick_chorus([-1, 0, 0, -2], np.full(4, 10.0), np.zeros(4)) == (0, NO_RIVAL_CONFIDENCE)


def test_join_closest_pair_needs_a_pair_that_stands_out():
    sim = np.full((4, 4), 0.2)
    np.fill_diagonal(sim, 1.0)
    assert join_closest_pair(sim, [0, 1, 2, 3], threshold=0.15) == [0, 1, 2, 3]
    sim[0, 2] = sim[2, 0] = 0.8
    assert join_closest_pair(sim, [0, 1, 2, 3], threshold=0.15) == [0, 1, 0, 3]
    # neighbours are never joined this way (they would merge into one section)
    sim[0, 2] = sim[2, 0] = 0.2
    sim[1, 2] = sim[2, 1] = 0.9
    assert join_closest_pair(sim, [0, 1, 2, 3], threshold=0.15) == [0, 1, 2, 3]


@pytest.fixture(scope="module")
def demo_analyses():
    from explorer.analysis.pipeline import analyze
    from explorer.audio.decode import decode

    out = {}
    for truth in sorted(DEMO.glob("*.json")):
        t = json.loads(truth.read_text())
        out[truth.stem] = (t, analyze(decode(str(DEMO / t["file"]))))
    return out


def test_every_demo_song_gets_a_chorus_or_says_why(demo_analyses):
    # each demo song repeats its verse and chorus: each has a chorus, and no chorus note
    for name, (_, a) in demo_analyses.items():
        assert len(a.choruses) >= 2, f"{name}: {[(s.label, s.function) for s in a.sections]}"
        assert a.chorus_note == ""
        assert all(0.0 <= c.confidence <= 1.0 for c in a.choruses)
        assert a.to_dict()["chorus_note"] == ""


def test_waltz_chorus_is_found(demo_analyses):
    truth, a = demo_analyses["05_willow_waltz"]
    starts = [c.start for c in a.choruses]
    assert all(any(abs(s - c["start"]) <= 3.0 for s in starts) for c in truth["choruses"]), starts


def test_music_without_repeats_has_no_chorus_and_says_why():
    from explorer.analysis.pipeline import analyze
    from explorer.audio.buffer import AudioBuffer

    # a rising glide: nothing in it comes back
    sr = 22050
    t = np.arange(int(40 * sr)) / sr
    f = 110 * 2 ** (t / 8)
    y = (0.3 * np.sin(2 * np.pi * np.cumsum(f) / sr)).astype(np.float32)
    a = analyze(AudioBuffer(y, sr))
    assert a.choruses == () and "repeated section found" in a.chorus_note
    assert a.to_dict()["chorus_note"] == a.chorus_note
    assert ("motifs" in a.chorus_note) == bool(a.motifs)


def test_the_no_chorus_note_says_what_was_not_found_and_never_denies_the_motifs():
    """Two game-soundtrack pieces (Singularity's "Chimes They Fade", "March Thee to Dis") read "every
    part of the music is heard once" beside six and seven repeated motifs in the motif lane."""
    from explorer.analysis.pipeline import _chorus_note

    assert _chorus_note(True, silent=False, steady=True, motifs=3) == ""
    assert _chorus_note(False, silent=True, steady=False, motifs=0) == "silent: nothing to analyse"
    assert _chorus_note(False, silent=False, steady=True, motifs=0) == "no repeated section found"
    assert _chorus_note(False, silent=False, steady=True, motifs=6) == (
        "no repeated section found, only short motifs that return"
    )
    assert _chorus_note(False, silent=False, steady=False, motifs=0) == "no steady beat and no repeated section found"
