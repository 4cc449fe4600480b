"""Playback through simpleaudio into an ALSA ``type file`` device: what is heard is exactly the region asked for.

Three ways of capturing (all on top of the ``alsa_capture`` fixture's folder and ALSA_CONFIG_PATH):
- ``alsa_capture`` as it is: the last sound played, as a WAV file; the null slave takes it instantly.
- ``sequential``: every sound played gets its own file (ALSA numbers them), so sequences and loops can be checked.
- ``paced``: the file device writes into a pipe that a small program drains at the real sample rate, so a sound
  lasts as long as it would on a sound card and the position, pause and resume can be checked while it plays.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import tone
from timing import budget

from explorer.audio.buffer import AudioBuffer
from explorer.audio.decode import decode
from explorer.audio.playback import Player, downmix_matrix, to_pcm16

PACER = r"""
import os, sys, time
out, rate, channels = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
bytes_per_second = rate * channels * 2
i = 0
while os.path.exists(f"{out}.{i:04d}"):
    i += 1
t0, n = time.monotonic(), 0
with open(f"{out}.{i:04d}.part", "wb") as f:
    while True:
        chunk = sys.stdin.buffer.read1(8192)
        if not chunk:
            break
        f.write(chunk)
        n += len(chunk)
        ahead = n / bytes_per_second - (time.monotonic() - t0)
        if ahead > 0:
            time.sleep(ahead)
