"""Structure analysis on synthesised songs whose plan is known (tests/songgen.py)."""

from __future__ import annotations

import numpy as np
import pytest
from songgen import make_song

from explorer.analysis.pipeline import ANALYSIS_VERSION, analyze
from explorer.analysis.types import FUNCTIONS, Analysis
from explorer.audio.buffer import AudioBuffer

SR = 22050


@pytest.fixture(scope="module", params=[("ABABCB", 0), ("ABCBDB", 2)], ids=["ABABCB", "ABCBDB"])
def song(request):
    plan, seed = request.param
    y, sr, truth = make_song(plan, sr=SR, seed=seed, bars_per_section=8)
    return plan, truth, analyze(AudioBuffer(y, sr))


def _beat(truth):
    return 60.0 / truth.tempo


def test_beats_and_tempo(song):
    _, truth, a = song
    assert a.tempo is not None and abs(a.tempo - truth.tempo) / truth.tempo < 0.05
    est = np.array(a.beats)
    # every true beat has a tracked beat within 70 ms
    err = np.array([np.min(np.abs(est - b)) for b in truth.beats])
    assert np.mean(err < 0.07) > 0.95
    down = np.array(a.downbeats)
    assert np.mean([np.min(np.abs(down - d)) < 0.07 for d in truth.downbeats]) > 0.9


def test_sections_span_the_music(song):
    _, truth, a = song
    # the second of silence before and after the song lies outside its sections: the first starts
    # with the music, as "A", and the last ends with its last beat at the latest
    assert a.sections[0].start == pytest.approx(truth.sections[0].start, abs=0.1)
    assert a.sections[0].label == "A"
    assert truth.sections[-1].end - 60 / truth.tempo - 0.1 <= a.sections[-1].end <= truth.sections[-1].end + 0.1
    for s, t in zip(a.sections, a.sections[1:]):
        assert s.end == t.start and s.start < s.end
    assert all(s.function in FUNCTIONS and 0.0 <= s.confidence <= 1.0 for s in a.sections)


def test_boundaries_within_a_beat(song):
    _, truth, a = song
    est = np.array([s.start for s in a.sections] + [a.sections[-1].end])
    for b in truth.boundaries:
        assert np.min(np.abs(est - b)) <= _beat(truth), f"no boundary near {b:.2f}: {est.round(2)}"
    # and no extra boundaries inside the planned sections (one silent head and tail at most)
    assert len(est) <= len(truth.boundaries) + 2


def _label_at(a, t):
    return next(s.label for s in a.sections if s.start <= t < s.end)


def test_labels_repeat_where_the_plan_repeats(song):
    plan, truth, a = song
    mids = [(s.start + s.end) / 2 for s in truth.sections]
    got = [_label_at(a, t) for t in mids]
    for i in range(len(plan)):
        for j in range(i + 1, len(plan)):
            assert (got[i] == got[j]) == (plan[i] == plan[j]), f"plan {plan}, labels {got}"


def test_chorus_found_at_its_occurrences(song):
    _, truth, a = song
    assert len(a.choruses) == len(truth.choruses)
    for s, e in truth.choruses:
        assert any(abs(c.start - s) <= _beat(truth) and abs(c.end - e) <= _beat(truth) for c in a.choruses)
    assert {s.function for s in a.sections if s.label == _label_at(a, truth.choruses[0][0] + 1)} == {"chorus"}


def test_planted_motif_found_everywhere(song):
    _, truth, a = song
    assert 1 <= len(a.motifs) <= 10

    def covers(m):
        occ = [(o.start, o.end) for o in m.occurrences]
        return all(any(min(e, oe) - max(s, os_) >= 0.5 * (e - s) for os_, oe in occ) for s, e in truth.motif)

    assert any(covers(m) for m in a.motifs), "the planted motif is not among the motifs"
    for m in a.motifs:
        assert len(m.occurrences) >= 2 and 0.0 <= m.score <= 1.0
        assert all(0.9 <= o.end - o.start <= 8.1 for o in m.occurrences)
    scores = [m.score for m in a.motifs]
    assert scores == sorted(scores, reverse=True)


