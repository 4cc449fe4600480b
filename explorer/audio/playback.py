"""Play regions of an :class:`AudioBuffer` through simpleaudio.

Playing never decodes: the region is sliced out of the already-decoded PCM, turned
into 16-bit integers (and, where the sound device cannot take the file's layout,
mixed down to stereo and resampled) and handed to simpleaudio.  After the first
region of a song the player converts the whole song once in the background
(:meth:`Player.prepare`), so every later click only slices it.  The position is the
region's start plus the monotonic time since the sound was handed over, so the
playhead needs no callbacks from the audio thread.

One background thread per request walks through the requested regions (one region,
a loop, or a sequence such as "all choruses"); a newer request or :meth:`Player.stop`
ends it.  When the sound device cannot be opened, that thread ends the playback and
reports :class:`~explorer.errors.NoSoundOutput` (to ``on_error`` and :meth:`Player.take_error`)
instead of raising: each play opens the device anew, so the next one tries it again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from explorer.audio.buffer import AudioBuffer
from explorer.errors import NoSoundOutput
from explorer.util.threads import JobThread

log = logging.getLogger(__name__)

#: Largest int16 copy of a song :meth:`Player.prepare` keeps (about 50 minutes of 44.1 kHz stereo).
MAX_PREPARED_BYTES = 512 * 2**20
#: Stretches played that :meth:`Player.take_heard` keeps for its caller (the oldest go first).
MAX_HEARD = 1000

#: Rates the simpleaudio backends accept; anything else is resampled to 48 kHz (or 44.1 kHz).
SUPPORTED_RATES = (8000, 11025, 16000, 22050, 32000, 44100, 48000, 88200, 96000, 192000)


def device_layout(sr: int, channels: int) -> tuple[int, int]:
    """The (sample rate, channels) that :func:`to_pcm16` produces for a source layout."""
    out_sr = sr if sr in SUPPORTED_RATES else (44100 if sr % 11025 == 0 else 48000)
    return out_sr, min(channels, 2)


def downmix_matrix(channels: int) -> np.ndarray:
    """Weights that mix ``channels`` > 2 channels to stereo, shape ``(channels, 2)``.

    The channel order is taken to be the WAVE/ffmpeg default for that count: front
    left, front right, then (for 3, 5, 6, 7 or 8 channels) front centre, then (for 6
    or more) LFE, then the surround channels in left/right pairs, a lone back centre
    first.  Centre and back centre go to both sides at -3 dB, surrounds at -3 dB to
    their side, LFE is left out; each side is scaled so its weights add up to 1, so
    the mix cannot clip.
    """
    h = np.float32(np.sqrt(0.5))
    w = np.zeros((channels, 2), dtype=np.float32)
    w[0, 0] = w[1, 1] = 1.0
    rest = list(range(2, channels))
    if channels in (3, 5, 6, 7, 8):
        w[rest.pop(0)] = (h, h)
    if channels >= 6:
        rest.pop(0)  # LFE
    if len(rest) % 2:
        w[rest.pop(0)] = (h, h)
    for left, right in zip(rest[0::2], rest[1::2]):
        w[left, 0] = w[right, 1] = h
    return w / w.sum(axis=0, keepdims=True)


def _resample(x: np.ndarray, sr: int, out_sr: int) -> np.ndarray:
    import soxr  # a dependency of librosa, and several times faster than scipy's polyphase filter

    return np.asarray(soxr.resample(x, sr, out_sr, quality="HQ"), dtype=np.float32).reshape(-1, x.shape[1])


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
        ``round(clip(x, -1, 1) * 32767)``, converted in cache-sized blocks (this sits
        between a click and the sound, so it is kept fast).
    out_sr : int
        ``sr`` if the device takes it, else 44.1 or 48 kHz (see :func:`device_layout`).
    out_channels : int
        1 or 2: more channels are mixed down to stereo with :func:`downmix_matrix`.
    """
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim == 1:
        x = x[:, None]
    if x.shape[1] > 2:
        # channel by channel, not a matrix product: every frame must come out the same whether it
        # is converted alone or with the whole song (BLAS may sum in a different order by size)
        w = downmix_matrix(x.shape[1])
        mix = np.zeros((len(x), 2), dtype=np.float32)
        for c, side in zip(*np.nonzero(w)):
            mix[:, side] += w[c, side] * x[:, c]
        x = mix
    out_sr, _ = device_layout(sr, x.shape[1])
    if out_sr != sr and len(x):
        x = _resample(x, sr, out_sr)
    pcm = np.empty(x.shape, dtype=np.int16)
    step = 1 << 16
    tmp = np.empty((min(step, len(x)), x.shape[1]), dtype=np.float32)
    for a in range(0, len(x), step):
        t = tmp[: len(x[a : a + step])]
        np.multiply(x[a : a + step], np.float32(32767.0), out=t)
        np.clip(t, -32767.0, 32767.0, out=t)
        np.rint(t, out=t)
        pcm[a : a + step] = t
    return pcm, out_sr, pcm.shape[1]  # type: ignore[misc]  # (x is 2-D here; its annotation says 1-D)


