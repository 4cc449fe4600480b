"""ffmpeg opens the one file it is given, as an audio container, whatever the file's content claims to be: a
playlist or a concat script named like a song never makes it read another file; and complaints about a file's
other streams (a broken cover picture) are not reported as damaged sound."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest
from badfiles import encode, ffmpeg, sine

from explorer.audio.decode import decode
from explorer.errors import UnsupportedFormat


@pytest.fixture
def other_song(tmp_path):
    """A song elsewhere on the disk whose reads can be seen: its access time is set before its modification
    time, so the next read moves it (Linux's relatime does that; checked here, skipped on noatime)."""
    (tmp_path / "elsewhere").mkdir()
    secret = encode(tmp_path / "elsewhere" / "private.mp3", sine(3.0, 22050), 22050)

    def untouched_since_reset() -> bool:
        return os.stat(secret).st_atime == 1.0

    def reset() -> None:
        os.utime(secret, (1.0, os.stat(secret).st_mtime))

    reset()
    with open(secret, "rb") as f:
        f.read(16)
    if untouched_since_reset():
        pytest.skip("this file system does not record reads (noatime)")
    reset()
    return SimpleNamespace(path=secret, untouched=untouched_since_reset)


def test_hls_playlist_named_mp3_is_refused_and_reads_nothing_else(tmp_path, other_song):
    playlist = tmp_path / "song.mp3"
    playlist.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:3,\n{other_song.path}\n#EXT-X-ENDLIST\n")
    with pytest.raises(UnsupportedFormat) as e:
        decode(playlist)
    assert (
        str(e.value) == f"{playlist}: is not an audio file (it is an HLS playlist, which Music Explorer does not open)"
    )
    assert other_song.untouched()


def test_live_hls_playlist_is_refused_at_once(tmp_path, other_song):
    # no #EXT-X-ENDLIST: ffmpeg would wait for the next segment until the watchdog killed it
    playlist = tmp_path / "live.mp3"
    playlist.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n{other_song.path}\n")
    with pytest.raises(UnsupportedFormat, match="an HLS playlist"):
        decode(playlist)
    assert other_song.untouched()


def test_ffconcat_script_named_mp3_is_refused(tmp_path, other_song):
    script = tmp_path / "elsewhere" / "list.mp3"  # next to the song it names
    script.write_text("ffconcat version 1.0\nfile private.mp3\n")
    with pytest.raises(UnsupportedFormat) as e:
        decode(script)
    assert (
        str(e.value) == f"{script}: is not an audio file (it is an ffconcat script, which Music Explorer does not open)"
    )
    assert "\n" not in str(e.value)
    assert other_song.untouched()


def test_broken_cover_picture_is_not_damaged_sound(tmp_path):
    song = encode(tmp_path / "plain.mp3", sine(2.0, 22050), 22050)
    cover = tmp_path / "cover.jpg"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x64:d=1", "-frames:v", "1", str(cover))
    data = bytearray(cover.read_bytes())
    for i in range(len(data) // 3, len(data) - 2):  # keep the JPEG markers at both ends, scramble the rest
        data[i] = (data[i] * 7 + 13) & 0xFF
    cover.write_bytes(bytes(data))
    covered = tmp_path / "covered.mp3"
    ffmpeg(
        "-i",
        str(song),
        "-i",
        str(cover),
        "-map",
        "0",
        "-map",
        "1",
        "-c",
        "copy",
        "-id3v2_version",
        "3",
        "-disposition:v",
        "attached_pic",
        str(covered),
    )
    b = decode(covered)
    assert b.warnings == ()
    assert b.duration == pytest.approx(decode(song).duration)
