"""The immutable, decoded audio that every other part of the program shares."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class SourceInfo:
    """What ffprobe said about the file before decoding.

    Attributes
    ----------
    container : str
        Container format name(s) as ffprobe names them (``"mp3"``, ``"ogg"``, ``"mov,mp4,m4a,…"``).
    codec : str
        Audio codec name (``"mp3"``, ``"flac"``, ``"pcm_s24le"``, ``"vorbis"``, …).
    sample_format : str
        ffmpeg's sample format of the stream (``"s16"``, ``"s32"``, ``"fltp"``, …).
    bits_per_sample : int
        Bits per sample where the codec has them (0 for lossy codecs).
    bit_rate : int
        Bits per second, 0 when unknown.
    size_bytes : int
        File size in bytes at the time of probing.
    sample_rate, channels : int
        The file's own rate (Hz) and channel count (a buffer decoded at another rate or in mono
        still knows them), 0 when unknown.
    """

    container: str = ""
    codec: str = ""
    sample_format: str = ""
    bits_per_sample: int = 0
    bit_rate: int = 0
    size_bytes: int = 0
    sample_rate: int = 0
    channels: int = 0


@dataclass(frozen=True, eq=False)
class AudioBuffer:
    """Decoded PCM of one file, read-only, shared by analysis, drawing and playback.

    Parameters
    ----------
    samples : np.ndarray [shape=(n_frames, n_channels), dtype=float32]
        Samples in [-1, 1] (floating point sources may exceed it).  The array is made
        read-only on construction, so every holder can rely on it never changing.
    sr : int > 0
        Sample rate in Hz, as in the file.
    path : str or None
        The file the samples came from.
    source : SourceInfo
        What the file said about itself.
    warnings : tuple of str
        Things the decoder noticed but survived (e.g. a truncated stream).
    """

    samples: np.ndarray
    sr: int
    path: str | None = None
    source: SourceInfo = field(default_factory=SourceInfo)
    warnings: tuple[str, ...] = ()
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self):
        s = np.asarray(self.samples, dtype=np.float32)
        if s.ndim == 1:
            s = s[:, None]
        if s.ndim != 2 or s.shape[1] < 1:
            raise ValueError(f"samples must have shape (n_frames, n_channels), got {s.shape}")
        if self.sr <= 0:
            raise ValueError(f"sample rate must be positive, got {self.sr}")
        s.flags.writeable = False  # we take ownership: nobody writes to it from now on
        object.__setattr__(self, "samples", s)

    # -- shape -------------------------------------------------------------------------
    @property
    def n_frames(self) -> int:
        return int(self.samples.shape[0])

    @property
    def channels(self) -> int:
        return int(self.samples.shape[1])

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.n_frames / float(self.sr)

    # -- views -------------------------------------------------------------------------
    def mono(self) -> np.ndarray:
        """The channel mean, shape ``(n_frames,)``, float32, computed once and read-only."""
        m = self._cache.get("mono")
        if m is None:
            # column by column: numpy's mean over a short last axis is far slower (README, "Measured")
            m = np.array(self.samples[:, 0], dtype=np.float32)
            for c in range(1, self.channels):
                m += self.samples[:, c]
            if self.channels > 1:
                m /= np.float32(self.channels)
            m.flags.writeable = False
            self._cache["mono"] = m
        return m

    def frame_range(self, start: float, end: float | None = None) -> tuple[int, int]:
        """Frame indices ``[i0, i1)`` of the time range ``[start, end)`` in seconds, clamped to the buffer."""
        end = self.duration if end is None else end
        i0 = int(round(max(0.0, min(start, self.duration)) * self.sr))
        i1 = int(round(max(0.0, min(end, self.duration)) * self.sr))
        return i0, max(i0, i1)

    def region(self, start: float, end: float | None = None) -> np.ndarray:
        """Samples of ``[start, end)`` seconds, shape ``(n, n_channels)``; a view, no copy."""
        i0, i1 = self.frame_range(start, end)
        return self.samples[i0:i1]

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"AudioBuffer(path={self.path!r}, sr={self.sr}, channels={self.channels}, duration={self.duration:.3f}s)"
