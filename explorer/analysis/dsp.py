"""Signal-processing building blocks: filterbanks, framing, decibels, onsets, MFCCs, resampling.

Numpy/scipy versions of the few librosa functions the product uses, with librosa's conventions
(Slaney mel scale and norm, centred frames padded with zeros, ``(features, frames)`` arrays), so
their values equal librosa's to float32 precision (``tests/unit/test_dsp.py`` compares them).
librosa itself is not imported: its ``filters``, ``util``, ``onset`` and ``feature`` modules load
numba, which compiles on first use (tens of seconds) and needs a writable package folder for its
cache.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from explorer.analysis.filters import maximum_filter_bands

#: Smallest power kept by :func:`power_to_db` (-100 dB).
AMIN = 1e-10


def fft_frequencies(*, sr: float, n_fft: int) -> np.ndarray:
    """Centre frequency of each rfft bin.

    Parameters
    ----------
    sr : float > 0
        Sample rate (Hz).
    n_fft : int > 0
        FFT size (samples).

    Returns
    -------
    np.ndarray [shape=(1 + n_fft // 2,), dtype=float64]
        Frequencies (Hz), ``0 … sr / 2``.
    """
    return np.fft.rfftfreq(n=n_fft, d=1.0 / sr)


def hz_to_mel(frequencies) -> np.ndarray:
    """Hz → mels on the Slaney (Auditory Toolbox) scale: linear below 1 kHz, logarithmic above.

    Parameters
    ----------
    frequencies : float or np.ndarray [shape=(n,)]
        Frequencies (Hz).

    Returns
    -------
    np.ndarray [shape=(n,)]
        Mels.
    """
    f = np.asanyarray(frequencies, dtype=float)
    f_sp = 200.0 / 3
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    mels = f / f_sp
    log_t = f >= min_log_hz
    return np.where(log_t, min_log_mel + np.log(np.where(log_t, f, min_log_hz) / min_log_hz) / logstep, mels)


def mel_to_hz(mels) -> np.ndarray:
    """Mels (Slaney scale) → Hz; the inverse of :func:`hz_to_mel`.

    Parameters
    ----------
    mels : float or np.ndarray [shape=(n,)]

    Returns
    -------
    np.ndarray [shape=(n,)]
        Frequencies (Hz).
    """
    m = np.asanyarray(mels, dtype=float)
    f_sp = 200.0 / 3
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m)


def mel_frequencies(n_mels: int, *, fmin: float = 0.0, fmax: float = 11025.0) -> np.ndarray:
    """``n_mels`` frequencies evenly spaced on the Slaney mel scale from ``fmin`` to ``fmax``.

    Returns
    -------
    np.ndarray [shape=(n_mels,), dtype=float64]
        Frequencies (Hz).
    """
    return mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels))


def mel_filterbank(
    *, sr: float, n_fft: int, n_mels: int = 128, fmin: float = 0.0, fmax: float | None = None, dtype=np.float32
) -> np.ndarray:
    """Triangular mel filters with Slaney's area normalisation (as ``librosa.filters.mel``).

    Parameters
    ----------
    sr : float > 0
        Sample rate (Hz).
    n_fft : int > 0
        FFT size (samples).
    n_mels : int > 0
        Number of bands.
    fmin, fmax : float
        Lowest and highest frequency (Hz); ``fmax`` defaults to ``sr / 2``.
    dtype : np.dtype

    Returns
    -------
    np.ndarray [shape=(n_mels, 1 + n_fft // 2)]
        ``mel = weights @ power_spectrum``.
    """
    fmax = float(sr) / 2 if fmax is None else fmax
    fftfreqs = fft_frequencies(sr=sr, n_fft=n_fft)
    mel_f = mel_frequencies(n_mels + 2, fmin=fmin, fmax=fmax)
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fftfreqs)
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper)).astype(dtype)
    weights *= (2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels]))[:, None]
    return weights


def chroma_filterbank(
    *,
    sr: float,
    n_fft: int,
    n_chroma: int = 12,
    tuning: float = 0.0,
    ctroct: float = 5.0,
    octwidth: float | None = 2.0,
    dtype=np.float32,
) -> np.ndarray:
    """Gaussian pitch-class filters over rfft bins, starting at C (as ``librosa.filters.chroma``).

    Each column is L2-normalised, then weighted by a Gaussian over octaves centred on ``ctroct``.

    Parameters
    ----------
    sr : float > 0
        Sample rate (Hz).
    n_fft : int > 0
        FFT size (samples).
    n_chroma : int > 0
        Bins per octave.
    tuning : float
        Tuning deviation from A440, in fractions of a bin.
    ctroct, octwidth : float
        Centre (octaves above A0 = 27.5 Hz) and half-width (octaves) of the octave weighting;
        ``octwidth=None`` weights all octaves equally.
    dtype : np.dtype

    Returns
    -------
    np.ndarray [shape=(n_chroma, 1 + n_fft // 2)]
        ``chroma = weights @ magnitude_spectrum``.
    """
    frequencies = np.linspace(0, sr, n_fft, endpoint=False)[1:]
    a440 = 440.0 * 2.0 ** (tuning / n_chroma)
    frqbins = n_chroma * np.log2(frequencies / (a440 / 16))
    # the 0 Hz bin: 1.5 octaves below bin 1, so its chroma is spread widely
    frqbins = np.concatenate(([frqbins[0] - 1.5 * n_chroma], frqbins))
    binwidthbins = np.concatenate((np.maximum(frqbins[1:] - frqbins[:-1], 1.0), [1]))
    D = np.subtract.outer(frqbins, np.arange(0, n_chroma, dtype="d")).T
    half = np.round(float(n_chroma) / 2)
    # distance to each pitch class in -n_chroma/2 … n_chroma/2 (offset keeps the remainder's input positive)
    D = np.remainder(D + half + 10 * n_chroma, n_chroma) - half
    wts = np.exp(-0.5 * (2 * D / np.tile(binwidthbins, (n_chroma, 1))) ** 2)
    length = np.sum(wts**2, axis=0, keepdims=True) ** 0.5
    length[length < np.finfo(wts.dtype).tiny] = 1.0
    wts = wts / length
    if octwidth is not None:
        wts *= np.tile(np.exp(-0.5 * (((frqbins / n_chroma - ctroct) / octwidth) ** 2)), (n_chroma, 1))
    wts = np.roll(wts, -3 * (n_chroma // 12), axis=0)
    return np.ascontiguousarray(wts[:, : int(1 + n_fft / 2)], dtype=dtype)


def hann(n: int) -> np.ndarray:
    """Periodic Hann window (for spectral analysis; as ``scipy.signal.get_window("hann", n)``).

    Returns
    -------
    np.ndarray [shape=(n,), dtype=float64]
    """
    if n == 1:
        return np.ones(1)
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)


def frame(x: np.ndarray, *, frame_length: int, hop_length: int) -> np.ndarray:
    """Overlapping frames of a 1-d signal, as a read-only view (no copy).

    Parameters
    ----------
    x : np.ndarray [shape=(n,)], n >= frame_length
    frame_length, hop_length : int > 0
        Samples per frame and between frame starts.

    Returns
    -------
    np.ndarray [shape=(frame_length, 1 + (n - frame_length) // hop_length)]
        Column ``t`` is ``x[t * hop_length : t * hop_length + frame_length]``.
    """
    x = np.asarray(x)
    if x.ndim != 1 or x.size < frame_length:
        raise ValueError(f"need a 1-d signal of at least {frame_length} samples, got shape {x.shape}")
    return np.lib.stride_tricks.sliding_window_view(x, frame_length)[::hop_length].T


def centered_frames(
    y: np.ndarray, *, frame_length: int, hop_length: int, start: int = 0, stop: int | None = None
) -> np.ndarray:
    """Frames ``start … stop - 1`` of ``y`` padded with ``frame_length // 2`` zeros at both ends.

    Frame ``t`` is centred on sample ``t * hop_length`` (librosa's ``center=True``,
    ``pad_mode="constant"``); a signal of ``n`` samples has ``1 + n // hop_length`` frames.  Only
    the samples the requested frames cover are copied, so a long signal can be framed block by block.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
    frame_length, hop_length : int > 0
    start, stop : int
        Frame range (``stop`` defaults to the last frame + 1).

    Returns
    -------
    np.ndarray [shape=(frame_length, stop - start)]
    """
    y = np.asarray(y)
    stop = 1 + y.size // hop_length if stop is None else stop
    if stop <= start:
        return np.zeros((frame_length, 0), dtype=y.dtype)
    pad = frame_length // 2
    lo = start * hop_length - pad
    hi = (stop - 1) * hop_length + frame_length - pad
    if lo >= 0 and hi <= y.size:
        seg = y[lo:hi]
    else:
        seg = np.zeros(hi - lo, dtype=y.dtype)
        a, b = max(lo, 0), min(hi, y.size)
        if b > a:
            seg[a - lo : b - lo] = y[a:b]
    return frame(seg, frame_length=frame_length, hop_length=hop_length)


def power_to_db(S: np.ndarray, *, ref: float = 1.0, amin: float = AMIN, top_db: float | None = 80.0) -> np.ndarray:
    """Power → decibels relative to ``ref``, the range limited to ``top_db`` below the peak.

    Parameters
    ----------
    S : np.ndarray
        Non-negative power.
    ref : float > 0
        The power that maps to 0 dB.
    amin : float > 0
        Powers below it count as ``amin``.
    top_db : float >= 0 or None
        Values more than ``top_db`` below the maximum are raised to it.

    Returns
    -------
    np.ndarray [shape=S.shape]
        ``10 · log10(max(amin, S) / max(amin, ref))`` (dB), the same float type as ``S``.
    """
    S = np.asarray(S)
    log_spec = 10.0 * np.log10(np.maximum(amin, S))
    log_spec -= 10.0 * np.log10(np.maximum(amin, abs(ref)))
    if top_db is not None:
        log_spec = np.maximum(log_spec, log_spec.max() - top_db)
    return log_spec


def onset_strength(
    S_db: np.ndarray, *, lag: int = 1, max_size: int = 1, n_fft: int = 2048, hop_length: int = 512
) -> np.ndarray:
    """Spectral-flux onset strength of a log spectrogram (SuperFlux when ``max_size > 1``).

    The mean over bands of ``max(0, S[f, t] - max(S[f - w … f + w, t - lag]))`` with a maximum
    filter of ``max_size`` bands, shifted so that frame ``t`` of the result lines up with frame
    ``t`` of the (centred) spectrogram.

    Parameters
    ----------
    S_db : np.ndarray [shape=(n_bands, n_frames)]
        Log-power spectrogram (dB), e.g. mel bands.
    lag : int > 0
        Frames between the compared spectra.
    max_size : int > 0
        Width of the maximum filter across bands.
    n_fft, hop_length : int > 0
        The spectrogram's FFT size and hop (samples): the result is delayed by
        ``lag + n_fft // (2 * hop_length)`` frames, as librosa's ``center=True``.

    Returns
    -------
    np.ndarray [shape=(n_frames,)]
        Onset strength, first frames zero.
    """
    S = np.atleast_2d(np.asarray(S_db))
    if max_size == 1:
        ref = S
    else:
        ref = maximum_filter_bands(S, size=max_size)
    flux = np.maximum(0.0, S[..., lag:] - ref[..., :-lag])
    env = np.mean(flux, axis=-2)
    env = np.pad(env, (int(lag + n_fft // (2 * hop_length)), 0), mode="constant")
    return env[: S.shape[-1]]


def dct_matrix(n: int, *, n_out: int | None = None) -> np.ndarray:
    """The orthonormal DCT-II as a matrix (as ``scipy.fft.dct(x, type=2, norm="ortho", axis=0)``).

    Parameters
    ----------
    n : int > 0
        Length of the transformed axis.
    n_out : int or None
        Coefficients kept (default ``n``).

    Returns
    -------
    np.ndarray [shape=(n_out, n), dtype=float64]
        ``coefficients = D @ x``.
    """
    n_out = n if n_out is None else int(n_out)
    k = np.arange(n_out)[:, None]
    D = np.cos(np.pi * k * (2 * np.arange(n)[None, :] + 1) / (2 * n)) * np.sqrt(2.0 / n)
    D[0] *= np.sqrt(0.5)
    return D


def mfcc(S_db: np.ndarray, *, n_mfcc: int = 20) -> np.ndarray:
    """Mel-frequency cepstral coefficients of a log-mel spectrogram (orthonormal DCT-II, no lifter).

    Parameters
    ----------
    S_db : np.ndarray [shape=(n_mels, n_frames)]
        Log-power mel spectrogram (dB).
    n_mfcc : int > 0
        Coefficients kept.

    Returns
    -------
    np.ndarray [shape=(n_mfcc, n_frames)]
    """
    S_db = np.asarray(S_db)
    D = dct_matrix(S_db.shape[-2], n_out=min(n_mfcc, S_db.shape[-2]))
    return np.matmul(D, S_db).astype(np.result_type(S_db.dtype, np.float32), copy=False)


def sync(
    data: np.ndarray,
    idx: Sequence[int] | np.ndarray,
    *,
    aggregate: Callable | None = None,
    pad: bool = True,
    axis: int = -1,
) -> np.ndarray:
    """Aggregate ``data`` between consecutive frame indices (as ``librosa.util.sync`` with integer indices).

    Parameters
    ----------
    data : np.ndarray [shape=(..., n, ...)]
    idx : sequence of int >= 0
        Boundaries (frames along ``axis``); sorted and made unique, those beyond ``n`` dropped.
    aggregate : callable(array, axis=…) or None
        Summary of each segment (default ``np.mean``).
    pad : bool
        Add ``0`` and ``n`` to the boundaries (clipping the others to ``0 … n``).
    axis : int
        The frame axis.

    Returns
    -------
    np.ndarray [shape=(..., n_segments, ...), dtype=data.dtype]
        One value per segment between consecutive boundaries.
    """
    aggregate = np.mean if aggregate is None else aggregate
    data = np.asarray(data)
    n = data.shape[axis]
    frames = np.asarray(idx)
    if frames.size and np.any(frames < 0):
        raise ValueError("negative frame index")
    if pad:
        frames = np.concatenate(([0, n], np.clip(frames, 0, n)))
    frames = np.unique(frames[(frames >= 0) & (frames <= n)]).astype(int)
    shape = list(data.shape)
    shape[axis] = max(frames.size - 1, 0)
    out = np.empty(shape, order="F" if np.isfortran(data) else "C", dtype=data.dtype)
    sel_in = [slice(None)] * data.ndim
    sel_out: list[slice | int] = [slice(None)] * data.ndim
    for i, (a, b) in enumerate(zip(frames[:-1], frames[1:])):
        sel_in[axis] = slice(a, b)
        sel_out[axis] = i
        out[tuple(sel_out)] = aggregate(data[tuple(sel_in)], axis=axis)
    return out


def resample(y: np.ndarray, *, orig_sr: int, target_sr: int, quality: str = "HQ") -> np.ndarray:
    """Resample a 1-d signal with soxr (as ``librosa.resample(res_type="soxr_hq")``).

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
    orig_sr, target_sr : int > 0
        Sample rates (Hz).
    quality : str
        soxr's quality: ``"HQ"``, ``"VHQ"``, ``"MQ"``, ``"LQ"``, ``"QQ"``.

    Returns
    -------
    np.ndarray [shape=(ceil(n * target_sr / orig_sr),), dtype=y.dtype]
        Cut or padded with zeros to exactly that length.
    """
    y = np.asarray(y)
    if orig_sr == target_sr:
        return y
    import soxr  # noqa: PLC0415

    size = int(np.ceil(y.shape[-1] * float(target_sr) / orig_sr))
    out = soxr.resample(y, orig_sr, target_sr, quality=quality)
    if out.shape[-1] > size:
        out = out[:size]
    elif out.shape[-1] < size:
        out = np.pad(out, (0, size - out.shape[-1]))
    return np.asarray(out, dtype=y.dtype)
