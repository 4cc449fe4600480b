"""The dark and light themes, and the icons every widget uses."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QPalette

from explorer.ui.common import theme

ICONS = (
    "music-explorer",
    "play",
    "pause",
    "stop",
    "loop",
    "like",
    "dislike",
    "folder",
    "folder-add",
    "open",
    "cancel",
    "search",
    "refresh",
    "log",
    "zoom-in",
    "zoom-out",
    "export",
    "info",
    "warning",
    "error",
)


@pytest.mark.parametrize("mode, dark", [("dark", True), ("light", False)])
def test_modes_set_palette_of_that_darkness(qapp, mode, dark):
    assert theme.apply_theme(qapp, mode) == mode
    p = qapp.palette()
    assert (p.color(QPalette.Window).lightness() < 128) is dark
    # Text must stand out from what it is drawn on (WCAG-ish luminance gap).
    assert abs(p.color(QPalette.Text).lightness() - p.color(QPalette.Base).lightness()) > 150
    assert abs(p.color(QPalette.WindowText).lightness() - p.color(QPalette.Window).lightness()) > 150
    assert theme.is_dark() is dark


def test_system_mode_follows_system_and_bad_mode_is_refused(qapp):
    applied = theme.apply_theme(qapp, "system")
    assert applied in ("dark", "light")
    assert (qapp.palette().color(QPalette.Window).lightness() < 128) is (applied == "dark")
    with pytest.raises(ValueError):
        theme.apply_theme(qapp, "purple")


def test_icons_render_in_theme_text_colour(qapp):
    theme.apply_theme(qapp, "dark")
    for name in ICONS:
        ic = theme.icon(name)
        assert not ic.isNull(), name
        img = ic.pixmap(32, 32).toImage()
        assert any(img.pixelColor(x, y).alpha() > 0 for x in range(32) for y in range(32)), name

    # A monochrome icon is drawn in the text colour of the theme: light on dark, dark on light.
    def brightest_opaque(img):
        return max(
            img.pixelColor(x, y).lightness()
            for x in range(img.width())
            for y in range(img.height())
            if img.pixelColor(x, y).alpha() > 200
        )

    on_dark = brightest_opaque(theme.icon("stop").pixmap(32, 32).toImage())
    theme.apply_theme(qapp, "light")
    on_light = brightest_opaque(theme.icon("stop").pixmap(32, 32).toImage())
    assert on_dark > 180 > 60 > on_light
    with pytest.raises(FileNotFoundError):
        theme.icon("no-such-icon")


def test_resources_dir_in_bundle(monkeypatch, tmp_path):
    monkeypatch.setattr("sys._MEIPASS", str(tmp_path), raising=False)
    assert theme.resources_dir() == tmp_path / "resources"
