"""Decode any audio (or video-with-audio) file into an :class:`AudioBuffer` with ffmpeg.

Why not ``pydub.AudioSegment.from_file``: it pipes a WAV through memory as integers,
has no progress, no cancellation and no timeout (and needs ``audioop``, gone in Python 3.13).
We run ffmpeg and ffprobe ourselves:
ffprobe for the stream facts, then ffmpeg streaming raw float32 PCM at the file's own
rate and channel count, read in blocks so that progress can be reported and a cancel
request honoured between blocks.

ffmpeg and ffprobe are always run with an argument list (never a shell), with
``-nostdin``, a timeout, and the input given as ``file:<absolute path>`` so that no
file name (``-i.mp3``, ``http:…``, ``concat:…``) can be read as an option or protocol.
They may open that one file only, and only as an audio container (:data:`AUDIO_DEMUXERS`),
whatever its content says it is.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import threading
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from explorer.audio.buffer import AudioBuffer, SourceInfo
from explorer.errors import Cancelled, DecodeError, EmptyAudio, FileMissing, TooLong, UnsupportedFormat

#: Longest file we decode, in seconds; longer ones are refused up front (ffprobe's duration) or as soon
#: as the stream passes it.  The analysis' peak memory grows with the length: 2 hours is the longest
#: that stays within an 8 GB laptop (the figures are in the README, "Measured").
MAX_DURATION = 2 * 3600.0
#: Largest decoded size we accept, in bytes of float32 PCM (all channels): 101 min of stereo 44.1 kHz,
#: 5.8 min of 192 kHz 8-channel — the samples are the part of the peak that grows with rate and channels.
MAX_DECODED_BYTES = 2 * 1024**3
#: Highest sample rate and channel count accepted: beyond any real recording, so a header claiming
#: more is damaged (fuzzing found WAV headers announcing 1 MHz that ffmpeg happily "decodes").
MAX_SAMPLE_RATE = 768_000
MAX_CHANNELS = 64
#: Seconds ffprobe may take.
PROBE_TIMEOUT = 30.0
#: ffmpeg may take this long plus ``DECODE_TIMEOUT_PER_SECOND`` per second of audio.
DECODE_TIMEOUT_BASE = 60.0
DECODE_TIMEOUT_PER_SECOND = 0.25

#: The demuxers ffmpeg and ffprobe may use: containers of audio (and of video with audio), from
#: ``ffmpeg -demuxers``.  ffmpeg picks the demuxer from the content, not the name, so without this list
#: an HLS playlist or an ffconcat script named ``song.mp3`` makes it open other files (a playlist can
#: name any local file by absolute path; a live one waits for new segments until the watchdog), and
#: the ``sbg`` or ``lavfi`` demuxers would make sound from a script.  A demuxer with several names
#: ("mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm") is allowed by any one of them.  None of these opens
#: another file (mov's external references are off by default).
AUDIO_DEMUXERS = tuple(
    "wav w64 mp3 flac ogg mov aac aiff asf matroska caf ape wv au avi mpc mpc8 tta tak dsf ac3 eac3 dts dtshd "
    "truehd mlp amr mpeg mpegts flv loas shn voc xwma oma".split()
)
#: Input options of every ffprobe and ffmpeg run: the ``file`` protocol only, audio containers only.
INPUT_LIMITS = ("-protocol_whitelist", "file", "-format_whitelist", ",".join(AUDIO_DEMUXERS))

#: File name extensions offered in file dialogs and found by library scans.
AUDIO_EXTENSIONS = tuple(".wav .mp3 .flac .ogg .oga .opus .m4a .aac .mp4 .aif .aiff .wma .webm .mka .mkv".split())

ProgressFn = Callable[[float], None]
CancelFn = Callable[[], bool]


def _tools() -> tuple[str, str]:
    """The ffmpeg and ffprobe programs, found on ``PATH`` when run (both come in the ffmpeg package).

    Not located with pydub: its helpers module imports ``audioop``, which Python 3.13 no longer has.
    """
    return "ffmpeg", "ffprobe"


def _input_arg(path: str) -> str:
    return "file:" + os.path.abspath(path)


def check_file(path: str | os.PathLike) -> str:
    """Return ``path`` as a string if it names a readable, non-empty regular file.

    Raises
    ------
    FileMissing, EmptyAudio, DecodeError
        With a sentence naming the file and the reason.
    """
    path = os.fspath(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise FileMissing(f"{path}: is a broken symbolic link", path=path) from None
        raise FileMissing(f"{path}: file not found", path=path) from None
    except PermissionError:
        raise DecodeError(f"{path}: permission denied", path=path) from None
    except OSError as e:
        raise FileMissing(f"{path}: cannot access the file ({e.strerror})", path=path) from None
    if stat.S_ISDIR(st.st_mode):
        raise FileMissing(f"{path}: is a directory, not an audio file", path=path)
    if not stat.S_ISREG(st.st_mode):
        raise UnsupportedFormat(f"{path}: is not a regular file", path=path)
    if st.st_size == 0:
        raise EmptyAudio(f"{path}: file is empty (0 bytes)", path=path)
    if not os.access(path, os.R_OK):
        raise DecodeError(f"{path}: permission denied", path=path)
    return path


def _without_url(text: str, path: str) -> str:
    """ffmpeg's messages without the input URL they start with (we name the file ourselves).  ffmpeg prints
    the URL with its control characters but the line ends as "?" (``av_log`` sanitises them)."""
    url = _input_arg(path)
    for shown in (url, re.sub("[\x00-\x07\x0e-\x1f]", "?", url)):
        text = text.replace(shown + ": ", "")
    return text


def _reason(text: str, path: str) -> str:
    """The last thing ffmpeg said, without the input URL it prefixes (we name the file ourselves)."""
    text = _without_url(text, path)  # before splitting: the name may hold a line break
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        return "unknown reason"
    line = re.sub(r"^\[[^\]]* @ 0x[0-9a-f]+\] ", "", lines[-1])  # "[mp3 @ 0x55e7…] " names ffmpeg's component
    return line[:200]


#: How ffmpeg says it refused a demuxer that is not in :data:`AUDIO_DEMUXERS` ("[hls @ 0x…] Format not on whitelist").
_NOT_ON_WHITELIST = re.compile(r"\[([\w,]+) @ 0x[0-9a-f]+\] Format not on whitelist")
#: What the refused formats a user may meet are, in words.
_NOT_AUDIO_FORMATS = {
    "hls": "an HLS playlist",
    "concat": "an ffconcat script",
    "image2": "an image",
    "sbg": "an SBaGen script",
    "tty": "a text file",
}
#: The component ffmpeg names at the start of a message: "[mjpeg @ 0x55e7…] ".
_COMPONENT = re.compile(r"^\[([^\]@]+?) @ 0x[0-9a-f]+\] ")
#: A stream ffmpeg names in a message: "Error while decoding stream #0:1: …".
_STREAM = re.compile(r"\bstream #0:(\d+)", re.I)


def _about_the_sound(text: str, path: str, info: dict) -> str:
    """ffmpeg's messages without those about the file's other streams (a broken cover picture is not damaged
    sound): the ones from the decoder of a non-audio stream, and the ones naming another stream."""
    text = _without_url(text, path)  # first: the name may hold a line break or a "[… @ 0x…] "
    kept = []
    for ln in text.splitlines():
        component = _COMPONENT.match(ln.strip())
        if component and component.group(1) in info["other_codecs"]:
            continue
        stream = _STREAM.search(ln)
        if stream and int(stream.group(1)) != info["stream"]:
            continue
        kept.append(ln)
    return "\n".join(kept)


#: Words in ffmpeg's warnings that mean the data is damaged (the rest of its warnings are chatter).
_DAMAGE = re.compile(r"corrupt|truncat|invalid|error|incomplete|overread|growing file|missing|damaged", re.I)


def _damage(text: str, path: str) -> list[str]:
    return [_reason(ln, path) for ln in text.splitlines() if _DAMAGE.search(ln)]


def _identity(path: str) -> tuple[int, int, int] | None:
    """What changes when a file is rewritten: inode, size, modification time (None once it is gone)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def probe(path: str | os.PathLike) -> dict:
    """ffprobe's view of the first audio stream of ``path``.

    Returns
    -------
    dict
        ``sample_rate`` (int, Hz), ``channels`` (int), ``duration`` (float seconds, 0 if
        unknown), and a :class:`SourceInfo` under ``source``.

    Raises
    ------
    FileMissing, EmptyAudio, UnsupportedFormat, DecodeError
    """
    path = check_file(path)
    _, ffprobe = _tools()
    cmd = [
        ffprobe,
        "-v",
        "error",
        *INPUT_LIMITS,
        "-print_format",
        "json",
        "-show_format",
        "-show_streams",
        _input_arg(path),
    ]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=PROBE_TIMEOUT, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise DecodeError(f"{path}: cannot decode (ffprobe timed out after {PROBE_TIMEOUT:.0f} s)", path=path) from None
    except FileNotFoundError:
        raise DecodeError("ffprobe is not installed (install the ffmpeg package)", path=path) from None
    err = proc.stderr.decode("utf-8", "replace")
    if proc.returncode != 0:
        if _identity(path) is None:
            raise FileMissing(f"{path}: was deleted while it was being read", path=path)
        refused = _NOT_ON_WHITELIST.search(err)
        if refused:
            kind = _NOT_AUDIO_FORMATS.get(refused.group(1), f"a file of the '{refused.group(1)}' format")
            raise UnsupportedFormat(
                f"{path}: is not an audio file (it is {kind}, which Music Explorer does not open)", path=path
            )
        raise UnsupportedFormat(f"{path}: is not an audio file or is damaged (ffmpeg: {_reason(err, path)})", path=path)
    try:
        info = json.loads(proc.stdout.decode("utf-8", "replace") or "{}")
    except json.JSONDecodeError:
        raise DecodeError(f"{path}: cannot decode (ffprobe gave unreadable output)", path=path) from None
    streams = [s for s in info.get("streams", []) if s.get("codec_type") == "audio"]
    if not streams:
        raise UnsupportedFormat(f"{path}: has no audio stream", path=path)
    s = streams[0]
    fmt = info.get("format", {})
    # the cover picture, video or subtitles ffmpeg also looks at: their complaints are not about the sound
    others = {str(o.get("codec_name")) for o in info.get("streams", []) if o.get("codec_type") != "audio"}

    def num(v, cast=float, default=0):
        try:
            return cast(v)
        except (TypeError, ValueError):
            return default

    sr = num(s.get("sample_rate"), int)
    ch = num(s.get("channels"), int)
    if sr <= 0 or ch <= 0:
        raise UnsupportedFormat(
            f"{path}: is not an audio file or is damaged (no valid sample rate or channel count)", path=path
        )
    if sr > MAX_SAMPLE_RATE or ch > MAX_CHANNELS:
        raise UnsupportedFormat(
            f"{path}: is damaged or not audio ({sr} Hz, {ch} channels is beyond any real "
            f"recording; the limits are {MAX_SAMPLE_RATE} Hz and {MAX_CHANNELS} channels)",
            path=path,
        )
    duration = num(s.get("duration")) or num(fmt.get("duration"))
    source = SourceInfo(
        container=str(fmt.get("format_name", "")),
        codec=str(s.get("codec_name", "")),
        sample_format=str(s.get("sample_fmt", "")),
        bits_per_sample=num(s.get("bits_per_raw_sample"), int) or num(s.get("bits_per_sample"), int),
        bit_rate=num(s.get("bit_rate"), int) or num(fmt.get("bit_rate"), int),
        size_bytes=num(fmt.get("size"), int),
        sample_rate=sr,
        channels=ch,
    )
    return {
        "sample_rate": sr,
        "channels": ch,
        "duration": float(duration),
        "source": source,
        "stream": num(s.get("index"), int),
        "other_codecs": frozenset(others - {"None"}),
    }


