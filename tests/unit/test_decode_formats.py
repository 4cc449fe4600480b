"""Every format the app opens, made here with ffmpeg and decoded back.

Lossless files are compared sample for sample with the integers (or floats) written into them;
lossy ones must keep the length to within one codec frame, the rate and the channel count, and
still hold the same sound (pitch, level and timing).
"""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from explorer.audio.decode import decode

SCALE = {"u8": 128.0, "s16le": 32768.0, "s32le": 2.0**31}


def wrap(path, raw: np.ndarray, raw_fmt: str, sr: int, *codec_args: str):
    """Hand the exact bytes of ``raw`` (n, channels) to ffmpeg as ``raw_fmt`` and write ``path``."""
    channels = raw.shape[1]
    cmd = [
        "ffmpeg",
        "-nostdin",
        "-v",
        "error",
        "-y",
        "-f",
        raw_fmt,
        "-ar",
        str(sr),
        "-ac",
        str(channels),
        "-i",
        "pipe:0",
        *codec_args,
        str(path),
    ]
    subprocess.run(cmd, input=np.ascontiguousarray(raw).tobytes(), check=True)
    return path


def random_ints(n: int, channels: int, bits: int, seed: int = 0) -> np.ndarray:
    """Full-scale random integers of ``bits`` bits, shape (n, channels), including both extremes."""
    rng = np.random.default_rng(seed)
    top = 2 ** (bits - 1)
    v = rng.integers(-top, top, size=(n, channels), dtype=np.int64)
    v[0], v[1] = -top, top - 1  # the extremes must survive too
    return v


# ---------------------------------------------------------------------------------- lossless: sample-exact
LOSSLESS = {
    # name: (ext, bits of the integers, raw format fed to ffmpeg, left shift, codec args, expected from ints)
    "wav-u8": ("wav", 8, "u8", 0, ("-c:a", "pcm_u8")),
    "wav-s16": ("wav", 16, "s16le", 0, ("-c:a", "pcm_s16le")),
    "wav-s24": ("wav", 24, "s32le", 8, ("-c:a", "pcm_s24le")),
    "wav-s32": ("wav", 32, "s32le", 0, ("-c:a", "pcm_s32le")),
    "flac-16": ("flac", 16, "s16le", 0, ("-c:a", "flac")),
    "flac-24": ("flac", 24, "s32le", 8, ("-c:a", "flac", "-sample_fmt", "s32", "-bits_per_raw_sample", "24")),
}


def lossless_file(tmp_path, kind: str, sr: int, channels: int, n: int, seed: int = 0):
    ext, bits, raw_fmt, shift, args = LOSSLESS[kind]
    v = random_ints(n, channels, bits, seed)
    if raw_fmt == "u8":
        raw = (v + 128).astype(np.uint8)
        want = (v / 128.0).astype(np.float32)
    elif raw_fmt == "s16le":
        raw = v.astype("<i2")
        want = (v / 32768.0).astype(np.float32)
    else:
        raw = (v << shift).astype("<i4")
        # ffmpeg turns 32-bit integers into float32 first, then scales by 2^-31 (exact for ≤ 24 bits)
        want = raw.astype(np.float32) * np.float32(2.0**-31)
    path = wrap(tmp_path / f"{kind}-{sr}-{channels}.{ext}", raw, raw_fmt, sr, *args)
    return path, want


@pytest.mark.parametrize("kind", sorted(LOSSLESS))
def test_lossless_formats_are_sample_exact(tmp_path, kind):
    path, want = lossless_file(tmp_path, kind, 44100, 2, 9001)
    b = decode(path)
    assert (b.sr, b.channels, b.n_frames) == (44100, 2, 9001)
    assert b.samples.dtype == np.float32
    np.testing.assert_array_equal(b.samples, want)
    bits = LOSSLESS[kind][1]
    assert b.source.bits_per_sample == bits
    assert b.source.codec.startswith("flac" if kind.startswith("flac") else "pcm_")
    assert b.warnings == ()