def test_recurrence_matrix_is_beat_level(song):
    _, _, a = song
    R, edges = a.recurrence, a.recurrence_times
    n = len(a.beats)
    assert R.dtype == np.float32 and R.shape == (n, n)
    assert edges.shape == (n + 1,) and np.all(np.diff(edges) > 0)
    assert edges[0] == 0.0 and edges[-1] == pytest.approx(a.duration)
    assert float(R.min()) >= 0.0 and float(R.max()) <= 1.0
    assert np.allclose(R, R.T, atol=1e-5)


def test_json_round_trip_and_timings(song):
    _, _, a = song
    d = a.to_dict()
    assert d["version"] == ANALYSIS_VERSION
    back = Analysis.from_dict(d)
    assert [s.label for s in back.sections] == [s.label for s in a.sections]
    assert {"features", "beats", "recurrence", "sections", "chorus", "motifs", "total"} <= set(a.timings)


def test_progress_and_cancel():
    from explorer.errors import Cancelled

    y, sr, _ = make_song("AB", sr=11025, seed=3, bars_per_section=2)
    seen = []
    analyze(AudioBuffer(y, sr), progress=lambda f, s: seen.append((f, s)))
    fracs = [f for f, _ in seen]
    assert fracs == sorted(fracs) and fracs[-1] == 1.0 and len(seen) >= 6
    calls = []

    def cancel():
        calls.append(1)
        return len(calls) > 2

    with pytest.raises(Cancelled):
        analyze(AudioBuffer(y, sr), cancel=cancel)


def test_merge_pairs_joins_halves_that_always_come_together():
    from explorer.analysis.labelling import merge_pairs

    lengths = np.full(8, 4.0)
    # x=1 is always followed by y=2: one unit of 8, repeated (and 1+2+3 would be longer than 10)
    assert merge_pairs([0, 1, 2, 3, 1, 2, 3, 0], lengths, max_length=10) == [0, 1, 1, 3, 1, 1, 3, 0]
    # too long together: left alone
    assert merge_pairs([0, 1, 2, 3, 1, 2, 3, 0], lengths, max_length=6) == [0, 1, 2, 3, 1, 2, 3, 0]
    # verse and chorus that also occur apart stay apart (A B A B C B)
    assert merge_pairs([0, 1, 0, 1, 2, 1], lengths[:6], max_length=16) == [0, 1, 0, 1, 2, 1]
    # a pair heard back to back (A B A B B, then an outro) is not joined: the two units would
    # fuse into one run and the song would have no repeat left
    assert merge_pairs([0, 1, 0, 1, 1, 1, 2], np.full(7, 4.0), max_length=16) == [0, 1, 0, 1, 1, 1, 2]
    # back to back and once more elsewhere: the joined unit still comes back, so it is joined
    assert merge_pairs([0, 1, 0, 1, 2, 0, 1, 3], lengths, max_length=16) == [0, 0, 0, 0, 2, 0, 0, 3]


def test_repeats_pair_up_only_when_alike_in_length():
    # the test behind eval_structure_variants.py's "level" key (pipeline.LEVEL_LENGTH_RATIO, off in the product)
    from explorer.analysis.labelling import repeats_pair_up

    # a 16-unit chorus matching the tail of a 32-unit verse-and-chorus segment, then once more (28)
    labels, lengths = [0, 1, 1, 2, 1], np.array([23, 16, 32, 16, 28])
    assert repeats_pair_up(labels, lengths, ratio=0.75)  # 32 and 28 pair: 60 of 76 units
    assert not repeats_pair_up(labels, lengths, ratio=0.9)
    # four verses in a row, later two: the runs differ, every segment has its like
    labels, lengths = [0, 1, 1, 1, 1, 2, 1, 1], np.full(8, 16)
    assert repeats_pair_up(labels, lengths, ratio=0.9)
    # two separate runs of one label within the ratio
    assert repeats_pair_up([0, 1, 2, 1], np.array([8, 16, 8, 14]), ratio=0.85)
    assert not repeats_pair_up([0, 1, 2, 1], np.array([8, 16, 8, 12]), ratio=0.85)


