"""The scanner's fast path: decoding straight to the analysis rate in mono gives the same analysis."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import soxr
from conftest import write_audio

from explorer.analysis.features import SR
from explorer.audio.decode import decode
from explorer.library.cache import content_hash
from explorer.services.analyze import analyze_buffer, analyze_path
from explorer.services.scan import analyse_one

FILE_SR = 44100


def _stereo_song(seconds: float = 24.0, bpm: float = 120.0) -> np.ndarray:
    """Chords on the left, bass and drums on the right (so the downmix matters), 44.1 kHz stereo."""
    rng = np.random.default_rng(3)
    n = int(seconds * FILE_SR)
    t = np.arange(n) / FILE_SR
    beat = 60.0 / bpm
    bar = 4 * beat
    chords = np.zeros(n)
    bass = np.zeros(n)
    for b in range(int(seconds / bar) + 1):
        i0, i1 = int(b * bar * FILE_SR), min(n, int((b + 1) * bar * FILE_SR))
        root = (0, 5, 7, 3)[b % 4] if b % 8 < 4 else (9, 2, 4, 11)[b % 4]
        tt = t[i0:i1] - b * bar
        for k in (0, 4, 7):
            chords[i0:i1] += np.sin(2 * np.pi * 220 * 2 ** ((root + k) / 12) * tt) * np.exp(-tt / bar)
        bass[i0:i1] = np.sign(np.sin(2 * np.pi * 55 * 2 ** (root / 12) * tt))
    drums = np.zeros(n)
    hit = int(0.1 * FILE_SR)
    env = np.exp(-np.arange(hit) / (0.02 * FILE_SR))
    for j in range(int(seconds / beat)):
        i = int(j * beat * FILE_SR)
        m = min(hit, n - i)
        sound = np.sin(2 * np.pi * 60 * np.arange(hit) / FILE_SR) if j % 2 == 0 else rng.normal(0, 0.5, hit)
        drums[i : i + m] += (sound * env)[:m]
    left = 0.25 * chords / np.abs(chords).max()
    right = 0.2 * bass + 0.5 * drums / np.abs(drums).max()
    return np.stack([left, right], axis=1).astype(np.float32)


@pytest.fixture(scope="module")
def song(tmp_path_factory):
    return write_audio(
        tmp_path_factory.mktemp("scan-speed") / "song.mp3", _stereo_song(), FILE_SR, codec_args=("-b:a", "192k")
    )


def test_decoding_to_the_analysis_rate_in_mono_is_the_channel_mean_resampled(song):
    full = decode(song)
    small = decode(song, sr=SR, mono=True)
    assert (small.sr, small.channels, full.sr, full.channels) == (SR, 1, FILE_SR, 2)
    assert (small.source.sample_rate, small.source.channels) == (FILE_SR, 2)  # the file's own, still known
    assert abs(small.duration - full.duration) < 1e-3
    ref = soxr.resample(full.mono(), FILE_SR, SR)
    got = small.samples[:, 0]
    n = min(ref.size, got.size)
    # the mean of the channels, not ffmpeg's default downmix (1/sqrt(2) each: 3 dB louder)
    level_db = 20 * np.log10(np.sqrt(np.mean(got[:n] ** 2) / np.mean(ref[:n] ** 2)))
    assert abs(level_db) < 0.1
    assert np.corrcoef(ref[:n], got[:n])[0, 1] > 0.999


def test_the_scanner_analysis_equals_the_full_rate_one(song, tmp_path):
    st = os.stat(song)
    status, fast = analyse_one(str(song), content_hash(song), st.st_size, st.st_mtime, str(tmp_path / "cache"))
    assert status == "ok", fast
    full = analyze_buffer(decode(song))
    # the file's own format is reported, not the rate and channels it was decoded at
    assert (fast.sample_rate, fast.channels) == (full.sample_rate, full.channels) == (FILE_SR, 2)
    assert abs(fast.duration - full.duration) < 1e-3
    assert abs(fast.tempo - full.tempo) < 0.5
    assert len(fast.beats) == len(full.beats) > 20
    assert np.max(np.abs(np.subtract(fast.beats, full.beats))) < 0.025  # one frame (23 ms)
    assert [s.label for s in fast.sections] == [s.label for s in full.sections]
    assert np.max(np.abs(np.subtract([s.start for s in fast.sections], [s.start for s in full.sections]))) < 0.05
    assert fast.genre.label == full.genre.label
    p_fast, p_full = (np.array([a.genre.probabilities[g] for g in sorted(a.genre.probabilities)]) for a in (fast, full))
    assert np.max(np.abs(p_fast - p_full)) < 0.01
    assert float(np.dot(fast.embedding, full.embedding)) > 0.999


def test_analyze_path_decodes_for_the_analysis_and_names_the_file_format(song):
    fast = analyze_path(song)
    full = analyze_buffer(decode(song))
    assert (fast.sample_rate, fast.channels) == (FILE_SR, 2)
    assert fast.to_dict()["beats"] == pytest.approx(full.to_dict()["beats"], abs=0.025)
    assert [s.label for s in fast.sections] == [s.label for s in full.sections]


def test_a_scan_worker_runs_the_genre_networks_on_one_thread():
    code = (
        "from explorer.services.scan import _init_worker; _init_worker(None); "
        "from explorer.genre.model import load_models; "
        "print(sorted({s.get_session_options().intra_op_num_threads "
        "for s in load_models().networks.sessions.values()}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    )
    assert out.stdout.strip() == "[1]"
