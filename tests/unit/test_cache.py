"""The analysis cache: keyed by content, atomic, checksummed; anything damaged is a miss."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

from explorer.analysis.types import Analysis, Chorus, Genre, Section
from explorer.library.cache import AnalysisCache, content_hash


def _analysis(path="song.wav") -> Analysis:
    rng = np.random.default_rng(0)
    return Analysis(
        file=path,
        duration=12.5,
        sample_rate=22050,
        channels=2,
        tempo=120.0,
        beats=(0.5, 1.0, 1.5),
        sections=(Section(0.0, 6.0, "A", "verse", 0.8), Section(6.0, 12.5, "B", "chorus", 0.9)),
        choruses=(Chorus(6.0, 12.5, 0.9),),
        genre=Genre("jazz", {"jazz": 0.8, "rock": 0.2}),
        version="test",
        recurrence=rng.random((4, 4), dtype=np.float32),
        recurrence_times=np.linspace(0, 12.5, 5),
        embedding=rng.random(16, dtype=np.float32),
    )


@pytest.fixture
def song(tmp_path):
    p = tmp_path / "song.wav"
    p.write_bytes(b"RIFF" + os.urandom(2000))
    return p


def test_round_trip_keeps_json_and_arrays(tmp_path, song):
    cache = AnalysisCache(tmp_path / "c")
    a = _analysis(str(song))
    cache.store_file(song, a)
    b = cache.lookup_file(song)
    assert b is not None
    assert b.to_dict() == a.to_dict()
    for name in ("recurrence", "recurrence_times", "embedding"):
        np.testing.assert_array_equal(getattr(b, name), getattr(a, name))
    assert not [p for p in (tmp_path / "c").rglob("*") if p.name.startswith(".tmp-")]


def test_copy_under_another_name_is_a_hit_naming_the_new_file(tmp_path, song):
    cache = AnalysisCache(tmp_path / "c")
    cache.store_file(song, _analysis(str(song)))
    copy = tmp_path / "renamed copy.wav"
    shutil.copy(song, copy)
    hit = cache.lookup_file(copy)
    assert hit is not None and hit.file == str(copy)


def test_changed_content_is_a_miss(tmp_path, song):
    cache = AnalysisCache(tmp_path / "c")
    cache.store_file(song, _analysis(str(song)))
    with open(song, "ab") as f:
        f.write(b"x")
    assert cache.lookup_file(song) is None


def test_other_params_or_version_is_a_miss(tmp_path, song):
    AnalysisCache(tmp_path / "c").store_file(song, _analysis(str(song)))
    assert AnalysisCache(tmp_path / "c", params={"hop_length": 256}).lookup_file(song) is None
    other = AnalysisCache(tmp_path / "c")
    other.version = "another version"
    assert other.lookup_file(song) is None
    assert AnalysisCache(tmp_path / "c").lookup_file(song) is not None


@pytest.mark.parametrize("damage", ["flip", "truncate", "garbage", "empty"])
def test_damaged_entry_is_a_miss_and_is_removed(tmp_path, song, damage):
    cache = AnalysisCache(tmp_path / "c")
    h = content_hash(song)
    cache.store(h, _analysis())
    entry = cache.entry_path(h)
    data = bytearray(entry.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0x40
    elif damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "garbage":
        data = bytearray(os.urandom(len(data)))
    else:
        data = bytearray()
    entry.write_bytes(bytes(data))
    assert cache.lookup(h) is None
    assert not entry.exists()
    cache.store(h, _analysis())
    assert cache.lookup(h) is not None


def test_entry_under_a_wrong_key_is_a_miss(tmp_path, song):
    """A valid entry copied to another key's place (checksum fine) must not be served for it."""
    cache = AnalysisCache(tmp_path / "c")
    cache.store("a" * 32, _analysis())
    target = cache.entry_path("b" * 32)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(cache.entry_path("a" * 32), target)
    assert cache.lookup("b" * 32) is None


def test_unwritable_cache_is_not_fatal(tmp_path, song):
    blocker = tmp_path / "c"
    blocker.write_text("a file where the folder should be")
    cache = AnalysisCache(blocker)
    cache.store_file(song, _analysis())
    assert cache.lookup_file(song) is None


def test_default_folder_is_in_the_user_cache(monkeypatch, tmp_path):
    from explorer.library.cache import default_cache

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert str(default_cache().folder).startswith(str(tmp_path / "xdg"))


def test_a_part_file_left_by_a_killed_writer_goes_when_the_entry_is_written(tmp_path, song):
    """A worker killed while it wrote an entry leaves ``.tmp-<entry>.<random>.mxpart``; the next store of that
    entry (the song is analysed again, since it has none) removes it once it is old, and leaves a fresh one."""
    cache = AnalysisCache(tmp_path / "c")
    entry = cache.entry_path(content_hash(song))
    entry.parent.mkdir(parents=True)
    stale = entry.parent / f".tmp-{entry.name}.abcd1234.mxpart"
    fresh = entry.parent / f".tmp-{entry.name}.efgh5678.mxpart"
    stale.write_bytes(b"half an entry")
    fresh.write_bytes(b"another writer, still at work")
    os.utime(stale, (1e9, 1e9))
    cache.store_file(song, _analysis(str(song)))
    assert not stale.exists()
    assert fresh.exists()
    assert cache.lookup_file(song) is not None
