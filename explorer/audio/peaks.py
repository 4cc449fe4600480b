"""Min/max peak pyramid: what the waveform views draw instead of raw samples.

Level 0 holds the minimum and maximum of every ``base_block`` samples of the mono mix;
each higher level merges ``factor`` bins of the level below.  A view asks for a time
range and a pixel width and gets the coarsest level that still has at least
``oversample`` bins per pixel, so drawing costs O(pixels), whatever the file's length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explorer.audio.buffer import AudioBuffer


@dataclass(frozen=True, eq=False)
class PeakPyramid:
    """Precomputed min/max levels of one buffer.

    Attributes
    ----------
    sr : int
        Sample rate of the source, Hz.
    n_frames : int
        Length of the source in samples.
    base_block : int
        Samples per bin at level 0.
    factor : int
        Bins of level ``k`` merged into one bin of level ``k + 1``.
    levels : tuple of np.ndarray [shape=(n_bins_k, 2), dtype=float32]
        ``levels[k][:, 0]`` are minima, ``levels[k][:, 1]`` maxima.
    """

    sr: int
    n_frames: int
    base_block: int
    factor: int
    levels: tuple[np.ndarray, ...]

    @property
    def duration(self) -> float:
        return self.n_frames / float(self.sr)

    def samples_per_bin(self, level: int) -> int:
        return self.base_block * self.factor**level

    def choose_level(self, start: float, end: float, width_px: int, *, oversample: float = 2.0) -> int:
        """The coarsest level giving at least ``oversample`` bins per pixel over ``[start, end]`` seconds."""
        span = max(end - start, 1.0 / self.sr) * self.sr
        want = max(1.0, oversample * max(int(width_px), 1))
        level = 0
        while level + 1 < len(self.levels) and span / self.samples_per_bin(level + 1) >= want:
            level += 1
        return level

    def window(self, start: float, end: float, width_px: int, *, oversample: float = 2.0):
        """Peaks of ``[start, end]`` seconds at a resolution fit for ``width_px`` pixels.

        Returns
        -------
        t : np.ndarray [shape=(n,), float64]
            Start time of each bin, seconds.
        lo, hi : np.ndarray [shape=(n,), float32]
            Minimum and maximum of each bin.
        """
        level = self.choose_level(start, end, width_px, oversample=oversample)
        spb = self.samples_per_bin(level)
        data = self.levels[level]
        i0 = max(0, int(np.floor(start * self.sr / spb)) - 1)
        i1 = max(i0, min(len(data), int(np.ceil(end * self.sr / spb)) + 1))  # a range before 0 is empty
        t = np.arange(i0, i1, dtype=np.float64) * (spb / self.sr)
        return t, data[i0:i1, 0], data[i0:i1, 1]


def _minmax_blocks(x: np.ndarray, block: int) -> np.ndarray:
    """Min and max of every ``block`` values of ``x`` (the last block may be shorter), shape (n_blocks, 2)."""
    starts = np.arange(0, len(x), block)
    out = np.empty((len(starts), 2), dtype=np.float32)
    # reduceat: faster than reshape(-1, block).min(axis=1) for short blocks, and takes a shorter last block
    out[:, 0] = np.minimum.reduceat(x, starts)
    out[:, 1] = np.maximum.reduceat(x, starts)
    return out


def _merge(level: np.ndarray, factor: int) -> np.ndarray:
    starts = np.arange(0, len(level), factor)
    out = np.empty((len(starts), 2), dtype=np.float32)
    out[:, 0] = np.minimum.reduceat(level[:, 0], starts)
    out[:, 1] = np.maximum.reduceat(level[:, 1], starts)
    return out


def build_peaks(buffer: AudioBuffer, *, base_block: int = 16, factor: int = 4, min_bins: int = 256) -> PeakPyramid:
    """Build the peak pyramid of ``buffer``'s mono mix.

    Parameters
    ----------
    buffer : AudioBuffer
    base_block : int > 0
        Samples per bin at the finest level (16 ≈ 0.36 ms at 44.1 kHz).
    factor : int ≥ 2
        Reduction between levels.
    min_bins : int
        Stop when a level has fewer bins than this.

    Returns
    -------
    PeakPyramid

    Examples
    --------
    >>> import numpy as np
    >>> from explorer.audio.buffer import AudioBuffer
    >>> p = build_peaks(AudioBuffer(np.sin(np.arange(44100, dtype=np.float32)), 44100))
    >>> p.levels[0].shape
    (2757, 2)
    """
    y = buffer.mono()
    levels: tuple[np.ndarray, ...]
    if len(y) == 0:
        levels = (np.zeros((0, 2), dtype=np.float32),)
    else:
        levels_l = [_minmax_blocks(y, base_block)]
        while len(levels_l[-1]) > min_bins:
            levels_l.append(_merge(levels_l[-1], factor))
        levels = tuple(levels_l)
    for lv in levels:
        lv.flags.writeable = False
    return PeakPyramid(sr=buffer.sr, n_frames=buffer.n_frames, base_block=base_block, factor=factor, levels=levels)
