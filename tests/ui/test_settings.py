"""Settings: set() never writes in the caller's thread, yet every change reaches the file."""

from __future__ import annotations

import time

import pytest
from timing import budget


def _on_disk(path, name):
    from PySide6.QtCore import QSettings

    return QSettings(str(path), QSettings.Format.IniFormat).value(name)


def test_set_returns_before_the_file_is_written_and_reads_see_it(tmp_path, monkeypatch):
    from explorer.ui.common import settings as mod

    path = tmp_path / "settings.ini"
    monkeypatch.setattr(mod.Settings, "WRITE_DELAY", 0.3)
    s = mod.Settings(str(path))
    s.set("last_song", "/music/ä song.flac")
    assert s.get("last_song") == "/music/ä song.flac"  # from memory at once
    assert _on_disk(path, "last_song") is None  # not written by set() itself
    deadline = time.monotonic() + budget(10)
    while _on_disk(path, "last_song") is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _on_disk(path, "last_song") == "/music/ä song.flac"  # the settings lane saved it


def test_sync_saves_everything_and_a_new_session_reads_it(tmp_path):
    from PySide6.QtCore import QByteArray

    from explorer.ui.common.settings import Settings

    path = tmp_path / "settings.ini"
    s = Settings(str(path))
    blob = QByteArray(b"\x00\x01geometry\xff")
    s.set("layout/geometry", blob)
    s.set("follow_playhead", False)
    s.set("theme", "dark")
    blob.append(b"changed after set")  # the saved value is the one given to set()
    s.sync()
    again = Settings(str(path))
    assert again.get("theme") == "dark"
    assert again.get("follow_playhead") is False
    assert bytes(again.get("layout/geometry")) == b"\x00\x01geometry\xff"
    assert again.get("last_folder") == ""  # never set: the declared default


def test_unknown_names_are_refused(tmp_path):
    from explorer.ui.common.settings import Settings

    s = Settings(str(tmp_path / "settings.ini"))
    with pytest.raises(KeyError):
        s.set("no such setting", 1)
    with pytest.raises(KeyError):
        s.get("no such setting")


def test_a_later_save_keeps_the_earlier_keys_and_leaves_no_temp_file(tmp_path):
    """Each save writes a copy of the file and renames it over the old one: nothing is lost between saves."""
    from explorer.ui.common.settings import Settings

    path = tmp_path / "sub" / "settings.ini"  # a folder that does not exist yet
    s = Settings(str(path))
    s.set("theme", "light")
    s.sync()
    s.set("last_folder", "/music/ü")
    s.sync()
    assert sorted(p.name for p in path.parent.iterdir()) == ["settings.ini"]
    again = Settings(str(path))
    assert again.get("theme") == "light" and again.get("last_folder") == "/music/ü"