@pytest.mark.parametrize("codec,dtype", [("pcm_f32le", "<f4"), ("pcm_f64le", "<f8")])
def test_float_wav_is_exact(tmp_path, codec, dtype):
    rng = np.random.default_rng(5)
    y = rng.uniform(-1.0, 1.0, size=(5003, 3)).astype(dtype)
    y[0] = (1.5, -2.0, 1e-30)  # float files may go past full scale: keep it, do not clip
    raw_fmt = "f32le" if dtype == "<f4" else "f64le"
    b = decode(wrap(tmp_path / "f.wav", y, raw_fmt, 48000, "-c:a", codec))
    assert (b.sr, b.channels, b.n_frames) == (48000, 3, 5003)
    np.testing.assert_array_equal(b.samples, y.astype(np.float32))


@pytest.mark.parametrize("sr", [8000, 11025, 22050, 37800, 48000, 88200, 192000])
def test_every_sample_rate_is_kept(tmp_path, sr):
    n = sr // 4 + 7
    path, want = lossless_file(tmp_path, "wav-s16", sr, 1, n, seed=sr)
    b = decode(path)
    assert (b.sr, b.n_frames) == (sr, n)
    assert b.duration == pytest.approx(n / sr)
    np.testing.assert_array_equal(b.samples, want)


@pytest.mark.parametrize(
    "kind,channels", [("wav-s16", c) for c in range(1, 9)] + [("flac-24", c) for c in (1, 3, 6, 8)]
)
def test_one_to_eight_channels_keep_their_order(tmp_path, kind, channels):
    path, want = lossless_file(tmp_path, kind, 48000, channels, 4801, seed=channels)
    b = decode(path)
    assert (b.channels, b.n_frames) == (channels, 4801)
    np.testing.assert_array_equal(b.samples, want)  # no remixing, no reordering


def test_high_resolution_multichannel_flac(tmp_path):
    # a tone with a little noise, as music is: ffmpeg 5's FLAC demuxer loses frames of pure full-scale
    # noise at 192 kHz x 8 channels (they outgrow its frame size limit), which says nothing about our decoder
    n, sr = 96000, 192000
    t = np.arange(n) / sr
    rng = np.random.default_rng(8)
    v = np.stack(
        [np.round(0.5 * np.sin(2 * np.pi * (200 + 50 * c) * t) * 2**23) + rng.integers(-999, 999, n) for c in range(8)],
        axis=1,
    ).astype(np.int64)
    raw = (v << 8).astype("<i4")
    path = wrap(tmp_path / "hires.flac", raw, "s32le", sr, *LOSSLESS["flac-24"][4])
    b = decode(path)
    assert (b.sr, b.channels, b.n_frames) == (192000, 8, 96000)
    np.testing.assert_array_equal(b.samples, raw.astype(np.float32) * np.float32(2.0**-31))


# ---------------------------------------------------------------------------------- lossy: length, rate, sound
def pitch(channel: int, channels: int) -> float:
    """The tone of each channel; in 5.1 the fourth channel is the LFE, which encoders low-pass."""
    return 80.0 if channels == 6 and channel == 3 else 440.0 * (1 + 0.25 * channel)


def music_like(sr: int, channels: int, seconds: float = 2.0) -> np.ndarray:
    """Two tones per channel, silent for the first 0.3 s and then a sharp onset, so timing can be checked."""
    t = np.arange(int(round(seconds * sr))) / sr
    y = np.zeros((len(t), channels), dtype=np.float32)
    for c in range(channels):
        f = pitch(c, channels)
        y[:, c] = 0.3 * np.sin(2 * np.pi * f * t) + (0.1 * np.sin(2 * np.pi * 3 * f * t) if f > 100 else 0)
    y[t < 0.3] = 0.0
    return y