def test_loose_repeats_are_labelled_on_the_songs_own_scale():
    """A played song (verse and chorus twice, each repeat at .30-.32) has its repeats grouped once
    similarities are measured against its clearest repeat; sequenced music (a repeat at .9) is
    labelled as before, and near-zero similarities are not stretched into repeats."""
    from explorer.analysis.labelling import cluster, relative_similarity

    def matrix(pairs, n, base=0.05):
        sim = np.full((n, n), base)
        for (i, j), v in pairs.items():
            sim[i, j] = sim[j, i] = v
        np.fill_diagonal(sim, 1.0)
        return sim

    kw = {"threshold": 0.3, "method": "single"}
    played = matrix({(0, 3): 0.30, (1, 4): 0.32}, 6)
    assert list(cluster(played, loose_below=None, **kw)) == [0, 1, 2, 3, 4, 5]
    assert list(cluster(played, loose_below=0.75, floor=0.5, **kw)) == [0, 1, 2, 0, 1, 3]
    # the scale's top is the clearest repeat over loose_below, here below the floor
    rel = relative_similarity(played, loose_below=0.75, floor=0.5)
    assert rel[1, 4] == pytest.approx((0.32 - 0.05) / (0.5 - 0.05))
    sequenced = matrix({(0, 3): 0.9, (1, 4): 0.28}, 6)
    for loose in (None, 0.75):
        assert list(cluster(sequenced, loose_below=loose, floor=0.5, **kw)) == [0, 1, 2, 0, 3, 4]
    np.testing.assert_allclose(relative_similarity(sequenced, loose_below=0.75), relative_similarity(sequenced))
    noise = matrix({(0, 1): 0.09, (0, 2): 0.07, (1, 2): 0.03}, 3, base=0.0)
    assert list(cluster(noise, loose_below=0.75, floor=0.5, **kw)) == [0, 1, 2]
    assert list(cluster(noise, loose_below=0.75, floor=0.0, **kw)) == [0, 0, 1]


def test_segment_prefers_strong_boundaries_on_downbeats():
    from explorer.analysis.structure import segment

    n = 64
    nov = np.zeros(n + 1)
    nov[[16, 32, 48]] = 1.0
    nov[[20, 37]] = 0.6  # weaker, off the 4/8-bar grid
    down = np.zeros(n + 1, dtype=bool)
    down[::4] = True
    b = segment(nov, down, beats_per_bar=4)
    assert list(b) == [0, 16, 32, 48, 64]


def test_repetition_onsets_peak_where_a_repeat_starts_and_stops():
    """A 24-beat passage played again 48 beats later: the onset curve peaks at the first and last
    beat of both copies, and is flat where no window reaches a start or a stop."""
    from explorer.analysis.structure import repetition_onsets

    rng = np.random.default_rng(0)
    n, lag, start, length = 112, 48, 20, 24
    R = (0.1 * rng.random((n, n))).astype(np.float32)
    R = np.maximum(R, R.T)
    np.fill_diagonal(R, 1.0)
    for i in range(start, start + length):
        R[i, i + lag] = R[i + lag, i] = 1.0
    strength = repetition_onsets(R, after=8, before=4)
    assert strength.shape == (n + 1,)
    peaks = sorted(int(b) for b in np.argsort(strength)[-4:])
    assert peaks == [start, start + length, start + lag, start + lag + length]
    # nothing where no window reaches a start or stop
    assert strength[: start - 8].max() < 0.05 and strength[start + 8 : start + length - 8].max() < 0.05


