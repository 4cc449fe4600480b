"""explorer.analysis.dsp equals the librosa functions it replaces (tests may import librosa; the product may not)."""

from __future__ import annotations

import numpy as np
import pytest

librosa = pytest.importorskip("librosa")

from explorer.analysis import dsp, filters  # noqa: E402


def _close(a, b, *, rtol=1e-6, atol=0.0):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.mark.parametrize(
    "sr, n_fft, n_mels, fmin, fmax",
    [
        (22050, 2048, 96, 30.0, 8000.0),
        (16000, 512, 96, 0.0, None),
        (22050, 2048, 128, 0.0, None),
        (44100, 1024, 40, 100.0, 12000.0),
    ],
)
def test_mel_filterbank_equals_librosa(sr, n_fft, n_mels, fmin, fmax):
    ours = dsp.mel_filterbank(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    theirs = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    assert ours.dtype == theirs.dtype == np.float32
    _close(ours, theirs, rtol=1e-6, atol=1e-9)
    _close(
        dsp.mel_frequencies(n_mels, fmin=fmin, fmax=fmax or sr / 2),
        librosa.mel_frequencies(n_mels, fmin=fmin, fmax=fmax or sr / 2),
        rtol=1e-12,
    )


@pytest.mark.parametrize(
    "sr, n_fft, tuning, octwidth", [(22050, 2048, 0.0, 2.0), (16000, 512, 0.3, None), (44100, 4096, -0.2, 1.0)]
)
def test_chroma_filterbank_equals_librosa(sr, n_fft, tuning, octwidth):
    ours = dsp.chroma_filterbank(sr=sr, n_fft=n_fft, tuning=tuning, ctroct=5.0, octwidth=octwidth)
    theirs = librosa.filters.chroma(sr=sr, n_fft=n_fft, tuning=tuning, ctroct=5.0, octwidth=octwidth)
    assert ours.dtype == theirs.dtype and ours.shape == (12, 1 + n_fft // 2)
    _close(ours, theirs, rtol=1e-6, atol=1e-12)


def test_window_and_frequencies_equal_librosa():
    for n in (1, 2, 511, 512, 2048):
        _close(dsp.hann(n), librosa.filters.get_window("hann", n, fftbins=True), rtol=0, atol=1e-15)
    _close(dsp.fft_frequencies(sr=22050, n_fft=2048), librosa.fft_frequencies(sr=22050, n_fft=2048), rtol=1e-15)


def test_frame_equals_librosa(rng):
    x = rng.standard_normal(10_000).astype(np.float32)
    for length, hop in ((2048, 512), (512, 256), (7, 3), (10_000, 1)):
        ours = dsp.frame(x, frame_length=length, hop_length=hop)
        np.testing.assert_array_equal(ours, librosa.util.frame(x, frame_length=length, hop_length=hop))
        assert not ours.flags.writeable  # a view: nothing copied
    with pytest.raises(ValueError):
        dsp.frame(x[:5], frame_length=6, hop_length=1)


# librosa warns that a 100-sample signal is shorter than its window: that short case is the point
@pytest.mark.filterwarnings("ignore:n_fft=512 is too large for input signal:UserWarning")
@pytest.mark.parametrize("n", [100, 512, 513, 22050, 100_003])
def test_centered_frames_are_librosa_stft_frames(rng, n):
    """Block by block, windowed and transformed, they give librosa.stft (center=True, zero padding)."""
    y = rng.standard_normal(n).astype(np.float32)
    n_fft, hop = 512, 256
    theirs = librosa.stft(y, n_fft=n_fft, hop_length=hop, pad_mode="constant")
    n_frames = 1 + n // hop
    assert theirs.shape[1] == n_frames
    window = dsp.hann(n_fft)
    cols = []
    for f0 in range(0, n_frames, 37):
        fr = dsp.centered_frames(y, frame_length=n_fft, hop_length=hop, start=f0, stop=min(n_frames, f0 + 37))
        cols.append(np.fft.rfft(window[:, None] * fr, axis=0))
    ours = np.concatenate(cols, axis=1)
    _close(np.abs(ours), np.abs(theirs), rtol=1e-5, atol=1e-5)
    assert dsp.centered_frames(y, frame_length=n_fft, hop_length=hop, start=3, stop=3).shape == (n_fft, 0)


def test_power_to_db_equals_librosa(rng):
    S = (rng.random((96, 300)) ** 6).astype(np.float32)
    S[0, :10] = 0.0
    for ref, top_db in ((1.0, 80.0), (float(S.max()), 80.0), (0.5, None), (float(S.max()), 20.0)):
        ours = dsp.power_to_db(S, ref=ref, top_db=top_db)
        theirs = librosa.power_to_db(S, ref=ref, top_db=top_db)
        assert ours.dtype == theirs.dtype == np.float32
        _close(ours, theirs, rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("lag, max_size", [(1, 3), (1, 1), (2, 5)])
def test_onset_strength_equals_librosa(rng, lag, max_size):
    S_db = (80 * rng.random((96, 500)) - 80).astype(np.float32)
    ours = dsp.onset_strength(S_db, lag=lag, max_size=max_size, n_fft=2048, hop_length=512)
    theirs = librosa.onset.onset_strength(S=S_db, sr=22050, hop_length=512, lag=lag, max_size=max_size)
    assert ours.dtype == theirs.dtype and ours.shape == (500,)
    _close(ours, theirs, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("n_bands", [1, 2, 3, 96])
@pytest.mark.parametrize("size", [1, 2, 3, 4, 7])
def test_maximum_filter_bands_equals_scipy(rng, n_bands, size):
    import scipy.ndimage

    S = rng.standard_normal((n_bands, 40)).astype(np.float32)
    ours = filters.maximum_filter_bands(S, size=size)
    assert ours.dtype == S.dtype
    np.testing.assert_array_equal(ours, scipy.ndimage.maximum_filter1d(S, size, axis=-2))


@pytest.mark.parametrize("shape", [(1, 1), (3, 7), (40, 40)])
@pytest.mark.parametrize("length", [1, 2, 3, 8, 9])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_diagonal_mean_equals_scipy_convolve(rng, shape, length, dtype):
    import scipy.ndimage

    R = rng.random(shape).astype(dtype)
    ours = filters.diagonal_mean(R, length=length)
    assert ours.dtype == R.dtype
    np.testing.assert_array_equal(
        ours, scipy.ndimage.convolve(R, np.eye(length, dtype=dtype) / length, mode="constant")
    )


@pytest.mark.parametrize("sigma", [0.5, 2.0, 3.3])
@pytest.mark.parametrize("axis", [0, 1])
def test_gaussian_smooth_equals_scipy(rng, sigma, axis):
    import scipy.ndimage

    x = rng.random((6, 30)).astype(np.float32)
    ours = filters.gaussian_smooth(x, sigma=sigma, axis=axis)
    assert ours.dtype == x.dtype
    np.testing.assert_array_equal(ours, scipy.ndimage.gaussian_filter1d(x, sigma, axis=axis, mode="nearest"))
    fast = filters.gaussian_smooth(x, sigma=sigma, axis=axis, precision=np.float32)
    assert fast.dtype == x.dtype
    np.testing.assert_allclose(fast, ours, rtol=0, atol=1e-6)


@pytest.mark.parametrize("n", [1, 4, 40])
@pytest.mark.parametrize("size", [1, 2, 3, 9])
def test_median_smooth_equals_scipy(rng, n, size):
    import scipy.ndimage

    x = rng.standard_normal((n, 8))
    ours = filters.median_smooth(x, size=size, axis=0)
    np.testing.assert_array_equal(ours, scipy.ndimage.median_filter(x, size=(size, 1), mode="nearest"))
    np.testing.assert_array_equal(filters.median_smooth(x.T, size=size, axis=1), ours.T)


@pytest.mark.parametrize("n", [5, 40, filters.EIGH_SUBSET_FROM])
def test_smallest_eigenvectors_equal_scipy_up_to_sign(rng, n):
    import scipy.linalg

    A = rng.random((n, n))
    A = A + A.T
    ours = filters.smallest_eigenvectors(A, k=3)
    theirs = scipy.linalg.eigh(A, subset_by_index=[0, 2])[1]
    assert ours.shape == (n, 3)
    _close(np.abs(np.sum(ours * theirs, axis=0)), np.ones(3), rtol=1e-8)


def test_dct_matrix_equals_scipy(rng):
    import scipy.fft

    x = rng.standard_normal((96, 50))
    for n_out in (None, 20):
        D = dsp.dct_matrix(96, n_out=n_out)
        _close(D @ x, scipy.fft.dct(x, type=2, norm="ortho", axis=0)[:n_out], rtol=1e-9, atol=1e-12)


def test_mfcc_equals_librosa(rng):
    S_db = (80 * rng.random((96, 400)) - 80).astype(np.float32)
    for n in (13, 20):
        ours = dsp.mfcc(S_db, n_mfcc=n)
        theirs = librosa.feature.mfcc(S=S_db, n_mfcc=n)
        assert ours.dtype == theirs.dtype
        _close(ours, theirs, rtol=1e-6, atol=1e-4)


@pytest.mark.parametrize("pad", [False, True])
def test_sync_equals_librosa(rng, pad):
    data = rng.random((12, 1000)).astype(np.float32)
    # unsorted, repeated, beyond the end: all as librosa treats them
    idx = np.array([0, 10, 10, 55, 30, 300, 999, 1000, 1200])
    for aggregate in (np.mean, np.median, np.max):
        ours = dsp.sync(data, idx, aggregate=aggregate, pad=pad)
        theirs = librosa.util.sync(data, idx, aggregate=aggregate, pad=pad)
        assert ours.dtype == theirs.dtype
        np.testing.assert_array_equal(ours, theirs)
    row = data[0][None, :]
    np.testing.assert_array_equal(
        dsp.sync(row, [5, 50, 500], pad=False), librosa.util.sync(row, [5, 50, 500], pad=False)
    )
    np.testing.assert_array_equal(
        dsp.sync(data, [7, 70], axis=0, pad=pad), librosa.util.sync(data, [7, 70], axis=0, pad=pad)
    )


@pytest.mark.parametrize(
    "orig_sr, target_sr, n",
    [(22050, 16000, 22050 * 3 + 7), (44100, 16000, 1000), (16000, 22050, 12345), (22050, 22050, 100)],
)
def test_resample_equals_librosa(rng, orig_sr, target_sr, n):
    y = rng.standard_normal(n).astype(np.float32)
    ours = dsp.resample(y, orig_sr=orig_sr, target_sr=target_sr, quality="HQ")
    theirs = librosa.resample(y, orig_sr=orig_sr, target_sr=target_sr, res_type="soxr_hq")
    assert ours.dtype == theirs.dtype == np.float32
    _close(ours, theirs, rtol=0, atol=1e-6)


def _song(rng, seconds=20.0, sr=22050):
    t = np.arange(int(seconds * sr)) / sr
    y = sum(
        np.sin(2 * np.pi * f * t) * (1 + np.sin(2 * np.pi * 0.5 * k * t))
        for k, f in enumerate((110.0, 220.0, 330.0, 523.25, 880.0))
    )
    y += 0.05 * rng.standard_normal(t.size)
    y[(t % 0.5) < 0.02] += 0.8  # clicks: onsets
    return (0.1 * y).astype(np.float32)


def test_features_equal_the_librosa_recipe(rng):
    """explorer.analysis.features.compute gives what the same recipe written with librosa gives."""
    from explorer.analysis import features

    y = _song(rng)
    sr, hop, n_fft = 22050, 512, 2048
    f = features.compute(y, sr, hop_length=hop, n_fft=n_fft, block_frames=300)
    S = np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop, pad_mode="constant"))
    mel = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=96, fmin=30.0, fmax=8000.0) @ S**2
    mel_db = librosa.power_to_db(mel, ref=float(mel.max()), top_db=80.0)
    _close(f.mel_db, mel_db, rtol=0, atol=2e-3)
    fb = librosa.filters.chroma(sr=sr, n_fft=n_fft, tuning=0.0, ctroct=5.0, octwidth=2.0)
    freqs = librosa.fft_frequencies(sr=sr, n_fft=n_fft)
    fb[:, (freqs < 55.0) | (freqs > 4200.0)] = 0.0
    _close(f.chroma, fb @ S, rtol=1e-4, atol=1e-4)
    onset = librosa.onset.onset_strength(S=f.mel_db, sr=sr, hop_length=hop, lag=1, max_size=3)
    _close(f.onset_env, onset, rtol=1e-6, atol=1e-6)
    _close(f.mfcc, librosa.feature.mfcc(S=f.mel_db, n_mfcc=20), rtol=1e-5, atol=1e-4)
    _close(
        f.rms,
        librosa.feature.rms(y=y, frame_length=n_fft, hop_length=hop, pad_mode="constant")[0],
        rtol=1e-5,
        atol=1e-7,
    )


@pytest.mark.parametrize("seconds, sr", [(40.0, 22050), (1.5, 44100), (0.01, 22050), (400.0, 22050)])
def test_musicnn_patches_equal_the_librosa_recipe(rng, seconds, sr):
    """The genre model's patches, computed only where they are used, equal slices of librosa's spectrogram."""
    from explorer.genre import features

    y = _song(rng, seconds, sr)
    y16 = librosa.resample(y, orig_sr=sr, target_sr=16000, res_type="soxr_hq")
    if y16.size < 512:
        y16 = np.pad(y16, (0, 512 - y16.size))
    mel = librosa.feature.melspectrogram(y=y16, sr=16000, n_fft=512, hop_length=256, n_mels=96).astype(np.float32)
    logmel = np.log10(np.float32(10000) * mel.T + np.float32(1)).astype(np.float32)
    _close(features.musicnn_logmel(y, sr=sr), logmel, rtol=1e-5, atol=1e-5)
    if logmel.shape[0] < features.PATCH_FRAMES:
        logmel = np.tile(logmel, (int(np.ceil(features.PATCH_FRAMES / logmel.shape[0])), 1))[: features.PATCH_FRAMES]
    groups = features.window_patch_starts(logmel.shape[0])
    expected = np.stack([logmel[s : s + features.PATCH_FRAMES] for s in np.concatenate(groups)])
    patches, window = features.song_patches(y, sr=sr)
    assert patches.dtype == np.float32
    _close(patches, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(window, np.repeat(np.arange(len(groups)), [len(g) for g in groups]))


def test_to_mono_keeps_decoded_analysis_audio_without_a_copy(rng):
    """analyze decodes straight to mono float32 at the analysis rate: that is used as it is (memory)."""
    from explorer.analysis import features

    x = rng.standard_normal((5000, 1)).astype(np.float32)
    y = features.to_mono(x, features.SR)
    assert y.shape == (5000,) and np.shares_memory(y, x)
    x[7, 0] = np.nan  # not finite: cleaned in a copy, the caller's samples untouched
    y = features.to_mono(x, features.SR)
    assert y[7] == 0.0 and np.isnan(x[7, 0]) and not np.shares_memory(y, x)
    stereo = np.concatenate([x, x], axis=1)
    assert not np.shares_memory(features.to_mono(stereo, features.SR), stereo)