os.rename(f"{out}.{i:04d}.part", f"{out}.{i:04d}")
"""


def noise_buffer(seconds: float, sr: int = 44100, channels: int = 2, seed: int = 0) -> AudioBuffer:
    rng = np.random.default_rng(seed)
    y = tone(seconds, sr, channels=channels, amp=0.3) + 0.2 * rng.standard_normal((int(round(seconds * sr)), channels))
    return AudioBuffer(y.astype(np.float32), sr)


def expected(buffer: AudioBuffer, start: float, end: float) -> np.ndarray:
    """The int16 samples of [start, end) computed independently of the player (44.1/48 kHz, ≤ 2 channels)."""
    i0, i1 = int(round(start * buffer.sr)), int(round(end * buffer.sr))
    return np.rint(np.clip(buffer.samples[i0:i1], -1, 1) * 32767).astype(np.int16)


class Sequential:
    """Every opening of the ALSA device writes its own WAV: captured.wav, captured.wav.0001, …"""

    def __init__(self, cap):
        self.cap = cap
        conf = cap.conf.read_text()
        assert 'format "wav"' in conf
        cap.conf.write_text(conf.replace('format "wav"', 'format "wav"\n    truncate false'))

    def files(self) -> list[Path]:
        first = self.cap.path
        rest = sorted(first.parent.glob(first.name + ".[0-9][0-9][0-9][0-9]"))
        return ([first] if first.exists() else []) + rest

    def read(self, count: int | None = None) -> list[np.ndarray]:
        """The first ``count`` captures (all by default): a later one may still be being written."""
        return [sf.read(str(f), dtype="int16", always_2d=True)[0] for f in self.files()[:count]]


class Paced:
    """Sounds last as long as on a sound card; each one lands in cap.NNNN as raw int16."""

    def __init__(self, cap):
        self.folder = cap.folder
        pacer = cap.folder / "pacer.py"
        pacer.write_text(PACER)
        cap.conf.write_text(f"""pcm.!default {{
    type file
    slave {{ pcm {{ type null }} }}
    file "| {sys.executable} {pacer} {cap.folder / "cap"} %r %c"
    format "raw"
}}
ctl.!default {{ type hw card 0 }}
""")

    def read(self, channels: int = 2) -> list[np.ndarray]:
        files = sorted(self.folder.glob("cap.[0-9][0-9][0-9][0-9]"))
        return [np.fromfile(f, dtype="<i2").reshape(-1, channels) for f in files]


@pytest.fixture
def sequential(alsa_capture):
    return Sequential(alsa_capture)


@pytest.fixture
def paced(alsa_capture):
    return Paced(alsa_capture)


@pytest.fixture
def player():
    p = Player()
    yield p
    p.stop()


def wait_for(condition, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


# ---------------------------------------------------------------------------------- what is played
def test_region_is_captured_exactly(alsa_capture, player):
    b = noise_buffer(3.0)
    player.play(b, 0.25, 1.75)
    assert player.wait(5)
    data, sr = alsa_capture.read()
    assert sr == 44100
    assert data.shape == (66150, 2)
    np.testing.assert_array_equal(data, expected(b, 0.25, 1.75))
    np.testing.assert_array_equal(data, to_pcm16(b.region(0.25, 1.75), b.sr)[0])
    assert not player.is_playing()
    assert player.position() is None


def test_region_is_clamped_to_the_song_and_empty_regions_play_nothing(alsa_capture, player):
    b = noise_buffer(1.0, sr=48000, channels=1)
    player.play(b, 0.5, 7.0)
    assert player.wait(5)
    data, sr = alsa_capture.read()
    assert sr == 48000 and data.shape == (24000, 1)
    np.testing.assert_array_equal(data, expected(b, 0.5, 1.0))
    alsa_capture.clear()
    player.play(b, 2.0, 3.0)
    player.play(b, 0.6, 0.6)
    assert player.wait(1) and not player.is_playing()
    assert not alsa_capture.path.exists()


def test_clipping_is_saturated_not_wrapped(alsa_capture, player):
    y = np.array([[-2.0], [-1.0], [-0.5], [0.0], [0.5], [1.0], [1.5]] * 100, dtype=np.float32)
    b = AudioBuffer(y, 8000)
    player.play(b)
    assert player.wait(5)
    data, sr = alsa_capture.read()
    assert sr == 8000
    assert data[:7, 0].tolist() == [-32767, -32767, -16384, 0, 16384, 32767, 32767]


def test_sequence_plays_each_region_in_order(sequential, player):
    b = noise_buffer(3.0, seed=1)
    regions = [(1.0, 1.5), (0.2, 0.4), (2.0, 2.25)]
    player.play_sequence(b, regions)
    assert player.wait(5)
    got = sequential.read()
    assert len(got) == 3
    for data, (s, e) in zip(got, regions):
        np.testing.assert_array_equal(data, expected(b, s, e))


def test_loop_repeats_the_region_until_stopped(sequential, player):
    b = noise_buffer(2.0, seed=2)
    player.play(b, 0.5, 0.6, loop=True)
    assert wait_for(lambda: len(sequential.files()) >= 4)
    assert player.is_playing()
    player.stop()
    assert not player.is_playing() and player.wait(1)
    n = len(sequential.files())
    time.sleep(0.2)
    got = sequential.read()
    assert len(got) == n, "nothing is played after stop()"
    want = expected(b, 0.5, 0.6)
    for data in got[:-1]:
        np.testing.assert_array_equal(data, want)
    np.testing.assert_array_equal(got[-1], want[: len(got[-1])])  # the pass stop() cut short


def test_looping_regions_shorter_than_a_sample_ends(alsa_capture, player):
    b = noise_buffer(1.0, sr=8000, channels=1)
    player.play_sequence(b, [(0.5, 0.50001), (0.7, 0.70002)], loop=True)
    assert player.wait(2), "nothing to play, so the loop must end instead of spinning"
    assert not player.is_playing()


def test_looped_sequence_goes_round(sequential, player):
    b = noise_buffer(2.0, seed=3)
    regions = [(0.1, 0.2), (1.0, 1.05)]
    player.play_sequence(b, regions, loop=True)
    assert wait_for(lambda: len(sequential.files()) >= 5)
    player.stop()
    got = sequential.read(4)
    for k, data in enumerate(got):
        np.testing.assert_array_equal(data, expected(b, *regions[k % 2]))


# ---------------------------------------------------------------------------------- device layouts
def test_odd_rate_and_eight_channels_are_converted(alsa_capture, player):
    sr = 37800
    t = np.arange(int(1.5 * sr)) / sr
    y = np.zeros((len(t), 8), dtype=np.float32)
    y[:, 0] = 0.8 * np.sin(2 * np.pi * 440 * t)  # front left only
    b = AudioBuffer(y, sr)
    player.play(b, 0.5, 1.25)
    assert player.wait(10)
    data, out_sr = alsa_capture.read()
    assert out_sr == 48000 and data.shape[1] == 2
    assert abs(len(data) - 0.75 * 48000) <= 1
    np.testing.assert_array_equal(data, to_pcm16(b.region(0.5, 1.25), sr)[0])
    assert np.abs(data[:, 1]).max() == 0, "front left must not leak into the right channel"
    # the tone survives the conversion: same pitch and the downmix's level
    spectrum = np.abs(np.fft.rfft(data[:, 0].astype(np.float64)))
    assert abs(np.argmax(spectrum) * 48000 / len(data) - 440) < 2
    level = np.sqrt(np.mean((data[:, 0] / 32767.0) ** 2))
    assert level == pytest.approx(0.8 / np.sqrt(2) * downmix_matrix(8)[0, 0], rel=0.02)


@pytest.mark.parametrize("sr,channels", [(8000, 1), (22050, 2), (192000, 2), (44100, 6)])
def test_device_rates_are_kept(alsa_capture, player, sr, channels):
    b = noise_buffer(0.5, sr=sr, channels=channels, seed=4)
    player.play(b, 0.1, 0.4)
    assert player.wait(5)
    data, out_sr = alsa_capture.read()
    assert out_sr == sr and data.shape == (int(round(0.3 * sr)), min(channels, 2))
    np.testing.assert_array_equal(data, to_pcm16(b.region(0.1, 0.4), sr)[0])
    if channels <= 2:
        np.testing.assert_array_equal(data, expected(b, 0.1, 0.4))


@pytest.mark.parametrize("sr,channels", [(44100, 2), (48000, 8)])
def test_a_prepared_song_plays_the_same_samples(alsa_capture, sr, channels):
    b = noise_buffer(2.0, sr=sr, channels=channels, seed=10)
    cold = Player()
    cold.play(b, 0.3, 1.7)
    assert cold.wait(5)
    first, _ = alsa_capture.read()
    warm = Player()
    warm.prepare(b, wait=True)
    warm.play(b, 0.3, 1.7)
    assert warm.wait(5)
    second, _ = alsa_capture.read()
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(second, to_pcm16(b.region(0.3, 1.7), sr)[0])
    assert len(second) == int(round(1.7 * sr)) - int(round(0.3 * sr))


def test_centre_goes_to_both_sides_and_lfe_is_left_out():
    w = downmix_matrix(6)  # FL FR FC LFE SL SR
    assert w[2, 0] == w[2, 1] > 0
    assert (w[3] == 0).all()
    assert w[4, 1] == 0 and w[5, 0] == 0
    for n in range(3, 9):
        np.testing.assert_allclose(downmix_matrix(n).sum(axis=0), 1.0, rtol=1e-6)


# ---------------------------------------------------------------------------------- position, pause, resume
def test_position_follows_the_clock_while_playing(paced, player):
    b = noise_buffer(3.0, seed=5)
    t0 = time.monotonic()
    player.play(b, 1.0, 2.2)
    time.sleep(0.4)
    pos, elapsed = player.position(), time.monotonic() - t0
    assert player.is_playing() and not player.is_paused()
    assert player.current_region() == (1.0, 2.2)
    # the clock starts when the sound is handed to the device, a little after play() was called
    assert 1.0 + elapsed - 0.3 <= pos <= 1.0 + elapsed
    t0 = time.monotonic()
    assert player.wait(5)
    assert time.monotonic() - t0 > 0.5, "a paced sound lasts about as long as it is"
    assert player.position() is None and player.current_region() is None
    np.testing.assert_array_equal(paced.read()[0], expected(b, 1.0, 2.2))


def test_pause_holds_the_position_and_resume_plays_exactly_the_rest(paced, player):
    b = noise_buffer(3.0, seed=6)
    t0 = time.monotonic()
    player.play(b, 0.5, 2.0)
    time.sleep(0.4)
    player.pause()
    elapsed = time.monotonic() - t0
    assert player.is_paused() and not player.is_playing()
    pos = player.position()
    time.sleep(0.2)
    assert player.position() == pos
    assert 0.5 + elapsed - 0.3 <= pos <= 0.5 + elapsed
    assert player.current_region() == (0.5, 2.0)
    assert wait_for(lambda: len(paced.read()) == 1)
    first = paced.read()[0]
    want_all = expected(b, 0.5, 2.0)
    np.testing.assert_array_equal(first, want_all[: len(first)])  # what was heard before the pause
    player.resume()
    assert player.is_playing() and not player.is_paused()
    assert player.position() >= pos
    assert player.wait(5)
    second = paced.read()[1]
    np.testing.assert_array_equal(second, to_pcm16(b.region(pos, 2.0), b.sr)[0])
    assert len(second) == int(round(2.0 * b.sr)) - int(round(pos * b.sr))


def test_resume_in_a_loop_finishes_the_region_then_loops_whole_regions(paced, player):
    b = noise_buffer(2.0, seed=7)
    regions = [(0.2, 0.5), (1.0, 1.3)]
    player.play_sequence(b, regions, loop=True)
    time.sleep(0.2)
    player.pause()
    region, pos = player.current_region(), player.position()
    assert region in regions and region[0] <= pos <= region[1]
    assert wait_for(lambda: len(paced.read()) == 1)
    player.resume()
    assert wait_for(lambda: len(paced.read()) >= 4, timeout=budget(8))
    player.stop()
    got = paced.read()
    np.testing.assert_array_equal(got[1], to_pcm16(b.region(pos, region[1]), b.sr)[0])
    k = regions.index(region)
    np.testing.assert_array_equal(got[2], expected(b, *regions[(k + 1) % 2]))
    np.testing.assert_array_equal(got[3], expected(b, *regions[k]))


def test_toggle_and_stop(paced, player):
    b = noise_buffer(3.0, seed=8)
    player.play(b, 0.0, 2.5)
    time.sleep(0.2)
    player.toggle()
    assert player.is_paused()
    player.toggle()
    assert player.is_playing()
    time.sleep(0.2)
    t0 = time.monotonic()
    player.stop()
    assert time.monotonic() - t0 < 1.0
    assert not player.is_playing() and not player.is_paused() and player.position() is None
    player.resume()  # nothing to resume after stop
    assert not player.is_playing()


def test_take_heard_reports_the_stretches_played(sequential, player):
    b = noise_buffer(2.0, seed=9)
    player.play_sequence(b, [(0.2, 0.5), (1.0, 1.3)])
    assert player.wait(5)
    assert player.take_heard() == [(b.path, 0.2, 0.5), (b.path, 1.0, 1.3)]
    assert player.take_heard() == []  # taken once


def test_take_heard_stops_where_playback_was_paused_or_stopped(paced, player):
    b = noise_buffer(3.0, seed=10)
    player.play(b, 0.5, 2.0)
    time.sleep(0.4)
    player.pause()
    pos = player.position()
    [(path, a, e)] = player.take_heard()
    assert path == b.path and a == 0.5 and e == pytest.approx(pos, abs=0.05)
    player.resume()
    time.sleep(0.3)
    player.stop()
    [(_, a2, e2)] = player.take_heard()
    assert a2 == pytest.approx(pos) and pos + 0.1 < e2 < 2.0


# ---------------------------------------------------------------------------------- the command line
def test_cli_play_captures_exactly_the_region_and_returns(alsa_capture, make_audio):
    y = tone(3.0, 44100, channels=2) + 0.05 * np.random.default_rng(9).standard_normal((132300, 2))
    path = make_audio("song.flac", y.astype(np.float32), 44100, "-sample_fmt", "s16")
    env = dict(os.environ, ALSA_CONFIG_PATH=str(alsa_capture.conf))
    proc = subprocess.run(
        [sys.executable, "-m", "explorer", "play", str(path), "--start", "0.5", "--end", "1.25"],
        env=env,
        capture_output=True,
        text=True,
        timeout=budget(60),
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and proc.stderr == ""
    data, sr = alsa_capture.read()
    b = decode(path)
    assert sr == 44100 and data.shape == (33075, 2)
    np.testing.assert_array_equal(data, expected(b, 0.5, 1.25))


def test_cli_play_rejects_an_empty_region(make_audio):
    path = make_audio("short.wav", tone(1.0, 22050), 22050)
    proc = subprocess.run(
        [sys.executable, "-m", "explorer", "play", str(path), "--start", "2", "--end", "3"],
        capture_output=True,
        text=True,
        timeout=budget(60),
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("music-explorer: error: ")
    assert "short.wav" in proc.stderr