#: Converts whole songs for the device (:meth:`Player.prepare`); started by the first Player, at
#: start-up, because prepare() is called from the GUI thread just when decoders are busiest.
_CONVERTER = JobThread("explorer-playback-prepare", "converting a song for playback (regions then convert when played)")


_ALSA_QUIET: list = []  # the no-op error handler given to ALSA, kept alive as long as ALSA may call it


def _quiet_alsa() -> None:
    """Keep ALSA from printing its own diagnostics on stderr ("ALSA lib conf.c:…: Cannot access file …"):
    a device that does not open is reported once, as :class:`~explorer.errors.NoSoundOutput`."""
    if _ALSA_QUIET:
        return
    import ctypes  # noqa: PLC0415
    import ctypes.util  # noqa: PLC0415

    name = ctypes.util.find_library("asound")
    if name is None:  # no ALSA here (another platform's sound system)
        _ALSA_QUIET.append(None)
        return
    try:
        lib = ctypes.CDLL(name)
        # void handler(const char *file, int line, const char *function, int err, const char *fmt, ...): the
        # variadic rest is the caller's to clean up, so a handler that takes the five named ones is safe
        handler = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p)(
            lambda *_: None
        )
        lib.snd_lib_error_set_handler(handler)
    except (OSError, AttributeError):
        handler = None
    _ALSA_QUIET.append(handler)


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
    on_error : callable(NoSoundOutput) or None
        Called from the playback thread when the sound device could not be opened.
    """

    def __init__(self, backend=None, *, on_error=None) -> None:
        if backend is None:
            import simpleaudio  # noqa: PLC0415 - imported when playing, not at start-up

            backend = simpleaudio
            _quiet_alsa()
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
        self._pcm: tuple[AudioBuffer, np.ndarray] | None = None  # the whole song as the device takes it
        self._preparing: AudioBuffer | None = None
        self._prepared_event: threading.Event | None = None
        self._heard: deque[tuple[str | None, float, float]] = deque(maxlen=MAX_HEARD)
        self._error: NoSoundOutput | None = None
        self.on_error = on_error
        _CONVERTER.start()  # here (at start-up), not on the first prepare() while the GUI is busy

    # -- requests ----------------------------------------------------------------------
    def prepare(self, buffer: AudioBuffer, *, wait: bool = False) -> None:
        """Convert all of ``buffer`` for the device in the background, so that any region starts at once.

        Playing a region then only slices this int16 copy (the same samples :func:`to_pcm16`
        gives for the region).  Only the latest buffer is kept.  Songs that need resampling
        are converted region by region instead (a slice of a resampled song would not be
        exactly the resampled region), and so are songs whose copy would pass
        :data:`MAX_PREPARED_BYTES`.  Called by the first :meth:`play` of a buffer.
        """
        out_sr, out_ch = device_layout(buffer.sr, buffer.channels)
        if out_sr != buffer.sr or buffer.n_frames * out_ch * 2 > MAX_PREPARED_BYTES:
            return
        with self._lock:
            done = self._prepared_event
            if self._preparing is not buffer or done is None:
                self._preparing = buffer
                done = self._prepared_event = threading.Event()

                def convert():
                    try:
                        with self._lock:
                            if self._preparing is not buffer:  # overtaken by another song meanwhile
                                return
                        pcm = to_pcm16(buffer.samples, buffer.sr)[0]
                        pcm.flags.writeable = False
                        with self._lock:
                            if self._preparing is buffer:
                                self._pcm = (buffer, pcm)
                    finally:
                        done.set()

                _CONVERTER.submit(convert)
        if wait:
            done.wait()

    def _region_pcm(self, buffer: AudioBuffer, start: float, end: float) -> tuple[np.ndarray, int, int]:
        cached = self._pcm
        if cached is not None and cached[0] is buffer:
            i0, i1 = buffer.frame_range(start, end)
            pcm = cached[1][i0:i1]
            return pcm, buffer.sr, pcm.shape[1]
        result = to_pcm16(buffer.region(start, end), buffer.sr)
        self.prepare(buffer)
        return result

    def play(self, buffer: AudioBuffer, start: float = 0.0, end: float | None = None, *, loop: bool = False) -> None:
        """Play ``[start, end)`` seconds of ``buffer`` (to the end when ``end`` is None)."""
        end = buffer.duration if end is None else end
        self.play_sequence(buffer, [(start, end)], loop=loop)

    def play_sequence(self, buffer: AudioBuffer, regions, *, loop: bool = False) -> None:
        """Play several regions one after the other (and again from the first when ``loop``)."""
        regs = [Region(max(0.0, float(a)), min(float(b), buffer.duration)) for a, b in regions]
        regs = [r for r in regs if r.end > r.start]
        if not regs:
            self.stop()
            return
        self._start(buffer, regs, loop, 0, regs[0].start)

    def _start(self, buffer: AudioBuffer, regs: list[Region], loop: bool, index: int, offset: float) -> None:
        """Play ``regs`` from second ``offset`` of ``regs[index]`` on (later passes of a loop play them whole)."""
        self.stop()
        with self._lock:
            self._generation += 1
            gen = self._generation
            self._stop_event = threading.Event()
            self._buffer, self._regions, self._index, self._loop = buffer, regs, index, loop
            self._paused_at = None
            self._playing = True
            self._region_start = offset
            self._t0 = time.monotonic()
            t = threading.Thread(
                target=self._run,
                args=(gen, buffer, regs, loop, index, offset, self._stop_event),
                name="explorer-playback",
                daemon=True,
            )
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
        if pos is None or buffer is None or not regions:
            return
        self._start(buffer, list(regions), loop, index, pos)

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

    def take_heard(self) -> list[tuple[str | None, float, float]]:
        """The stretches played since the last call, oldest first, as ``(path, start, end)`` (path of
        the buffer, seconds from the start of the file): a region played to its end, or up to where
        it was stopped or paused."""
        with self._lock:
            out = list(self._heard)
            self._heard.clear()
        return out

    def take_error(self) -> NoSoundOutput | None:
        """Why the last playback could not start (the sound device did not open), once; None when it could."""
        with self._lock:
            error, self._error = self._error, None
        return error

    def wait(self, timeout: float | None = None) -> bool:
        """Block until playback ends; True when it did within ``timeout`` seconds."""
        t = self._thread
        if t is None:
            return True
        t.join(timeout)
        return not t.is_alive()

    # -- the playing thread ------------------------------------------------------------
    def _failed(self, gen: int, e: Exception) -> None:
        # simpleaudio says "Error opening PCM device. -- CODE: -16 -- MSG: Device or resource busy": the
        # sentence after MSG is the one a user can read
        detail = str(e).rpartition("MSG:")[2].strip() or type(e).__name__
        error = NoSoundOutput(f"No sound output: the audio device could not be opened ({detail})")
        log.info("%s [%s]", error.message, e)
        with self._lock:
            if gen != self._generation:  # a newer request (or a stop) came meanwhile: it is not waiting for this
                return
            self._error = error
        if self.on_error is not None:
            self.on_error(error)

    def _note_heard(self, buffer: AudioBuffer, start: float, end: float) -> None:
        if end > start:
            with self._lock:
                self._heard.append((buffer.path, float(start), float(end)))

    def _run(
        self,
        gen: int,
        buffer: AudioBuffer,
        regions: list[Region],
        loop: bool,
        index: int,
        offset: float,
        stop: threading.Event,
    ):
        try:
            first = True
            while True:
                played = False
                for i in range(index if first else 0, len(regions)):
                    reg = regions[i]
                    start = max(reg.start, offset) if first and i == index else reg.start
                    if stop.is_set():
                        return
                    pcm, sr, ch = self._region_pcm(buffer, start, reg.end)
                    if stop.is_set():
                        return
                    if not len(pcm):
                        continue
                    try:
                        play = self._backend.play_buffer(pcm, ch, 2, sr)
                    except Exception as e:  # the backend's own type (SimpleaudioError): the device did not open
                        self._failed(gen, e)
                        return
                    played = True
                    with self._lock:
                        if gen != self._generation:
                            play.stop()
                            return
                        t0 = time.monotonic()
                        self._index, self._region_start, self._t0 = i, start, t0
                    while play.is_playing():
                        if stop.wait(0.01):
                            play.stop()
                            self._note_heard(buffer, start, min(reg.end, start + time.monotonic() - t0))
                            return
                    self._note_heard(buffer, start, reg.end)
                if not loop or (not played and not first):  # regions too short to hold a sample: no busy loop
                    return
                first = False
        finally:
            with self._lock:
                if gen == self._generation:
                    self._playing = False
