"""What counts as heard of a song: the union of the stretches played."""

from __future__ import annotations

import pytest

from explorer.library.listening import Listening


def test_stretches_count_once_and_merge():
    li = Listening("x.mp3", 100.0)
    for _ in range(5):
        li.add(20.0, 30.0)  # a loop played five times
    assert li.heard == pytest.approx(10.0)
    li.add(25.0, 45.0)  # overlaps the end of the loop
    li.add(0.0, 5.0)
    assert li.heard == pytest.approx(30.0)
    assert li.fraction == pytest.approx(0.3)
    li.add(4.0, 21.0)  # bridges the two stretches
    assert li.heard == pytest.approx(45.0)
    li.add(45.0, 50.0)  # touches the end: one stretch
    li.add(60.0, 61.0)
    assert li.heard == pytest.approx(51.0)
    assert li._starts == [0.0, 60.0] and li._ends == [50.0, 61.0]


def test_empty_backwards_and_out_of_range_stretches():
    li = Listening("x.mp3", 10.0)
    li.add(5.0, 5.0)
    li.add(6.0, 4.0)
    li.add(12.0, 20.0)
    assert li.heard == 0.0 and not li.worth_recording()
    li.add(9.0, 12.0)
    li.add(-3.0, 0.5)
    assert li.heard == pytest.approx(1.5)
    assert li.worth_recording()


def test_a_short_listen_is_a_skip_only_when_the_song_was_started_from_the_top():
    explored = Listening("x.mp3", 200.0)
    explored.add(60.0, 75.0)  # the chorus, clicked: 7.5 % of the song
    assert not explored.worth_recording()
    explored.add(100.0, 110.0)  # and a verse: 12.5 % heard, a partial listen
    assert explored.worth_recording()
    started = Listening("x.mp3", 200.0)
    started.add(0.0, 12.0)  # played from the beginning, given up after 12 s
    assert started.from_the_top and started.worth_recording()
