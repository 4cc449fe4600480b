"""The settings file is text, read as text: a value that QSettings would turn into a Python object (and so run
code a crafted file carries) is ignored with a warning when the window starts."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(180)


class _CreatesMarker:
    """Unpickling this runs ``open(marker, "w")``: the marker file appears if anyone unpickles it."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _crafted_settings(marker) -> str:
    """A settings file in the user's config folder whose theme is a pickled object, written as PySide writes any
    Python object (``@Variant(…PySide::PyObjectWrapper…)``); returns its path."""
    from PySide6.QtCore import QSettings

    from explorer.ui.common.settings import settings_path

    path = settings_path()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    q = QSettings(path, QSettings.Format.IniFormat)  # writing a fresh file parses nothing
    q.setValue("last_folder", "/music")
    q.setValue("theme", _CreatesMarker(marker))
    q.setValue("layout/state", _CreatesMarker(marker))
    q.sync()
    del q
    text = Path(path).read_text("utf-8", "replace")
    assert "@Variant(" in text and "PyObjectWrapper" in text, text
    return path


def test_a_pickled_value_in_the_settings_is_never_unpickled(qtbot, tmp_path, caplog):
    from explorer.app import build_window

    marker = tmp_path / "unpickled"
    path = _crafted_settings(marker)
    with caplog.at_level(logging.WARNING, logger="explorer.ui.common.settings"):
        _, w = build_window([])
        qtbot.addWidget(w)
        try:
            qtbot.waitExposed(w)
            assert w.settings.get("theme") == "system"  # the declared default
            assert w.settings.get("last_folder") == "/music"  # the plain values are kept
            w.settings.sync()
        finally:
            w.close()
    assert not marker.exists()
    ignored = [r.getMessage() for r in caplog.records if "ignored the stored value" in r.getMessage()]
    assert any("'theme'" in m for m in ignored) and any("'layout/state'" in m for m in ignored), ignored
    assert "PyObjectWrapper" not in Path(path).read_text("utf-8", "replace")  # saved without it


def test_each_setting_is_read_as_its_plain_type_only(tmp_path, caplog):
    from explorer.ui.common.settings import Settings

    path = tmp_path / "settings.ini"
    path.write_text(
        '[General]\nfollow_playhead=maybe\ntheme=@Rect(1 2 3 4)\nlast_song="/a, b.mp3"\n'
        "last_folder=one,two\nschema_version=@Variant(\\0\\0\\0\\x2\\0\\0\\0\\x1)\n"
        "[layout]\ngeometry=@ByteArray(\\0\\x1\\xff)\nstate=not base64!\nsplitter=AAEC\n"
    )
    with caplog.at_level(logging.WARNING, logger="explorer.ui.common.settings"):
        s = Settings(str(path))
    assert s.get("follow_playhead") is True and s.get("theme") == "system"  # defaults for what is not plain
    assert s.get("last_song") == "/a, b.mp3" and s.get("last_folder") == ""
    assert bytes(s.get("layout/geometry")) == b"\x00\x01\xff"  # the layout as QSettings stored it: bytes
    assert s.get("layout/state").isEmpty() and bytes(s.get("layout/splitter")) == b"\x00\x01\x02"
    warned = " ".join(r.getMessage() for r in caplog.records)
    for name in ("follow_playhead", "theme", "last_folder", "schema_version", "layout/state"):
        assert f"'{name}'" in warned