def decode(
    path: str | os.PathLike,
    *,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    max_duration: float = MAX_DURATION,
    block_seconds: float = 2.0,
    sr: int | None = None,
    mono: bool = False,
) -> AudioBuffer:
    """Decode ``path`` into float32 PCM at its own sample rate and channel count (or the ones asked for).

    A file that changes while it is read (still being written, downloaded or re-tagged) raises
    :class:`~explorer.errors.DecodeError` saying so — the caller may have hashed the old bytes, so
    quietly reading the new ones would pair them with the wrong hash; try again later instead.  A file
    deleted while ffmpeg reads it is read to the end (the open file stays readable), with a warning.

    Parameters
    ----------
    path : str or os.PathLike
        Any file ffmpeg reads that holds an audio stream.
    progress : callable(float) or None
        Called with the fraction done (0–1) after each block.
    cancel : callable() -> bool or None
        Polled between blocks; when it returns True, ffmpeg is killed and
        :class:`~explorer.errors.Cancelled` is raised.
    max_duration : float
        Refuse files longer than this many seconds (:class:`~explorer.errors.TooLong`).
    block_seconds : float
        Seconds of audio read per block.
    sr : int or None
        Resample to this rate while decoding (ffmpeg's resampler; far cheaper than decoding at the
        file's rate and resampling in Python); None keeps the file's rate.
    mono : bool
        Mix down to one channel while decoding: the mean of the channels, as :meth:`AudioBuffer.mono`.

    Returns
    -------
    AudioBuffer

    Raises
    ------
    FileMissing, EmptyAudio, UnsupportedFormat, DecodeError, TooLong, Cancelled
    """
    path = os.fspath(path)
    before = _identity(check_file(path))
    buffer = _run_ffmpeg(
        path,
        progress=progress,
        cancel=cancel,
        max_duration=max_duration,
        block_seconds=block_seconds,
        out_sr=sr,
        mono=mono,
    )
    after = _identity(path)
    if after is None:
        return replace(buffer, warnings=(*buffer.warnings, "the file was deleted while it was being read"))
    if after != before:
        raise DecodeError(
            f"{path}: the file changed while it was being read (is it still being written?);"
            " try again when it is complete",
            path=path,
        )
    return buffer


