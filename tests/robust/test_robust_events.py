"""A file that changes, or disappears, while it is being read or analysed: a clear error or a right result —
never a crash, and never a result (or cache entry) that belongs to other bytes than the ones analysed."""

from __future__ import annotations

import os
import sys

import pytest
from badfiles import rewrite_with, sine, write_sf
from procs import children, read

from explorer.audio import decode as decode_module
from explorer.audio.decode import decode
from explorer.errors import DecodeError, ExplorerError, FileMissing


def inside_decode() -> bool:
    """True when called (as a cancel poll) from the loop that reads ffmpeg's output."""
    return sys._getframe(2).f_code.co_name == "_run_ffmpeg"


def once(action, *, at: int = 1):
    """A cancel callback that runs ``action`` at its ``at``-th poll inside the decoding loop (the first comes
    before ffmpeg has opened the file, the second after the first block has arrived); it never cancels."""
    polls = []

    def cancel():
        if inside_decode():
            polls.append(True)
            if len(polls) == at:
                action()
        return False

    return cancel


@pytest.fixture
def song(tmp_path):
    return write_sf(tmp_path / "song.wav", sine(6.0, 22050), 22050)


def test_changed_while_decoding_is_reported(song):
    cancel = once(lambda: rewrite_with(song, sine(3.0, 22050, freq=660.0), 22050))
    with pytest.raises(DecodeError, match=r"song\.wav: the file changed while it was being read"):
        decode(song, cancel=cancel, block_seconds=0.5)
    assert decode(song).duration == pytest.approx(3.0)  # once it is still, the new content is read


def test_deleted_while_decoding_gives_the_whole_song(song):
    buffer = decode(song, cancel=once(lambda: os.unlink(song), at=2), block_seconds=0.5)
    assert buffer.duration == pytest.approx(6.0)  # ffmpeg holds the file open: nothing is lost
    assert "deleted while it was being read" in buffer.warnings[-1]


def test_deleted_before_ffmpeg_opens_it(song, monkeypatch):
    real_probe = decode_module.probe

    def probe_then_delete(path):
        info = real_probe(path)
        os.unlink(path)
        return info

    monkeypatch.setattr(decode_module, "probe", probe_then_delete)
    with pytest.raises(FileMissing, match=r"song\.wav: was deleted while it was being read"):
        decode(song)


def test_analyze_path_never_caches_other_bytes(song, tmp_path):
    """The content hash is taken before decoding; a rewrite during decoding must not store the new
    song's analysis under the old song's hash (the next open of the old song would show the wrong one)."""
    from explorer.library.cache import AnalysisCache, content_hash
    from explorer.services.analyze import analyze_path

    cache = AnalysisCache(tmp_path / "cache")
    old_hash = content_hash(song)
    with pytest.raises(DecodeError, match="changed while it was being read"):
        analyze_path(song, cache=cache, cancel=once(lambda: rewrite_with(song, sine(3.0, 22050), 22050)))
    assert cache.lookup(old_hash) is None
    result = analyze_path(song, cache=cache)
    assert result.duration == pytest.approx(3.0)
    assert cache.lookup(content_hash(song)).duration == pytest.approx(3.0)


def test_analyze_path_deleted_mid_analysis(song, tmp_path):
    from explorer.library.cache import AnalysisCache
    from explorer.services.analyze import analyze_path

    try:
        result = analyze_path(song, cache=AnalysisCache(tmp_path / "cache"), cancel=once(lambda: os.unlink(song)))
    except ExplorerError as e:  # a clear sentence naming the file is the other acceptable outcome
        assert e.message.startswith(f"{song}: ") and "\n" not in e.message
    else:
        assert result.duration == pytest.approx(6.0)


def test_cli_analyze_file_deleted_mid_analysis(song):
    """The CLI's own entry (cache on): the result, or one ExplorerError sentence — never another exception."""
    from explorer.cli.main import analyze_file

    try:
        result = analyze_file(str(song), cancel=once(lambda: os.unlink(song)))
    except ExplorerError as e:
        assert e.message.startswith(f"{song}: ") and "\n" not in e.message
    else:
        assert result.duration == pytest.approx(6.0)


def ffmpeg_children() -> list[int]:
    """ffmpeg/ffprobe processes whose parent is this test process (zombies included)."""
    return [pid for pid in children(os.getpid()) if read(pid, "comm").startswith(b"ff")]


@pytest.mark.parametrize("interruption", ["cancel", "timeout", "too-long"])
def test_interrupted_decode_leaves_no_ffmpeg_behind(interruption, tmp_path, monkeypatch):
    from explorer.errors import Cancelled, TooLong

    song = write_sf(tmp_path / "long.flac", sine(60.0, 22050), 22050)
    kw = {"block_seconds": 0.1}
    if interruption == "cancel":
        polls = []
        kw["cancel"] = lambda: polls.append(1) or len(polls) > 3
        expected = Cancelled
    elif interruption == "timeout":
        monkeypatch.setattr(decode_module, "DECODE_TIMEOUT_BASE", 0.05)
        monkeypatch.setattr(decode_module, "DECODE_TIMEOUT_PER_SECOND", 0.0)
        expected = DecodeError
    else:
        kw["max_duration"] = 30.0
        expected = TooLong
    with pytest.raises(expected, match=r"long\.flac: "):
        decode(song, **kw)
    assert ffmpeg_children() == []


def test_scan_of_a_file_rewritten_mid_analysis(song, tmp_path):
    """The scanner records the change as a failure with its reason, and the next scan analyses the new content."""
    from explorer.library.store import Library
    from explorer.services.scan import scan

    db, cache = tmp_path / "library.sqlite", tmp_path / "cache"
    cancel = once(lambda: rewrite_with(song, sine(3.0, 22050, freq=660.0), 22050))
    report = scan([song.parent], db_path=db, workers=0, cache_folder=cache, cancel=cancel)
    assert [(p, r) for p, r in report.failures] == [(str(song), report.failures[0][1])]
    assert report.failures[0][1].startswith(f"{song}: ") and "changed" in report.failures[0][1]
    report = scan([song.parent], db_path=db, workers=0, cache_folder=cache)
    assert report.analysed == 1 and not report.failures
    with Library(db, cache=None) as lib:
        track = lib.track_by_path(song)
    assert track.state == "analysed" and track.duration == pytest.approx(3.0)


def test_scan_of_a_file_deleted_mid_analysis(song, tmp_path):
    from explorer.library.store import Library
    from explorer.services.scan import scan

    db, cache = tmp_path / "library.sqlite", tmp_path / "cache"
    report = scan([song.parent], db_path=db, workers=0, cache_folder=cache, cancel=once(lambda: os.unlink(song), at=2))
    assert not report.cancelled
    assert report.analysed + report.failed == 1
    if report.failures:
        assert report.failures[0][1].startswith(f"{song}: ")
    report = scan([song.parent], db_path=db, workers=0, cache_folder=cache)
    assert report.missing == 1
    with Library(db, cache=None) as lib:
        assert lib.track_by_path(song).state == "missing"
