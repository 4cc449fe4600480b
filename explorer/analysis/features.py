"""Frame-level features, computed once per song and handed to every later stage.

One STFT (computed block by block, so a 30-minute file never holds a full complex
spectrogram in memory) gives the mel spectrogram, the onset envelope, MFCCs, chroma
and RMS loudness.  Everything after this module works on these arrays only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explorer.analysis import dsp

#: Analysis sample rate (Hz); every song is resampled to it.
SR = 22050
#: Hop between frames (samples at :data:`SR`), ~23 ms.
HOP_LENGTH = 512
#: FFT size (samples at :data:`SR`), ~93 ms.
N_FFT = 2048


@dataclass(frozen=True, eq=False)
class Features:
    """Frame-level features of one song (all frames ``hop_length / sr`` seconds apart).

    Attributes
    ----------
    sr : int
        Sample rate the features were computed at (Hz).
    hop_length : int
        Hop between frames (samples).
    n_frames : int
        Number of frames.
    duration : float
        Length of the audio (s).
    mel_db : np.ndarray [shape=(n_mels, n_frames)]
        Log-power mel spectrogram (dB, top 80 dB kept).
    onset_env : np.ndarray [shape=(n_frames,)]
        Spectral-flux onset strength.
    chroma : np.ndarray [shape=(12, n_frames)]
        Chroma energy (unnormalised).
    mfcc : np.ndarray [shape=(n_mfcc, n_frames)]
        MFCCs of ``mel_db``.
    rms : np.ndarray [shape=(n_frames,)]
        RMS amplitude.
    """

    sr: int
    hop_length: int
    n_frames: int
    duration: float
    mel_db: np.ndarray
    onset_env: np.ndarray
    chroma: np.ndarray
    mfcc: np.ndarray
    rms: np.ndarray

    def frames_to_time(self, frames) -> np.ndarray:
        """Frame indices → seconds (start of each frame's centre, as librosa)."""
        return np.asarray(frames, dtype=float) * self.hop_length / self.sr


def to_mono(samples: np.ndarray, sr_in: int, *, sr: int = SR, chunk: int = 1 << 18) -> np.ndarray:
    """Mix ``samples`` (n,) or (n, channels) down to mono float32 at ``sr`` Hz.

    Works through the file ``chunk`` frames at a time, so only the output is held in full.  Samples that
    are already mono float32 at ``sr`` and finite (what ``analyze`` and the scanner decode) are returned
    as they are, without a copy.
    """
    import soxr  # noqa: PLC0415 - only where a file is not decoded at the analysis rate already

    x = np.asarray(samples)
    if x.ndim == 1:
        x = x[:, None]
    n, ch = x.shape
    if ch == 1 and sr_in == sr and x.dtype == np.float32 and bool(np.isfinite(x).all()):
        return np.ascontiguousarray(x[:, 0])
    scale = np.float32(1.0 / ch)
    stream = soxr.ResampleStream(sr_in, sr, 1, dtype="float32", quality="MQ") if sr_in != sr else None
    parts = []
    for i in range(0, max(n, 1), chunk):
        block = x[i : i + chunk]
        m = block[:, 0].astype(np.float32)  # column sums: much faster than a strided mean(axis=1)
        for c in range(1, ch):
            m += block[:, c]
        if ch > 1:
            m *= scale
        np.nan_to_num(m, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
        parts.append(stream.resample_chunk(m, last=i + chunk >= n) if stream is not None else m)
    y = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
    return np.ascontiguousarray(y, dtype=np.float32)


def compute(
    y: np.ndarray,
    sr: int = SR,
    *,
    hop_length: int = HOP_LENGTH,
    n_fft: int = N_FFT,
    n_mels: int = 96,
    n_mfcc: int = 20,
    block_frames: int = 1024,
) -> Features:
    """Compute every frame-level feature from one blockwise STFT.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
        Mono audio at ``sr``.
    sr : int
        Sample rate (Hz).
    hop_length, n_fft : int
        STFT hop and window (samples).
    n_mels, n_mfcc : int
        Mel bands and MFCC coefficients.
    block_frames : int
        Frames per STFT block (bounds peak memory).

    Returns
    -------
    Features
    """
    y = np.asarray(y, dtype=np.float32)
    duration = y.size / float(sr)
    n_frames = 1 + y.size // hop_length
    # filter banks transposed: the spectra are computed frames first, (frames, bins), so that every FFT
    # runs over contiguous samples
    mel_fb = dsp.mel_filterbank(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=30.0, fmax=min(8000.0, sr / 2))
    # only the bins under a mel filter take part in the mel product
    used = np.flatnonzero(mel_fb.any(axis=0))
    m0, m1 = (int(used[0]), int(used[-1]) + 1) if used.size else (0, 0)
    mel_fb_t = np.ascontiguousarray(mel_fb[:, m0:m1].T, dtype=np.float32)
    chroma_fb = dsp.chroma_filterbank(sr=sr, n_fft=n_fft, tuning=0.0, ctroct=5.0, octwidth=2.0)
    freqs = dsp.fft_frequencies(sr=sr, n_fft=n_fft)
    chroma_fb[:, (freqs < 55.0) | (freqs > 4200.0)] = 0.0
    # only the bins from 55 Hz to 4.2 kHz carry chroma weight
    c0, c1 = int(np.searchsorted(freqs, 55.0)), int(np.searchsorted(freqs, 4200.0, side="right"))
    chroma_fb_t = np.ascontiguousarray(chroma_fb[:, c0:c1].T, dtype=np.float32)
    window = dsp.hann(n_fft)
    top = max(m1, c1)  # no bin above it is used

    mel = np.empty((n_frames, n_mels), dtype=np.float32)
    chroma = np.empty((n_frames, 12), dtype=np.float32)
    rms = np.empty(n_frames, dtype=np.float32)
    # windowed in float64 (numpy's float64 transform is faster than its float32 one), into buffers
    # reused by every block
    windowed = np.empty((min(block_frames, n_frames), n_fft))
    spectrum = np.empty((windowed.shape[0], 1 + n_fft // 2), dtype=np.complex128)
    for f0 in range(0, n_frames, block_frames):
        f1 = min(n_frames, f0 + block_frames)
        frames = dsp.centered_frames(y, frame_length=n_fft, hop_length=hop_length, start=f0, stop=f1).T
        np.multiply(frames, window, out=windowed[: f1 - f0])
        np.fft.rfft(windowed[: f1 - f0], axis=-1, out=spectrum[: f1 - f0])
        S = np.abs(spectrum[: f1 - f0, :top]).astype(np.float32)
        P = S[:, m0:m1]
        np.matmul(P * P, mel_fb_t, out=mel[f0:f1])
        np.matmul(S[:, c0:c1], chroma_fb_t, out=chroma[f0:f1])
        rms[f0:f1] = np.sqrt(np.einsum("ij,ij->i", frames, frames) / n_fft)
    mel = np.ascontiguousarray(mel.T)
    chroma = np.ascontiguousarray(chroma.T)
    mel_db = dsp.power_to_db(mel, ref=max(float(mel.max(initial=0.0)), 1e-10), top_db=80.0)
    onset_env = dsp.onset_strength(mel_db, lag=1, max_size=3, n_fft=n_fft, hop_length=hop_length)
    onset_env = np.asarray(onset_env[:n_frames], dtype=np.float32)
    mfcc = dsp.mfcc(mel_db, n_mfcc=n_mfcc).astype(np.float32)
    return Features(
        sr=sr,
        hop_length=hop_length,
        n_frames=n_frames,
        duration=duration,
        mel_db=mel_db,
        onset_env=onset_env,
        chroma=chroma,
        mfcc=mfcc,
        rms=rms,
    )