def _onsets_by_definition(R, after, before, floor=0.3):
    """repetition_onsets written as its docstring says, one position and one diagonal at a time."""
    from explorer.analysis.structure import norm01 as structure_norm01

    n = R.shape[0]
    out = np.zeros(n + 1)
    for b in range(before, n - before + 1):
        total = 0.0
        for off in range(-(n - 1), n):
            if abs(off) < after:
                continue

            def mean(a, c, off=off):
                vals = [R[i, i + off] for i in range(max(a, 0), min(c, n)) if 0 <= i + off < n]
                return np.mean(vals) if vals else np.nan

            start = mean(b, b + after) - mean(b - before, b) - floor
            stop = mean(b - after, b) - mean(b, b + before) - floor
            total += sum(max(x, 0.0) for x in (start, stop) if np.isfinite(x))
        out[b] = total
    return structure_norm01(out)


@pytest.mark.parametrize("block", [1, 7, 64, 1 << 20])
def test_repetition_onsets_match_their_definition_whatever_the_block_size(monkeypatch, block):
    """The vectorised blocks (which skip lag columns no row of the block reaches) give the values
    of the plain definition."""
    from explorer.analysis import structure

    rng = np.random.default_rng(4)
    n = 70
    R = (rng.random((n, n)) ** 4).astype(np.float32)
    R = np.maximum(R, R.T)
    for i in range(10, 30):
        R[i, i + 30] = R[i + 30, i] = 1.0
    monkeypatch.setattr(structure, "BLOCK_POSITIONS", block)
    got = structure.repetition_onsets(R, after=8, before=4)
    np.testing.assert_allclose(got, _onsets_by_definition(R.astype(np.float64), 8, 4), atol=1e-5)


def test_credit_pickups_moves_lead_in_evidence_to_the_next_bar_line():
    """Evidence rising two beats before a downbeat (a pick-up) makes that downbeat, not the one a
    bar earlier, the strongest bar line."""
    from explorer.analysis.structure import credit_pickups, segment

    n = 64
    nov = np.zeros(n + 1)
    for bar_line in (16, 32, 48):
        nov[bar_line - 2] = 1.0  # the pick-up
        nov[bar_line - 4] = 0.7  # the previous bar line: the pick-up bar itself is similar already
    pooled = credit_pickups(nov, width=2)
    assert pooled.shape == nov.shape
    assert pooled[16] == 1.0 and pooled[12] == 0.7 and pooled[17] == 0.0
    down = np.zeros(n + 1, dtype=bool)
    down[::4] = True
    assert list(segment(pooled[:], down, beats_per_bar=4)) == [0, 16, 32, 48, 64]
    assert list(segment(nov, down, beats_per_bar=4)) != [0, 16, 32, 48, 64]
    assert np.array_equal(credit_pickups(nov, width=0), nov)


def test_split_long_runs_cuts_a_long_section_at_its_strongest_boundaries():
    from explorer.analysis.labelling import split_long_runs

    cuts = np.arange(0, 161, 16)  # segments of 16 beats
    strength = np.zeros(161)
    strength[[48, 96, 112]] = [0.9, 0.5, 0.8]
    # sections: 0-16 "A", then one run of "B" from 16 to 160 (144 beats)
    bounds, labels = split_long_runs([0, 16, 160], ["A", "B"], cuts, strength, max_length=64)
    assert bounds == [0, 16, 48, 112, 160] and labels == ["A", "B", "B", "B"]
    # short enough: left alone
    assert split_long_runs([0, 16, 160], ["A", "B"], cuts, strength, max_length=144) == ([0, 16, 160], ["A", "B"])
    # nowhere to cut: left alone
    assert split_long_runs([0, 160], ["A"], np.array([0, 160]), strength, max_length=64) == ([0, 160], ["A"])


def _sim_from_material(material: str, *, same: float = 0.95, cross: dict | None = None) -> np.ndarray:
    """Segment similarity of a song whose segments play ``material`` (one letter each): ``same``
    for one letter heard again, ``cross[frozenset(ab)]`` (default 0.05) between letters."""
    cross = cross or {}
    m = len(material)
    sim = np.eye(m)
    for i in range(m):
        for j in range(m):
            if i != j:
                a, b = material[i], material[j]
                sim[i, j] = same if a == b else cross.get(frozenset((a, b)), 0.05)
    return sim


