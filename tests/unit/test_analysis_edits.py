"""The pure structure edits (explorer.analysis.edits): sections stay contiguous, refused edits change
nothing, and the edited sections marked chorus become the choruses."""

from __future__ import annotations

import numpy as np

from explorer.analysis import edits
from explorer.analysis.types import Analysis, Chorus, Genre, Section


def _sections() -> tuple[Section, ...]:
    return (
        Section(0.0, 10.0, "A", "verse", 0.6),
        Section(10.0, 20.0, "B", "chorus", 0.7),
        Section(20.0, 30.0, "A", "verse", 0.5),
    )


def _contiguous(sections) -> bool:
    return all(abs(a.end - b.start) < 1e-9 for a, b in zip(sections, sections[1:], strict=False))


def test_section_index_at_finds_the_section_and_the_very_end():
    s = _sections()
    assert edits.section_index_at(s, time=0.0) == 0
    assert edits.section_index_at(s, time=10.0) == 1
    assert edits.section_index_at(s, time=30.0) == 2
    assert edits.section_index_at(s, time=31.0) is None


def test_split_cuts_in_two_and_refuses_a_cut_too_near_a_boundary():
    s = _sections()
    cut = edits.split_section(s, at=15.0)
    assert [(x.start, x.end, x.label) for x in cut[1:3]] == [(10.0, 15.0, "B"), (15.0, 20.0, "B")]
    assert len(cut) == 4 and _contiguous(cut) and cut[1].confidence == 1.0
    assert edits.split_section(s, at=10.2) == s  # a half of 0.2 s: refused, unchanged


def test_merge_joins_with_the_next_and_ignores_the_last():
    s = _sections()
    merged = edits.merge_with_next(s, index=0)
    assert [(x.start, x.end, x.label) for x in merged] == [(0.0, 20.0, "A"), (20.0, 30.0, "A")]
    assert edits.merge_with_next(s, index=2) == s


def test_move_boundary_is_clamped_to_leave_both_neighbours():
    s = _sections()
    moved = edits.move_boundary(s, index=1, to=12.5)
    assert (moved[0].end, moved[1].start) == (12.5, 12.5) and _contiguous(moved)
    clamped = edits.move_boundary(s, index=1, to=100.0)
    assert clamped[1].start == 20.0 - edits.MIN_SECTION
    assert edits.move_boundary(s, index=0, to=5.0) == s


def test_rename_changes_only_what_is_given():
    s = _sections()
    renamed = edits.rename_section(s, index=2, function="chorus")
    assert (renamed[2].label, renamed[2].function, renamed[2].confidence) == ("A", "chorus", 1.0)
    assert renamed[:2] == s[:2]


def test_the_sections_marked_chorus_become_the_choruses():
    a = Analysis(
        file="x.wav",
        duration=30.0,
        sample_rate=22050,
        channels=1,
        tempo=120.0,
        beats=(0.5,),
        sections=_sections(),
        choruses=(Chorus(10.0, 20.0, 0.7),),
        genre=Genre("pop", {"pop": 1.0}),
        version="test",
        recurrence=np.zeros((2, 2), np.float32),
    )
    edited = edits.rename_section(a.sections, index=2, function="chorus")
    b = edits.with_sections(a, sections=edited)
    assert b.choruses == (Chorus(10.0, 20.0, 1.0), Chorus(20.0, 30.0, 1.0))
    none_marked = tuple(
        x if x.function != "chorus" else Section(x.start, x.end, x.label, "verse", 1.0) for x in a.sections
    )
    assert edits.with_sections(a, sections=none_marked).choruses == a.choruses  # keeps its own
