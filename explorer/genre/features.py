"""Inputs of the genre models: musicnn log-mel patches and the GTZAN table's hand-made features.

Two families of pure functions:

- :func:`song_patches` turns a mono signal into the [n_patches, 187, 96] log-mel patches the
  musicnn networks were trained on (16 kHz, 96 mel bands, ``n_fft`` 512, hop 256,
  ``log10(10000 · power + 1)`` in float32), grouped in windows spread evenly across the whole song;
- :func:`hand_features` reproduces the librosa columns of GTZAN's ``features_30_sec.csv`` (22,050 Hz,
  ``n_fft`` 2048, hop 512; mean and variance of chroma, RMS, spectral centroid, bandwidth, roll-off,
  zero-crossing rate, the harmonic and percussive parts of an HPSS split, tempo and 20 MFCCs).
  Only the benchmarks' hand-feature baseline uses it; it imports librosa when called, so describing a
  song never loads librosa (or numba, which librosa's feature code compiles with on first use).
"""

from __future__ import annotations

import functools

import numpy as np

from explorer.analysis import dsp

#: Sample rate the musicnn networks expect (Hz).
MUSICNN_SR = 16000
#: musicnn's STFT size and hop (samples at :data:`MUSICNN_SR`).
MUSICNN_N_FFT = 512
MUSICNN_HOP = 256
#: Mel bands and frames per patch (187 frames = 2.99 s).
MUSICNN_N_MELS = 96
PATCH_FRAMES = 187

#: Sample rate, FFT size and hop of the GTZAN feature table.
TABLE_SR = 22050
TABLE_N_FFT = 2048
TABLE_HOP = 512
#: Column names of the table after ``filename`` and ``length`` (and before ``label``), in order.
TABLE_COLUMNS = tuple(
    [
        f"{name}_{stat}"
        for name in (
            "chroma_stft",
            "rms",
            "spectral_centroid",
            "spectral_bandwidth",
            "rolloff",
            "zero_crossing_rate",
            "harmony",
            "perceptr",
        )
        for stat in ("mean", "var")
    ]
    + ["tempo"]
    + [f"mfcc{i}_{stat}" for i in range(1, 21) for stat in ("mean", "var")]
)


def to_rate(y: np.ndarray, *, sr: int, target_sr: int) -> np.ndarray:
    """Resample a mono signal to ``target_sr`` (float32, finite).

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
        Mono signal.
    sr : int
        Its sample rate (Hz).
    target_sr : int
        The wanted sample rate (Hz).

    Returns
    -------
    np.ndarray [shape=(round(n * target_sr / sr),), dtype=float32]
    """
    y = np.asarray(y, dtype=np.float32)
    if not np.isfinite(y).all():
        y = np.nan_to_num(y, nan=0.0, posinf=0.0, neginf=0.0)
    if sr != target_sr and y.size:
        y = dsp.resample(y, orig_sr=sr, target_sr=target_sr, quality="HQ")
    return np.ascontiguousarray(y, dtype=np.float32)


