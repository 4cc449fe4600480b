"""Play regions of an :class:`AudioBuffer` through simpleaudio.

Playing never decodes: the region is sliced out of the already-decoded PCM, turned
into 16-bit integers (and, where the sound device cannot take the file's layout,
mixed down to stereo and resampled) and handed to simpleaudio.  The position is the
region's start plus the monotonic time since the sound was handed over, so the
playhead needs no callbacks from the audio thread.

One background thread per request walks through the requested regions (one region,
a loop, or a sequence such as "all choruses"); a newer request or :meth:`Player.stop`
ends it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np

from explorer.audio.buffer import AudioBuffer

#: Rates the simpleaudio backends accept; anything else is resampled to 48 kHz (or 44.1 kHz).
SUPPORTED_RATES = (8000, 11025, 16000, 22050, 32000, 44100, 48000, 88200, 96000, 192000)


def device_layout(sr: int, channels: int) -> tuple[int, int]:
    """The (sample rate, channels) that :func:`to_pcm16` produces for a source layout."""
    out_sr = sr if sr in SUPPORTED_RATES else (44100 if sr % 11025 == 0 else 48000)
    return out_sr, min(channels, 2)


def to_pcm16(samples: np.ndarray, sr: int) -> tuple[np.ndarray, int, int]:
    """Turn float samples into what the sound device plays.

    Parameters
    ----------
    samples : np.ndarray [shape=(n, channels), float32]
    sr : int
        Rate of ``samples`` in Hz.

    Returns
    -------
    pcm : np.ndarray [shape=(m, out_channels), int16], C-contiguous (interleaved)
    out_sr : int
    out_channels : int
        1 or 2: more channels are mixed down to stereo (even channels left, odd right).
    """
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim == 1:
        x = x[:, None]
    if x.shape[1] > 2:
        x = np.stack([x[:, 0::2].mean(axis=1), x[:, 1::2].mean(axis=1)], axis=1)
    out_sr, _ = device_layout(sr, x.shape[1])
    if out_sr != sr and len(x):
        from math import gcd

        from scipy.signal import resample_poly

        g = gcd(out_sr, sr)
        x = resample_poly(x, out_sr // g, sr // g, axis=0).astype(np.float32)
    pcm = np.round(np.clip(x, -1.0, 1.0) * 32767.0).astype(np.int16)
    return np.ascontiguousarray(pcm), out_sr, pcm.shape[1]


@dataclass(frozen=True)
class Region:
    """A time range in seconds."""

    start: float
    end: float


class Player:
    """Plays regions of one buffer at a time; safe to call from any thread.

    Parameters
    ----------
    backend : module or None
        Something with ``play_buffer(data, channels, bytes_per_sample, sr)`` returning
        an object with ``is_playing()`` and ``stop()``: simpleaudio by default.
    """

    def __init__(self, backend=None):
        if backend is None:
            import simpleaudio as backend  # noqa: PLC0415 - imported when playing, not at start-up
        self._backend = backend
        self._lock = threading.Lock()
        self._generation = 0
        self._stop_event = threading.Event()
        self._thread: threading.Thread | None = None
        self._buffer: AudioBuffer | None = None
        self._regions: list[Region] = []
        self._index = 0
        self._t0 = 0.0
        self._region_start = 0.0
        self._paused_at: float | None = None
        self._loop = False
        self._playing = False

    # -- requests ----------------------------------------------------------------------
    def play(self, buffer: AudioBuffer, start: float = 0.0, end: float | None = None, *, loop: bool = False) -> None:
        """Play ``[start, end)`` seconds of ``buffer`` (to the end when ``end`` is None)."""
        end = buffer.duration if end is None else end
        self.play_sequence(buffer, [(start, end)], loop=loop)

    def play_sequence(self, buffer: AudioBuffer, regions, *, loop: bool = False) -> None:
        """Play several regions one after the other (and again from the first when ``loop``)."""
        regs = [Region(max(0.0, float(a)), min(float(b), buffer.duration)) for a, b in regions]
        regs = [r for r in regs if r.end > r.start]
        self.stop()
        if not regs:
            return
        with self._lock:
            self._generation += 1
            gen = self._generation
            self._stop_event = threading.Event()
            self._buffer, self._regions, self._index, self._loop = buffer, regs, 0, loop
            self._paused_at = None
            self._playing = True
            self._region_start = regs[0].start
            self._t0 = time.monotonic()
            t = threading.Thread(target=self._run, args=(gen, buffer, regs, loop, self._stop_event),
                                 name="explorer-playback", daemon=True)
            self._thread = t
        t.start()

    def stop(self) -> None:
        """Stop playing and forget the position."""
        with self._lock:
            self._stop_event.set()
            self._generation += 1
            self._playing = False
            self._paused_at = None
            t = self._thread
            self._thread = None
        if t is not None and t is not threading.current_thread():
            t.join(timeout=2.0)

    def pause(self) -> None:
        """Stop the sound but remember where; :meth:`resume` goes on from there."""
        pos = self.position()
        if pos is None:
            return
        buffer, regions, index, loop = self._buffer, list(self._regions), self._index, self._loop
        self.stop()
        with self._lock:
            self._buffer, self._regions, self._index, self._loop = buffer, regions, index, loop
            self._paused_at = pos

    def resume(self) -> None:
        """Continue after :meth:`pause`; does nothing when not paused."""
        with self._lock:
            pos, buffer, regions, index, loop = self._paused_at, self._buffer, self._regions, self._index, self._loop
        if pos is None or buffer is None:
            return
        rest = [(pos, regions[index].end)] + [(r.start, r.end) for r in regions[index + 1:]]
        if loop:
            # keep looping over the whole original set after finishing the current pass
            rest += [(r.start, r.end) for r in regions[:index]]
        self.play_sequence(buffer, rest, loop=loop)

    def toggle(self) -> None:
        """Pause when playing, resume when paused."""
        if self.is_playing():
            self.pause()
        else:
            self.resume()

    # -- state -------------------------------------------------------------------------
    def is_playing(self) -> bool:
        return self._playing

    def is_paused(self) -> bool:
        return self._paused_at is not None

    def position(self) -> float | None:
        """Seconds from the start of the file of what is heard now, None when stopped."""
        with self._lock:
            if self._paused_at is not None:
                return self._paused_at
            if not self._playing or not self._regions:
                return None
            reg = self._regions[min(self._index, len(self._regions) - 1)]
            return min(reg.end, self._region_start + (time.monotonic() - self._t0))

    def current_region(self) -> tuple[float, float] | None:
        with self._lock:
            if not self._regions or (not self._playing and self._paused_at is None):
                return None
            r = self._regions[min(self._index, len(self._regions) - 1)]
            return (r.start, r.end)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until playback ends; True when it did within ``timeout`` seconds."""
        t = self._thread
        if t is None:
            return True
        t.join(timeout)
        return not t.is_alive()

    # -- the playing thread ------------------------------------------------------------
    def _run(self, gen: int, buffer: AudioBuffer, regions: list[Region], loop: bool, stop: threading.Event):
        try:
            while True:
                for i, reg in enumerate(regions):
                    if stop.is_set():
                        return
                    pcm, sr, ch = to_pcm16(buffer.region(reg.start, reg.end), buffer.sr)
                    if stop.is_set():
                        return
                    play = self._backend.play_buffer(pcm, ch, 2, sr)
                    with self._lock:
                        if gen != self._generation:
                            play.stop()
                            return
                        self._index, self._region_start, self._t0 = i, reg.start, time.monotonic()
                    while play.is_playing():
                        if stop.wait(0.01):
                            play.stop()
                            return
                if not loop:
                    return
        finally:
            with self._lock:
                if gen == self._generation:
                    self._playing = False
