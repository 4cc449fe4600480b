"""What the user hears: a dragged selection, a clicked chorus, a clicked motif occurrence.

Playback goes through simpleaudio into the ALSA ``type file`` device of the ``alsa_capture``
fixture (the window creates its Player on the first play, after the fixture has set
``ALSA_CONFIG_PATH``); the captured PCM must equal exactly the region's samples.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from explorer.audio.playback import to_pcm16
from tests.ui.helpers import click, drag, make_known_analysis, open_and_wait, open_audio, wait_played

pytestmark = pytest.mark.timeout(120)


def started(qtbot, window):
    """Wait for playback to start (it may also end at once: the capture device is not real-time)."""
    return qtbot.waitSignal(window.player.stateChanged, timeout=3000, check_params_cb=lambda s: s == "playing")


def expected_pcm(window, start, end):
    buf = window.song.buffer
    pcm, sr, _ = to_pcm16(buf.region(start, end), buf.sr)
    return pcm, sr


def assert_captured(alsa_capture, window, start, end):
    got, sr = alsa_capture.read()
    want, want_sr = expected_pcm(window, start, end)
    assert sr == want_sr
    assert got.shape == want.shape
    assert np.array_equal(got, want)


def test_drag_select_then_space_plays_exactly_the_selection(qtbot, window, song_file, alsa_capture):
    open_audio(qtbot, window, song_file)
    drag(window.waveform.detail, 1.0, 1.6)
    sel = window.waveform.selected()
    assert sel is not None
    assert sel[0] == pytest.approx(1.0, abs=0.05) and sel[1] == pytest.approx(1.6, abs=0.05)
    window.waveform.setFocus()
    with started(qtbot, window):
        QTest.keyClick(window.waveform, Qt.Key.Key_Space)
    wait_played(qtbot, window)
    assert_captured(alsa_capture, window, *sel)


def test_click_chorus_plays_exactly_that_chorus(qtbot, window, song_file, alsa_capture):
    open_and_wait(qtbot, window, song_file)
    window.set_analysis(make_known_analysis(str(song_file), window.song.buffer.duration))
    chorus = window.analysis.choruses[1]
    with started(qtbot, window):
        click(window.waveform.section_lane, (chorus.start + chorus.end) / 2, 0.85)
    assert window.waveform.selected() == pytest.approx((chorus.start, chorus.end))
    assert window.structure.sections_lane._highlight == pytest.approx((chorus.start, chorus.end))
    assert "Chorus" in window.status_label.text()
    wait_played(qtbot, window)
    assert_captured(alsa_capture, window, chorus.start, chorus.end)


def test_click_motif_occurrence_plays_it(qtbot, window, song_file, alsa_capture):
    open_and_wait(qtbot, window, song_file)
    window.set_analysis(make_known_analysis(str(song_file), window.song.buffer.duration))
    motif = max(window.analysis.motifs, key=lambda m: m.score)
    occ = motif.occurrences[1]
    with started(qtbot, window):
        click(window.waveform.motif_lane, (occ.start + occ.end) / 2, 0.75)
    wait_played(qtbot, window)
    assert_captured(alsa_capture, window, occ.start, occ.end)
    assert window.structure.current_motif().id == motif.id


def test_escape_stops_and_loop_repeats(qtbot, window, song_file, alsa_capture):
    open_audio(qtbot, window, song_file)
    window.waveform.set_selection(0.5, 0.8)
    window.waveform.setFocus()
    with started(qtbot, window):
        QTest.keyClick(window.waveform, Qt.Key.Key_L)
    # The capture device takes sound faster than real time, so a loop is what keeps playing here.
    playheads = []
    window.player.positionChanged.connect(playheads.append)
    qtbot.waitUntil(lambda: len(playheads) >= 4, timeout=3000)
    assert window.player.state == "playing"
    assert window.player.player.current_region() == pytest.approx((0.5, 0.8))
    moving = [t for t in playheads if t is not None]
    assert len(moving) >= 3 and all(0.5 <= t <= 0.8 + 1e-6 for t in moving), moving  # a ~30 fps playhead
    assert window.waveform.playheads[0].isVisible() and window.waveform.playheads[1].isVisible()  # detail, overview
    assert window.waveform.playheads[0].value() == pytest.approx(moving[-1], abs=0.31)
    QTest.keyClick(window.waveform, Qt.Key.Key_Escape)
    assert window.player.state == "stopped"
    assert all(not line.isVisible() for line in window.waveform.playheads)


def test_play_all_choruses_and_all_occurrences_play_in_sequence(qtbot, window, song_file, alsa_capture):
    open_and_wait(qtbot, window, song_file)
    a = make_known_analysis(str(song_file), window.song.buffer.duration)
    window.set_analysis(a)
    regions = []
    window.player.regionChanged.connect(lambda r: r is not None and regions.append(tuple(r)))
    with started(qtbot, window):
        window.act_choruses.trigger()
    wait_played(qtbot, window)
    # the capture device holds the last region played; the first one was seen by the playhead clock
    assert_captured(alsa_capture, window, a.choruses[-1].start, a.choruses[-1].end)
    assert regions and regions[0] == pytest.approx((a.choruses[0].start, a.choruses[0].end))
    best = max(a.motifs, key=lambda m: m.score)
    with started(qtbot, window):
        window.act_occurrences.trigger()
    wait_played(qtbot, window)
    assert_captured(alsa_capture, window, best.occurrences[-1].start, best.occurrences[-1].end)


def test_a_failing_sound_device_is_reported_not_swallowed(qtbot, song_file, tmp_path, monkeypatch):
    from explorer.app import build_window
    from tests.conftest import Capture

    conf = tmp_path / "asound.conf"
    monkeypatch.setenv("ALSA_CONFIG_PATH", str(conf))
    conf.write_text("pcm.!default { type hw card 99 }\n")  # no such card
    _, w = build_window([])
    qtbot.addWidget(w)
    try:
        w.auto_analyze = False
        open_audio(qtbot, w, song_file)
        with qtbot.waitSignal(w.errorShown, timeout=5000) as blocker:
            w.play_region(0.0, 0.5)
        # a sentence, not the playback thread's exception
        assert blocker.args[0].startswith("No sound output: the audio device could not be opened (")
        assert "CODE" not in blocker.args[0] and "failed:" not in blocker.args[0]
        assert w.banner.isVisible()
        qtbot.waitUntil(lambda: w.player.state == "stopped", timeout=5000)
        # the device comes back (plugged in, freed by another program): the next play uses it
        (tmp_path / "capture").mkdir()
        capture = Capture(tmp_path / "capture")  # writes its own asound.conf there
        conf.write_text(capture.conf.read_text())
        os.utime(conf, (time.time() + 10, time.time() + 10))  # ALSA reads its configuration again when it changes
        shown = []
        w.errorShown.connect(shown.append)
        with qtbot.waitSignal(w.player.stateChanged, timeout=5000, check_params_cb=lambda s: s == "playing"):
            w.play_region(0.0, 0.5)
        qtbot.waitUntil(lambda: w.player.state == "stopped", timeout=20000)
        assert capture.path.exists() and capture.read()[0].shape[0] > 0
        assert shown == []
    finally:
        w.close()