def _run_ffmpeg(
    path: str,
    *,
    progress: ProgressFn | None,
    cancel: CancelFn | None,
    max_duration: float,
    block_seconds: float,
    out_sr: int | None = None,
    mono: bool = False,
) -> AudioBuffer:
    info = probe(path)
    sr, ch, est = info["sample_rate"], info["channels"], info["duration"]
    # the mean of the channels (ffmpeg's own downmix weights them by 1/sqrt(2) and by their position)
    mix = ["-af", "pan=mono|c0=" + "+".join(f"{1 / ch:.9g}*c{i}" for i in range(ch))] if mono and ch > 1 else []
    sr, ch = out_sr or sr, 1 if mono else ch
    frame_bytes = 4 * ch
    if est > max_duration:
        raise TooLong(f"{path}: too long ({est / 60:.0f} min; the limit is {max_duration / 60:.0f} min)", path=path)
    if est * sr * frame_bytes > MAX_DECODED_BYTES:
        raise TooLong(
            f"{path}: too large to decode in memory ({est * sr * frame_bytes / 2**30:.1f} GiB of samples;"
            f" the limit is {MAX_DECODED_BYTES / 2**30:.0f} GiB)",
            path=path,
        )
    ffmpeg, _ = _tools()
    cmd = [
        ffmpeg,
        "-nostdin",
        "-v",
        "warning",
        *INPUT_LIMITS,
        "-i",
        _input_arg(path),
        "-map",
        "0:a:0",
        "-vn",
        "-sn",
        "-dn",
        *mix,
        "-f",
        "f32le",
        "-acodec",
        "pcm_f32le",
        "-ac",
        str(ch),
        "-ar",
        str(sr),
        "pipe:1",
    ]
    timeout = DECODE_TIMEOUT_BASE + DECODE_TIMEOUT_PER_SECOND * max(est, 0.0)
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except FileNotFoundError:
        raise DecodeError("ffmpeg is not installed (install the ffmpeg package)", path=path) from None
    assert proc.stdout is not None and proc.stderr is not None  # (both are pipes)
    err_chunks: list[bytes] = []
    stderr = proc.stderr
    err_thread = threading.Thread(target=lambda: err_chunks.append(stderr.read()), daemon=True)
    err_thread.start()
    # A watchdog, because a read from a stuck ffmpeg would block forever: killing it ends the read.
    expired = threading.Event()

    def expire():
        expired.set()
        proc.kill()

    watchdog = threading.Timer(timeout, expire)
    watchdog.start()
    block = max(1, int(block_seconds * sr)) * frame_bytes
    limit = min(int(max_duration * sr) * frame_bytes, MAX_DECODED_BYTES)
    expected = max(frame_bytes, int(est * sr) * frame_bytes)
    # One buffer, filled in place and grown by doubling if the estimate was short: the peak is the
    # decoded size (plus one block), not twice it as with a list of chunks joined at the end.
    raw = np.empty(min(limit + block, expected + block), dtype=np.uint8)
    got = 0
    try:
        while True:
            if cancel is not None and cancel():
                raise Cancelled(f"{path}: decoding cancelled", path=path)
            if got + block > raw.size:
                if got > limit:
                    raise TooLong(
                        f"{path}: too long (more than {limit / frame_bytes / sr / 60:.0f} min of audio)", path=path
                    )
                grown = np.empty(min(limit + block, 2 * raw.size + block), dtype=np.uint8)
                grown[:got] = raw[:got]
                raw = grown
            read = proc.stdout.readinto(memoryview(raw)[got : got + block])  # type: ignore[arg-type,attr-defined]
            if not read:
                break
            got += read
            if progress is not None:
                progress(min(1.0, got / expected))
        rc = proc.wait()
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        err_thread.join(timeout=5)
        proc.stderr.close()
    err = _about_the_sound(b"".join(err_chunks).decode("utf-8", "replace"), path, info)
    if expired.is_set():
        raise DecodeError(f"{path}: cannot decode (ffmpeg took longer than {timeout:.0f} s)", path=path)
    n = got // frame_bytes
    if n == 0:
        if _identity(path) is None:
            raise FileMissing(f"{path}: was deleted while it was being read", path=path)
        if rc != 0 or _damage(err, path):
            raise DecodeError(f"{path}: cannot decode ({_reason(err, path)})", path=path)
        raise EmptyAudio(f"{path}: contains no audio samples", path=path)
    if n * frame_bytes < raw.size // 2:  # the estimate was far too long: give the unused memory back
        raw = raw[: n * frame_bytes].copy()
    samples = raw[: n * frame_bytes].view("<f4").reshape(n, ch)
    if not np.isfinite(samples).all():
        samples = np.nan_to_num(samples, nan=0.0, posinf=1.0, neginf=-1.0)
    warnings: list[str] = []
    damage = _damage(err, path)
    if rc != 0 or damage:
        reason = damage[-1] if damage else _reason(err, path)
        warnings.append(f"decoded with errors, the file may be damaged or truncated: {reason}")
    if est > 0 and n / sr < est - max(1.0, 0.02 * est):
        warnings.append(f"decoded {n / sr:.1f} s of the {est:.1f} s the file announces (truncated?)")
    if progress is not None:
        progress(1.0)
    return AudioBuffer(samples=samples, sr=sr, path=path, source=info["source"], warnings=tuple(warnings))
