"""Every kind of messy file a music folder holds, made on the spot (nothing binary is committed).

``make_cases(folder)`` writes the files of issue #6 into ``folder`` and returns one :class:`Case` per file,
saying whether Music Explorer must open it (``valid``) or refuse it with one clear sentence naming the file
and matching ``reason``.  The two cases that need timing — a file that changes, or is deleted, while it is
being analysed — are not files but events; the tests stage them with :func:`rewrite_with` and ``os.unlink``.

Run ``python tests/badfiles.py FOLDER`` to get the folder for trying by hand (in the window, say).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

SEED = 20261122

#: The names :func:`make_cases` gives its cases, in order (known before any file is made, for test ids).
NAMES = (
    "zero-byte",
    "random-mp3",
    "random-wav",
    "random-flac",
    "text-as-ogg",
    "newline-in-name",
    "directory",
    "broken-symlink",
    "symlink-loop",
    "fifo",
    "unreadable",
    "truncated-mp3",
    "wav-header-claims-more",
    "video-with-audio-mp4",
    "video-with-audio-mkv",
    "video-without-audio",
    "spaces-non-ascii-emoji",
    "non-utf8-name",
    "named -i",
    "named -i.mp3",
    "named http:x.mp3",
    "silence-5min",
    "short-0.1s",
    "constant-tone",
    "dc-offset",
    "clipped-square",
    "8k-mono",
    "192k-float-8ch",
    "three-hours",
)


@dataclass(frozen=True)
class Case:
    """One bad (or merely unusual) input.

    Attributes
    ----------
    name : str
        Short id used as the test id.
    path : Path
        Where the file (or directory, link, FIFO) is.
    valid : bool
        True when the file holds usable audio and must give a result.
    reason : str
        For an invalid case, a regular expression the error sentence must match (after the path);
        for a valid one, what is special about it.
    duration : float
        For a valid case, the length in seconds the result must report (± 2 %, ± 0.1 s); 0 = don't check.
    needs_non_root : bool
        Only meaningful when the reader is not root (file permissions).
    warns : bool
        A valid case whose buffer must carry a warning (damaged or truncated).
    """

    name: str
    path: Path
    valid: bool
    reason: str
    duration: float = 0.0
    needs_non_root: bool = False
    warns: bool = False


def ffmpeg(*args: str) -> None:
    """Run ffmpeg quietly with these arguments (raises on failure)."""
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True, stdin=subprocess.DEVNULL)


def sine(duration: float, sr: int, *, freq: float = 440.0, channels: int = 1, amp: float = 0.5) -> np.ndarray:
    """A sine, shape (n, channels); every channel a little higher than the one before."""
    t = np.arange(int(round(duration * sr))) / sr
    return np.stack([amp * np.sin(2 * np.pi * freq * (1 + 0.1 * c) * t) for c in range(channels)], axis=1).astype(
        np.float32
    )


def write_sf(path: Path, y: np.ndarray, sr: int, subtype: str = "PCM_16") -> Path:
    """Write with libsndfile (WAV/FLAC from the extension): no subprocess, so it is fast."""
    sf.write(path, y, sr, subtype=subtype)
    return path


def encode(path: Path, y: np.ndarray, sr: int, *codec_args: str) -> Path:
    """Encode float samples with ffmpeg (format from the extension of ``path``)."""
    y = np.asarray(y, dtype=np.float32)
    if y.ndim == 1:
        y = y[:, None]
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-v",
            "error",
            "-y",
            "-f",
            "f32le",
            "-ar",
            str(sr),
            "-ac",
            str(y.shape[1]),
            "-i",
            "pipe:0",
            *codec_args,
            "file:" + os.path.abspath(path),
        ],
        input=np.ascontiguousarray(y).tobytes(),
        check=True,
    )
    return path


def valid_seeds(folder: Path) -> dict[str, Path]:
    """Small valid files of each common format (the fuzz test mutates these): 1.5 s, a few KB each."""
    folder.mkdir(parents=True, exist_ok=True)
    y = sine(1.5, 22050, freq=330.0)
    return {
        "wav": write_sf(folder / "seed.wav", sine(0.5, 8000), 8000),
        "flac": write_sf(folder / "seed.flac", y, 22050),
        "mp3": encode(folder / "seed.mp3", y, 22050, "-c:a", "libmp3lame", "-b:a", "32k"),
        "ogg": encode(folder / "seed.ogg", y, 22050, "-c:a", "libvorbis", "-q:a", "0"),
    }


def wav_claiming_more(path: Path, *, claimed_seconds: float, present_seconds: float, sr: int = 22050) -> Path:
    """A 16-bit mono WAV whose RIFF and data sizes announce ``claimed_seconds`` but hold ``present_seconds``."""
    pcm = (sine(present_seconds, sr)[:, 0] * 32767).astype("<i2").tobytes()
    claimed = int(claimed_seconds * sr) * 2
    header = (
        b"RIFF"
        + (36 + claimed).to_bytes(4, "little")
        + b"WAVE"
        + b"fmt "
        + (16).to_bytes(4, "little")
        + (1).to_bytes(2, "little")
        + (1).to_bytes(2, "little")
        + sr.to_bytes(4, "little")
        + (sr * 2).to_bytes(4, "little")
        + (2).to_bytes(2, "little")
        + (16).to_bytes(2, "little")
        + b"data"
        + claimed.to_bytes(4, "little")
    )
    path.write_bytes(header + pcm)
    return path


def long_mp3(path: Path, *, hours: float = 3.0) -> Path:
    """A real ``hours``-long mp3 made cheaply: one minute of 8 kHz mono CBR mp3 (no Xing header), repeated.

    MPEG audio frames stand alone, so the repeated bytes are a valid stream that ffprobe times at ``hours``
    and ffmpeg would decode in full (3 h: 10.8 MB on disk, 0.3 s to make).
    """
    minute = path.with_suffix(".minute.mp3")
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "sine=f=440:sample_rate=8000:d=60",
        "-ac",
        "1",
        "-c:a",
        "libmp3lame",
        "-b:a",
        "8k",
        "-write_xing",
        "0",
        str(minute),
    )
    data = minute.read_bytes()
    minute.unlink()
    with open(path, "wb") as f:
        for _ in range(int(round(hours * 60))):
            f.write(data)
    return path


def rewrite_with(path: Path, y: np.ndarray, sr: int) -> None:
    """Replace the content of ``path`` in place (same inode, as an editor or a tagger would)."""
    tmp = path.with_name(path.name + ".new.wav")
    write_sf(tmp, y, sr)
    with open(path, "r+b") as f:
        f.write(tmp.read_bytes())
        f.truncate()
    tmp.unlink()


def make_cases(folder: Path, *, long: bool = True) -> list[Case]:
    """Write every case into ``folder`` (created) and describe it.

    Parameters
    ----------
    folder : Path
    long : bool
        Include the 3-hour file (10.8 MB; skip it where a test does not need it).
    """
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(SEED)
    cases: list[Case] = []

    def add(name, path, valid, reason, **kw):
        cases.append(Case(name, Path(path), valid, reason, **kw))

    # -- not audio at all ---------------------------------------------------------------------------
    (folder / "empty.mp3").write_bytes(b"")
    add("zero-byte", folder / "empty.mp3", False, r"empty \(0 bytes\)")
    for ext in ("mp3", "wav", "flac"):
        p = folder / f"random.{ext}"
        p.write_bytes(rng.randbytes(16384))
        add(f"random-{ext}", p, False, r"not an audio file|damaged|no audio")
    (folder / "notes.ogg").write_text("These are my notes, not a song.\n" * 40)
    add("text-as-ogg", folder / "notes.ogg", False, r"not an audio file|damaged|no audio")
    p = folder / "two\nlines.mp3"
    p.write_bytes(rng.randbytes(4096))
    add("newline-in-name", p, False, r"not an audio file|damaged|no audio")
    (folder / "x.mp3").mkdir()
    add("directory", folder / "x.mp3", False, r"is a directory")
    (folder / "gone.mp3").symlink_to(folder / "does-not-exist.mp3")
    add("broken-symlink", folder / "gone.mp3", False, r"broken symbolic link")
    (folder / "loop-a.mp3").symlink_to("loop-b.mp3")
    (folder / "loop-b.mp3").symlink_to("loop-a.mp3")
    add("symlink-loop", folder / "loop-a.mp3", False, r"symbolic links")
    os.mkfifo(folder / "pipe.mp3")
    add("fifo", folder / "pipe.mp3", False, r"not a regular file")
    p = write_sf(folder / "locked.wav", sine(1.0, 8000), 8000)
    p.chmod(0)
    add("unreadable", p, False, r"permission denied", needs_non_root=True)

    # -- damaged audio: what is there must still be usable -------------------------------------------
    whole = encode(folder / "whole.mp3", sine(10.0, 22050), 22050, "-c:a", "libmp3lame", "-b:a", "32k")
    data = whole.read_bytes()
    (folder / "truncated.mp3").write_bytes(data[: len(data) // 2])
    whole.unlink()
    add("truncated-mp3", folder / "truncated.mp3", True, "half of a 10 s mp3", duration=5.0, warns=True)
    wav_claiming_more(folder / "short-data.wav", claimed_seconds=10.0, present_seconds=1.0)
    add(
        "wav-header-claims-more",
        folder / "short-data.wav",
        True,
        "header says 10 s, 1 s present",
        duration=1.0,
        warns=True,
    )

    # -- video containers ----------------------------------------------------------------------------
    for ext in ("mp4", "mkv"):
        p = folder / f"video-with-audio.{ext}"
        ffmpeg(
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=64x48:rate=10:duration=2",
            "-f",
            "lavfi",
            "-i",
            "sine=f=440:sample_rate=22050:duration=2",
            "-shortest",
            "-c:v",
            "mpeg4",
            "-c:a",
            "aac",
            str(p),
        )
        add(f"video-with-audio-{ext}", p, True, "a video with a sound track", duration=2.0)
    p = folder / "video-only.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=1", "-c:v", "mpeg4", str(p))
    add("video-without-audio", p, False, r"no audio stream")

    # -- names ---------------------------------------------------------------------------------------
    sub = folder / "My Music ñ"
    sub.mkdir()
    p = encode(sub / "Café del Mar – live 🎵 (1).mp3", sine(2.0, 22050), 22050, "-c:a", "libmp3lame")
    add("spaces-non-ascii-emoji", p, True, "spaces, non-ASCII and emoji in the path", duration=2.0)
    p = Path(os.fsdecode(os.fsencode(folder) + b"/caf\xe9 latin-1.wav"))  # libsndfile cannot open such names
    write_sf(folder / "latin-1.wav", sine(1.0, 8000), 8000).rename(p)
    add("non-utf8-name", p, True, "a file name that is not UTF-8 (Latin-1 bytes)", duration=1.0)
    for name in ("-i", "-i.mp3", "http:x.mp3"):  # read as an option or a URL, these would break ffmpeg
        p = encode(folder / name, sine(1.0, 8000), 8000, "-f", "mp3")
        add(f"named {name}", p, True, "a name that looks like an option or a URL", duration=1.0)

    # -- unusual but valid signals -------------------------------------------------------------------
    p = folder / "silence-5min.flac"
    write_sf(p, np.zeros((5 * 60 * 22050, 1), np.float32), 22050)
    add("silence-5min", p, True, "5 minutes of digital silence", duration=300.0)
    add("short-0.1s", write_sf(folder / "short.wav", sine(0.1, 22050), 22050), True, "0.1 s", duration=0.1)
    add(
        "constant-tone",
        write_sf(folder / "tone.wav", sine(20.0, 22050), 22050),
        True,
        "one 440 Hz tone, 20 s",
        duration=20.0,
    )
    add(
        "dc-offset",
        write_sf(folder / "dc.wav", np.full((10 * 22050, 1), 0.5, np.float32), 22050),
        True,
        "a constant 0.5: DC only",
        duration=10.0,
    )
    sq = np.clip(3.0 * np.sign(sine(10.0, 22050, freq=110.0)), -1.0, 1.0)
    add(
        "clipped-square",
        write_sf(folder / "square.wav", sq, 22050),
        True,
        "a full-scale clipped square wave",
        duration=10.0,
    )
    add("8k-mono", write_sf(folder / "mono8k.wav", sine(5.0, 8000), 8000), True, "8 kHz mono", duration=5.0)
    p = write_sf(folder / "hires-8ch.wav", sine(2.0, 192000, channels=8), 192000, subtype="FLOAT")
    add("192k-float-8ch", p, True, "192 kHz, 32-bit float, 8 channels", duration=2.0)
    if long:
        add("three-hours", long_mp3(folder / "three-hours.mp3"), False, r"too long")
    assert tuple(c.name for c in cases) == NAMES[: len(cases)]
    return cases


if __name__ == "__main__":  # pragma: no cover - a tool for people
    if len(sys.argv) != 2:
        sys.exit("usage: python tests/badfiles.py FOLDER")
    for c in make_cases(Path(sys.argv[1])):
        print(f"{'valid' if c.valid else 'error':5}  {c.name:26} {c.path}")