def test_split_mixed_runs_gives_a_chained_verse_phrase_its_own_label():
    """The verse's last phrase (v) is a little like the chorus (C, c): chained into the chorus's
    label, the chorus would start a phrase early in both places; it gets its own label back."""
    from explorer.analysis.labelling import split_mixed_runs

    material = "IVvCcIVvCcO"
    sim = _sim_from_material(material, cross={frozenset("vC"): 0.3, frozenset("vc"): 0.3, frozenset("Cc"): 0.85})
    chained = [0, 1, 2, 2, 2, 0, 1, 2, 2, 2, 3]
    out = split_mixed_runs(chained, sim, ratio=0.5)
    assert out[2] == out[7] and out[2] not in (out[3], out[1], out[0])
    assert out[3:5] == out[8:10] == [2, 2]
    assert [out[i] for i in (0, 1, 5, 6, 10)] == [0, 1, 0, 1, 3]


def test_split_mixed_runs_leaves_one_kind_of_material_and_uneven_runs_alone():
    from explorer.analysis.labelling import split_mixed_runs

    # a chorus of two halves that sound alike: head and tail are one kind of material
    material = "VCcVCc"
    sim = _sim_from_material(material, cross={frozenset("Cc"): 0.8})
    labels = [0, 1, 1, 0, 1, 1]
    assert split_mixed_runs(labels, sim, ratio=0.5) == labels
    # the runs differ in length: no aligned head to compare
    material = "VvCVC"
    sim = _sim_from_material(material, cross={frozenset("vC"): 0.3})
    labels = [0, 1, 1, 0, 1]
    assert split_mixed_runs(labels, sim, ratio=0.5) == labels
    # a label heard once is never split
    assert split_mixed_runs([0, 0, 1], _sim_from_material("abc"), ratio=0.5) == [0, 0, 1]


def test_loop_cycles_finds_a_cycle_repeated_back_to_back_and_nothing_in_a_song_with_sections():
    from explorer.analysis.labelling import loop_cycles

    n, upb = 80, 4
    down = np.zeros(n + 1, dtype=bool)
    down[::upb] = True
    # one 16-unit cycle played five times from unit 0: the diagonal at 16 and its multiples holds everywhere
    i, j = np.indices((n, n))
    loop = (np.abs(i - j) % 16 == 0).astype(float) * 0.7
    np.fill_diagonal(loop, 1.0)
    assert list(loop_cycles(loop, down, units_per_bar=upb)) == [0, 16, 32, 48, 64, 80]
    # a riff heard more often than that is not the song's sections
    assert loop_cycles(loop, down, units_per_bar=upb, max_cycles=4) is None
    # a 2-bar head before the loop starts: the cycles begin on the bar where the diagonal does
    head = np.zeros((n, n))
    head[8:, 8:] = loop[:-8, :-8]
    np.fill_diagonal(head, 1.0)
    assert list(loop_cycles(head, down, units_per_bar=upb)) == [8, 24, 40, 56, 72, 80]
    # A B A B C: the repeats cover the A and B spans only, never most of the song at one lag
    song = np.eye(n)
    for a, b in ((0, 32), (16, 48)):
        song[np.arange(a, a + 16), np.arange(b, b + 16)] = 0.7
    song = np.maximum(song, song.T)
    assert loop_cycles(song, down, units_per_bar=upb) is None
    # the harmony loops but the sound never comes back (a glide through octaves): no loop
    rng = np.random.default_rng(0)
    assert loop_cycles(loop, down, units_per_bar=upb, mfcc=rng.standard_normal((13, n))) is None
    timbre = np.tile(rng.standard_normal((13, 16)), 5)
    assert loop_cycles(loop, down, units_per_bar=upb, mfcc=timbre) is not None
    # alike at every lag (a held chord): nothing cycles
    held = np.full((n, n), 0.7)
    np.fill_diagonal(held, 1.0)
    assert loop_cycles(held, down, units_per_bar=upb) is None


