"""What the listener plays in the window goes into the library's listening history, where the
"For you" ranking reads it: the union of the stretches heard, recorded when the song is left."""

from __future__ import annotations

import pytest

from tests.conftest import tone, write_audio
from tests.ui.helpers import SR, open_audio

pytestmark = pytest.mark.timeout(120)


def _play_and_wait(qtbot, window, start, end):
    window.play_region(start, end)
    qtbot.waitUntil(lambda: window.player.state == "stopped", timeout=10000)


def test_regions_heard_are_recorded_when_another_song_opens(qtbot, window, song_file, tmp_path, alsa_capture):
    lib = window.library
    track = lib.add_or_update_file(song_file)
    other = write_audio(tmp_path / "other.wav", tone(2.0, SR, 440.0, channels=2), SR)
    open_audio(qtbot, window, song_file)
    duration = window.song.buffer.duration
    _play_and_wait(qtbot, window, 1.0, 3.0)
    _play_and_wait(qtbot, window, 2.0, 3.5)  # overlaps the first region: those moments count once
    # a sidebar preview of another song is not listening to this one
    with qtbot.waitSignal(window.player.stateChanged, timeout=20000, check_params_cb=lambda s: s == "playing"):
        window.preview(str(other), 0.0, 1.5)
    qtbot.waitUntil(lambda: window.player.state == "stopped", timeout=10000)
    assert lib.history() == []  # nothing is written while the song is still on screen

    with qtbot.waitSignal(window.sidebar.listenRecorded, timeout=20000) as sig:
        open_audio(qtbot, window, other)
    path, kind, heard = sig.args
    assert path == str(song_file)
    assert heard == pytest.approx(2.5, abs=0.3)
    frac = heard / duration
    assert kind == ("play" if frac >= 0.5 else "skip" if frac < 0.1 else "partial")
    [entry] = lib.history()
    assert entry.track_id == track.id and entry.kind == kind and entry.heard == pytest.approx(heard)


def test_closing_the_window_keeps_the_listen(qtbot, window, song_file, alsa_capture):
    lib = window.library
    track = lib.add_or_update_file(song_file)
    open_audio(qtbot, window, song_file)
    _play_and_wait(qtbot, window, 0.0, 2.0)
    window.close()
    [entry] = lib.history()
    assert entry.track_id == track.id and entry.heard == pytest.approx(2.0, abs=0.3)


def test_a_click_stopped_at_once_and_songs_outside_the_library_leave_no_history(
    qtbot, window, song_file, tmp_path, alsa_capture
):
    lib = window.library
    lib.add_or_update_file(song_file)
    long_song = write_audio(tmp_path / "long.wav", tone(40.0, SR, 330.0, channels=2), SR)
    lib.add_or_update_file(long_song)
    outside = write_audio(tmp_path / "outside.wav", tone(4.0, SR, 440.0, channels=2), SR)
    open_audio(qtbot, window, song_file)
    window.play_region(0.0, 3.0)
    window.stop()  # at once: under a second heard
    open_audio(qtbot, window, long_song)
    _play_and_wait(qtbot, window, 20.0, 22.0)  # one region heard: exploring the song, not a skip of it
    open_audio(qtbot, window, outside)
    _play_and_wait(qtbot, window, 0.0, 2.0)
    window.close()
    assert lib.history() == []
