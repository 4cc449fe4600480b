"""The log panel: timestamped, levelled, read-only, copyable lines; icons follow a theme change."""

from __future__ import annotations

import re

from PySide6.QtGui import QGuiApplication

from explorer.ui.common import theme
from explorer.ui.common.log_panel import LogPanel


def test_log_lines_are_timestamped_levelled_and_copyable(qtbot):
    panel = LogPanel()
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.messageAppended) as sig:
        panel.append("error", "/music/bad <file>.mp3: cannot decode the file")
    assert sig.args == ["error", "/music/bad <file>.mp3: cannot decode the file"]
    panel.append("WARNING", "two\nlines")
    panel.append("shout", "unknown levels count as info")
    lines = panel.text().splitlines()
    assert re.fullmatch(r"\d\d:\d\d:\d\d ERROR /music/bad <file>\.mp3: cannot decode the file", lines[0])
    assert lines[1].endswith("WARNING two") and lines[2] == "lines"
    assert lines[3].endswith("INFO unknown levels count as info")
    assert panel.view.isReadOnly() and panel.line_count() == 3
    panel.copy_all()
    assert QGuiApplication.clipboard().text() == panel.text()
    panel.clear()
    assert panel.text() == "" and panel.line_count() == 0


def test_old_lines_are_dropped_beyond_the_limit(qtbot, monkeypatch):
    monkeypatch.setattr(LogPanel, "MAX_LINES", 50)
    panel = LogPanel()
    qtbot.addWidget(panel)
    for i in range(120):
        panel.append("info", f"line {i}")
    lines = panel.text().splitlines()
    assert len(lines) == 50 and lines[-1].endswith("line 119") and panel.line_count() == 120


def test_icons_follow_theme_change(qtbot, qapp):
    theme.apply_theme(qapp, "light")
    panel = LogPanel()
    qtbot.addWidget(panel)

    def darkest(icon):
        img = icon.pixmap(24, 24).toImage()
        return min(
            img.pixelColor(x, y).lightness() for x in range(24) for y in range(24) if img.pixelColor(x, y).alpha() > 200
        )

    assert darkest(panel.copy_button.icon()) < 80
    theme.apply_theme(qapp, "dark")
    qtbot.waitUntil(lambda: darkest(panel.copy_button.icon()) > 150)
    theme.apply_theme(qapp, "light")