@pytest.mark.parametrize(("bars", "seed", "bpm"), [(8, 0, 120), (4, 5, 100)])
def test_music_that_loops_one_phrase_gets_its_cycles_as_repeated_choruses(bars, seed, bpm):
    # one section played four times, nothing else: before, its repeats merged into one run and the
    # song came out as intro, verse, outro without a chorus
    y, sr, truth = make_song("AAAA", sr=SR, seed=seed, bars_per_section=bars, motif=False, bpm=bpm)
    a = analyze(AudioBuffer(y, sr))
    sounding = [s for s in a.sections if s.function != "other"]
    assert len(a.choruses) >= 4 and a.chorus_note == ""
    assert len({s.label for s in sounding if s.function == "chorus"}) == 1
    bar = 4 * 60.0 / truth.tempo
    for c in a.choruses:
        # every cycle starts on a bar line and lasts a whole number of bars
        assert np.min(np.abs(truth.downbeats - c.start)) < 0.1
    lengths = np.diff([c.start for c in a.choruses]) / bar
    assert np.allclose(lengths, np.round(lengths), atol=0.1) and lengths.min() >= 2
    music = truth.sections[-1].end - truth.sections[0].start
    assert sum(c.end - c.start for c in a.choruses) >= 0.9 * music


@pytest.mark.parametrize(("plan", "seed", "bpm"), [("AABB", 6, 100), ("ABBCCD", 3, 120), ("AABBC", 4, 100)])
def test_strains_played_twice_in_a_row_show_as_repeats_with_a_chorus(plan, seed, bpm):
    # every strain is played twice back to back and never again: before, each pair merged into
    # one section, nothing came back apart from its neighbour and the song had no chorus
    y, sr, truth = make_song(plan, sr=SR, seed=seed, bars_per_section=8, motif=False, bpm=bpm)
    a = analyze(AudioBuffer(y, sr))
    assert len(a.choruses) >= 2 and a.chorus_note == ""
    starts = np.array([s.start for s in truth.sections])
    letters = set()
    for c in a.choruses:
        k = int(np.argmin(np.abs(starts - c.start)))
        assert abs(starts[k] - c.start) < 0.2
        letters.add(truth.sections[k].label)
    assert len(letters) == 1 and plan.count(letters.pop()) == 2
    # both times a strain is heard start a section, and the two carry one letter
    for first, second in zip(truth.sections, truth.sections[1:]):
        if first.label != second.label:
            continue
        at = {round(s.start): s.label for s in a.sections}
        assert round(first.start) in at and round(second.start) in at
        assert at[round(first.start)] == at[round(second.start)]


def test_key_change_finds_where_a_phrase_comes_back_a_tone_higher():
    from explorer.analysis.structure import key_change

    rng = np.random.default_rng(4)
    a = rng.random((12, 32)) ** 4  # a phrase, other material, the phrase again: once as before, once a tone up
    other = rng.random((12, 32)) ** 4
    same = key_change(np.hstack([a, other, a]), min_units=16)
    raised = key_change(np.hstack([a, other, np.roll(a, 2, axis=0)]), min_units=16)
    lowered = key_change(np.hstack([a, other, np.roll(a, -1, axis=0)]), min_units=16)
    # where the phrase comes back, within two bars of four units (random chroma matches by chance too)
    assert raised is not None and raised[1] == 2 and abs(raised[0] - 64) <= 8 and raised[2] > 0.1
    assert lowered is not None and lowered[1] == -1 and abs(lowered[0] - 64) <= 8 and lowered[2] > 0.1
    assert same is not None and same[2] < 0.015  # nothing to gain: it stays in one key
    assert key_change(a[:, :24], min_units=16) is None  # too short to split