LOSSY = [
    # (file name, source rate, channels, codec args, expected decoded rate, frame length in decoded samples)
    ("a.mp3", 44100, 2, ("-c:a", "libmp3lame", "-b:a", "192k"), 44100, 1152),
    ("b.mp3", 22050, 1, ("-c:a", "libmp3lame", "-q:a", "4"), 22050, 576),
    ("c.mp3", 8000, 1, ("-c:a", "libmp3lame", "-b:a", "32k"), 8000, 576),
    ("d.ogg", 44100, 2, ("-c:a", "libvorbis", "-q:a", "4"), 44100, 2048),
    ("e.ogg", 48000, 6, ("-c:a", "libvorbis", "-q:a", "3"), 48000, 2048),
    ("f.opus", 48000, 2, ("-c:a", "libopus", "-b:a", "96k"), 48000, 960),
    ("g.opus", 44100, 1, ("-c:a", "libopus", "-b:a", "48k"), 48000, 960),
    ("h.m4a", 44100, 2, ("-c:a", "aac", "-b:a", "160k"), 44100, 1024),
    ("i.m4a", 48000, 6, ("-c:a", "aac", "-b:a", "384k"), 48000, 1024),
]


@pytest.mark.parametrize("name,sr,channels,args,out_sr,frame", LOSSY, ids=[x[0] for x in LOSSY])
def test_lossy_formats(tmp_path, name, sr, channels, args, out_sr, frame):
    y = music_like(sr, channels)
    path = wrap(tmp_path / name, y, "f32le", sr, *args)
    b = decode(path)
    assert (b.sr, b.channels) == (out_sr, channels)
    assert abs(b.duration - len(y) / sr) <= frame / out_sr, f"{b.duration} s for {len(y) / sr} s"
    for c in range(channels):
        got = b.samples[:, c].astype(np.float64)
        ref = y[:, c].astype(np.float64)
        # the same pitch
        spectrum = np.abs(np.fft.rfft(got * np.hanning(len(got))))
        f = pitch(c, channels)
        assert abs(np.argmax(spectrum) * out_sr / len(got) - f) < 2.0
        # the same level (within 1 dB; codecs are free with the LFE channel's level)
        if f > 100:
            assert 20 * np.log10(np.sqrt(np.mean(got**2)) / np.sqrt(np.mean(ref**2))) == pytest.approx(0, abs=1)
    # the onset at 0.3 s is where it was: no encoder delay left in, no samples lost at the start
    env = np.abs(b.mono())
    onset = np.argmax(env > 0.05) / out_sr
    assert onset == pytest.approx(0.3, abs=frame / out_sr / 2 + 0.002)


def test_mp3_without_gapless_header_is_still_within_a_frame(tmp_path):
    y = music_like(44100, 2, seconds=1.0)
    path = wrap(tmp_path / "plain.mp3", y, "f32le", 44100, "-c:a", "libmp3lame", "-write_xing", "0", "-b:a", "128k")
    b = decode(path)
    # with no LAME header the decoder cannot drop the encoder's padding: allow the padding and one frame
    assert 0 <= b.n_frames - len(y) <= 2 * 1152 + 529


def test_raw_aac_stream(tmp_path):
    # An ADTS .aac stream cannot say how many priming samples the encoder put in front (m4a can): ffmpeg's
    # encoder adds one frame of them, so the sound comes one frame late and the file is up to two frames longer.
    sr, frame = 32000, 1024
    y = music_like(sr, 2)
    b = decode(wrap(tmp_path / "j.aac", y, "f32le", sr, "-c:a", "aac", "-b:a", "96k"))
    assert (b.sr, b.channels) == (sr, 2)
    assert 0 <= b.n_frames - len(y) <= 2 * frame
    onset = np.argmax(np.abs(b.mono()) > 0.05) / sr
    assert onset == pytest.approx(0.3 + frame / sr, abs=frame / sr / 2)