def musicnn_logmel(y: np.ndarray, *, sr: int) -> np.ndarray:
    """The musicnn input representation of a whole signal.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
        Mono signal at any rate.
    sr : int
        Its sample rate (Hz).

    Returns
    -------
    np.ndarray [shape=(n_frames, 96), dtype=float32]
        ``log10(10000 · mel_power + 1)``, frames first.  The logarithm is taken in float32: the original
        code went through float16, which overflows with numpy 2 and ruins every prediction.
    """
    y16 = _at_musicnn_rate(y, sr=sr)
    return logmel_frames(y16, start=0, stop=1 + y16.size // MUSICNN_HOP)


def _at_musicnn_rate(y: np.ndarray, *, sr: int) -> np.ndarray:
    """``y`` at :data:`MUSICNN_SR`, padded with zeros to at least one FFT."""
    y16 = to_rate(y, sr=sr, target_sr=MUSICNN_SR)
    if y16.size < MUSICNN_N_FFT:
        y16 = np.pad(y16, (0, MUSICNN_N_FFT - y16.size))
    return y16


def logmel_frames(y16: np.ndarray, *, start: int, stop: int) -> np.ndarray:
    """Frames ``start … stop - 1`` of musicnn's log-mel spectrogram of a signal at :data:`MUSICNN_SR`.

    Each frame depends only on the samples under its window, so computing just the frames the
    patches use gives the same values as computing them all (librosa's ``melspectrogram``: centred
    frames padded with zeros, periodic Hann window, power, Slaney mel filters from 0 to 8 kHz).

    Parameters
    ----------
    y16 : np.ndarray [shape=(n,)]
        Mono signal at :data:`MUSICNN_SR`.
    start, stop : int
        Frame range, ``0 <= start <= stop <= 1 + n // MUSICNN_HOP``.

    Returns
    -------
    np.ndarray [shape=(stop - start, 96), dtype=float32]
    """
    window = dsp.hann(MUSICNN_N_FFT)
    mel_fb = _musicnn_mel_filterbank()
    frames = dsp.centered_frames(y16, frame_length=MUSICNN_N_FFT, hop_length=MUSICNN_HOP, start=start, stop=stop)
    # windowed in float64 and stored as complex64, as librosa's stft does with float32 input
    spectrum = np.fft.rfft(window[:, None] * frames, axis=0).astype(np.complex64)
    power = np.abs(spectrum) ** 2
    mel = (mel_fb @ power).astype(np.float32)
    return np.log10(np.float32(10000) * mel.T + np.float32(1)).astype(np.float32)


@functools.lru_cache(maxsize=1)
def _musicnn_mel_filterbank() -> np.ndarray:
    return dsp.mel_filterbank(sr=MUSICNN_SR, n_fft=MUSICNN_N_FFT, n_mels=MUSICNN_N_MELS)


def _mean_var(x: np.ndarray) -> list[float]:
    return [float(np.mean(x)), float(np.var(x))]


def hand_features(y: np.ndarray, *, sr: int) -> np.ndarray:
    """The 57 librosa columns of GTZAN's feature table (all but ``length``), in :data:`TABLE_COLUMNS` order.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
        Mono signal at any rate (resampled to 22,050 Hz).
    sr : int
        Its sample rate (Hz).

    Returns
    -------
    np.ndarray [shape=(57,), dtype=float64]
        Means and variances over frames (``n_fft`` 2048, hop 512) and the tempo (BPM).  On the 50 clips the
        table shares with the corpus every column but ``tempo`` matches the table's at r ≥ .90 (median
        .97; benchmarks/eval_genre.py); ``tempo`` (librosa's current estimator) does not (r ≈ .25).
    """
    import librosa  # noqa: PLC0415 - only the benchmarks' baseline uses these features, never the product

    y = to_rate(y, sr=sr, target_sr=TABLE_SR)
    if y.size < TABLE_N_FFT:
        y = np.pad(y, (0, TABLE_N_FFT - y.size))
    kw: dict = dict(n_fft=TABLE_N_FFT, hop_length=TABLE_HOP)
    S = np.abs(librosa.stft(y, **kw))
    power = S**2
    harmonic, percussive = librosa.effects.hpss(y)
    tempo = librosa.feature.tempo(y=y, sr=TABLE_SR, hop_length=TABLE_HOP)
    mfcc = librosa.feature.mfcc(S=librosa.power_to_db(librosa.feature.melspectrogram(S=power, sr=TABLE_SR)), n_mfcc=20)
    values = (
        _mean_var(librosa.feature.chroma_stft(S=power, sr=TABLE_SR))
        + _mean_var(librosa.feature.rms(y=y, frame_length=TABLE_N_FFT, hop_length=TABLE_HOP))
        + _mean_var(librosa.feature.spectral_centroid(S=S, sr=TABLE_SR))
        + _mean_var(librosa.feature.spectral_bandwidth(S=S, sr=TABLE_SR))
        + _mean_var(librosa.feature.spectral_rolloff(S=S, sr=TABLE_SR))
        + _mean_var(librosa.feature.zero_crossing_rate(y, frame_length=TABLE_N_FFT, hop_length=TABLE_HOP))
        + _mean_var(harmonic)
        + _mean_var(percussive)
        + [float(tempo[0]) if np.size(tempo) else 0.0]
    )
    for row in mfcc:
        values += _mean_var(row)
    return np.nan_to_num(np.asarray(values, dtype=np.float64))


def window_patch_starts(
    n_frames: int,
    *,
    patches_per_window: int = 6,
    max_windows: int = 3,
    patch_frames: int = PATCH_FRAMES,
    overlap: float = 0.5,
) -> list[np.ndarray]:
    """Patch start frames grouped into windows spread evenly over a song.

    A song is judged on up to ``max_windows`` windows of ``patches_per_window`` half-overlapping patches
    (6 patches ≈ 10.4 s), centred at ``(i + ½) / n_windows`` of the song (so a long song's intro and
    fade-out are not what decides); each window is classified on its own and the answers are averaged.
    This bounds the work for long songs (at most ``max_windows · patches_per_window`` patches) and keeps
    the statistics of each window comparable to those of the 15–19 s clips the classifier was trained on
    (which get two windows that cover them).

    Parameters
    ----------
    n_frames : int
        Length of the log-mel spectrogram (frames, at least ``patch_frames``).
    patches_per_window : int > 0
        Patches in each window.
    max_windows : int > 0
        Upper bound on the number of windows.
    patch_frames : int
        Frames per patch.
    overlap : float in [0, 1)
        Overlap of neighbouring patches inside a window.

    Returns
    -------
    list of np.ndarray [shape=(patches_per_window,), dtype=int]
        One array of patch start frames per window, each start in ``[0, n_frames - patch_frames]``.
    """
    hop = int(round(patch_frames * (1.0 - overlap)))
    window = (patches_per_window - 1) * hop + patch_frames
    span = max(n_frames - window, 0)
    n_windows = int(min(max_windows, max(1, np.ceil(n_frames / window))))
    centres = (np.arange(n_windows) + 0.5) / n_windows * n_frames
    starts = []
    for w0 in np.clip(np.round(centres - window / 2), 0, span).astype(int):
        inner = w0 + hop * np.arange(patches_per_window)
        starts.append(np.minimum(inner, max(n_frames - patch_frames, 0)))
    return starts


def song_patches(
    y: np.ndarray, *, sr: int, patches_per_window: int = 6, max_windows: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    """All musicnn patches of a song, grouped in windows (see :func:`window_patch_starts`).

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
        Mono signal at any rate.
    sr : int
        Its sample rate (Hz).
    patches_per_window, max_windows : int > 0
        As in :func:`window_patch_starts`.

    Returns
    -------
    patches : np.ndarray [shape=(n_windows * patches_per_window, 187, 96), dtype=float32]
        Log-mel patches; audio shorter than one patch is repeated until it fills one.
    window : np.ndarray [shape=(n_windows * patches_per_window,), dtype=int]
        The window each patch belongs to.
    """
    y16 = _at_musicnn_rate(y, sr=sr)
    n_frames = 1 + y16.size // MUSICNN_HOP
    if n_frames < PATCH_FRAMES:
        logmel = logmel_frames(y16, start=0, stop=n_frames)
        reps = int(np.ceil(PATCH_FRAMES / max(n_frames, 1)))
        logmel = np.tile(logmel, (reps, 1))[:PATCH_FRAMES]
        groups = window_patch_starts(PATCH_FRAMES, patches_per_window=patches_per_window, max_windows=max_windows)
        patches = np.stack([logmel[s : s + PATCH_FRAMES] for s in np.concatenate(groups)])
    else:
        groups = window_patch_starts(n_frames, patches_per_window=patches_per_window, max_windows=max_windows)
        parts: list[np.ndarray] = []
        for starts in groups:  # one window's patches overlap: compute its frames once
            lo, hi = int(starts.min()), int(starts.max()) + PATCH_FRAMES
            logmel = logmel_frames(y16, start=lo, stop=hi)
            parts.extend(logmel[s - lo : s - lo + PATCH_FRAMES] for s in starts)
        patches = np.stack(parts)
    window = np.repeat(np.arange(len(groups)), [len(g) for g in groups])
    return np.ascontiguousarray(patches, dtype=np.float32), window