@pytest.mark.parametrize(("plan", "seed"), [("ABABCB", 0), ("ABABCBB", 3)])
def test_a_last_chorus_a_tone_higher_is_still_the_chorus(plan, seed):
    # the key change of a last chorus: before, the raised chorus got a letter of its own and the
    # chorus moved to the verse
    y, sr, truth = make_song(plan, sr=SR, seed=seed, bars_per_section=8, modulate=2)
    a = analyze(AudioBuffer(y, sr))
    t = np.arange(0.0, truth.duration, 0.1)

    def inside(spans):
        return np.any([(t >= s) & (t < e) for s, e in spans], axis=0)

    est, ref = inside([(c.start, c.end) for c in a.choruses]), inside(truth.choruses)
    assert (est & ref).sum() >= 0.9 * ref.sum() and (est & ref).sum() >= 0.9 * est.sum()
    assert a.key_change is not None and a.key_change[1] == 2
    assert abs(a.key_change[0] - truth.choruses[-1][0]) < 1.0
    assert a.to_dict()["key_change"] == {"at": round(a.key_change[0], 3), "semitones": 2}


def _path_recurrence(material: str, *, unit: int = 4, same: float = 0.9, other: float = 0.05) -> np.ndarray:
    """Path-enhanced recurrence of a song that plays ``material`` (one letter per ``unit`` units):
    ``same`` along the diagonals where one letter is heard again in the same place, ``other`` elsewhere."""
    seq = [ch for ch in material for _ in range(unit)]
    pos = [k % unit for k in range(len(seq))]
    n = len(seq)
    R = np.full((n, n), other)
    for i in range(n):
        for j in range(n):
            if seq[i] == seq[j] and pos[i] == pos[j]:
                R[i, j] = same
    return R


def test_split_opening_gives_an_intro_left_in_the_first_verse_its_own_section():
    """An intro (I) the segmentation left in one section with the first verse (V) is split off:
    the opening section's end, not its start, matches the verse heard later."""
    from explorer.analysis.labelling import split_opening

    R = _path_recurrence("IVVCCVVCC")  # 4 units a letter: intro 0-4, verse 4-12, chorus 12-20, ...
    bounds, labels = [0, 12, 20, 28, 36], [0, 1, 0, 1]
    assert split_opening(bounds, labels, R, min_extra=4) == ([0, 4, 12, 20, 28, 36], [2, 0, 1, 0, 1])
    # an intro shorter than the least extra length stays where it is
    assert split_opening(bounds, labels, R, min_extra=8) == (bounds, labels)


def test_split_opening_leaves_a_verse_heard_twice_in_a_row_alone():
    """An opening section that is the verse played twice (V V, then V once later) shares its head
    with the later verse as much as its end: nothing of its own to split off."""
    from explorer.analysis.labelling import split_opening

    R = _path_recurrence("VVCCVCC")
    bounds, labels = [0, 8, 16, 20, 28], [0, 1, 0, 1]
    assert split_opening(bounds, labels, R, min_extra=4) == (bounds, labels)
    # an opening no longer than the label's other occurrences: nothing to compare
    R = _path_recurrence("VCVC")
    assert split_opening([0, 4, 8, 12, 16], [0, 1, 0, 1], R, min_extra=1) == ([0, 4, 8, 12, 16], [0, 1, 0, 1])


def test_repeat_strength_finds_each_stretch_heard_again():
    """Units 0–19 come back exactly at 40–59 and nothing else repeats: those units score 1, units
    repeated only in part score in between, and the rest 0; too short a song has no figure."""
    from explorer.analysis.structure import repeat_strength

    n, span = 80, 8
    R = np.eye(n, dtype=np.float32)
    R[np.arange(20), np.arange(40, 60)] = R[np.arange(40, 60), np.arange(20)] = 1.0
    best = repeat_strength(R, span=span)
    assert best.shape == (n,)
    np.testing.assert_allclose(best[4:16], 1.0)
    np.testing.assert_allclose(best[44:56], 1.0)
    assert 0.0 < best[18] < 1.0
    np.testing.assert_allclose(best[24:36], 0.0)
    assert repeat_strength(R[:16, :16], span=span) is None
