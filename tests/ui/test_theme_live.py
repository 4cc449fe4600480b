"""View ▸ Theme changes the whole window at once, plots and toolbar icons included (issue 15.2)."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from explorer.ui.common import theme
from tests.ui.helpers import make_known_analysis, open_and_wait

pytestmark = pytest.mark.timeout(120)


def _corner(widget) -> QColor:
    """The colour of a pixel near the top-right corner of ``widget`` as drawn (its background)."""
    QApplication.processEvents()
    img = widget.grab().toImage()
    return img.pixelColor(img.width() - 3, 3)


def _brightest(icon) -> int:
    img = icon.pixmap(32, 32).toImage()
    return max(
        img.pixelColor(x, y).lightness() for x in range(32) for y in range(32) if img.pixelColor(x, y).alpha() > 200
    )


def test_theme_switch_repaints_plots_and_icons(qtbot, window, song_file):
    open_and_wait(qtbot, window, song_file)
    with qtbot.waitSignal(window.matrixReady, timeout=5000):
        window.set_analysis(make_known_analysis(str(song_file), window.song.buffer.duration))
    for mode in ("light", "dark", "light"):
        window.set_theme(mode)
        c = theme.colors()
        base, text = QColor(c["base"]), QColor(c["text"])
        # a repaint may wait for the event loop's next turns (layout, then paint): wait for it, not for a fixed turn
        qtbot.waitUntil(lambda b=base: _corner(window.waveform).name() == b.name(), timeout=5000)
        qtbot.waitUntil(lambda b=base: _corner(window.matrix.plot).name() == b.name(), timeout=5000)
        assert window.waveform.detail.getAxis("bottom").textPen().color().name() == text.name()
        assert window.matrix.plot.getAxis("left").textPen().color().name() == text.name()
        # the toolbar's icons are drawn in the new text colour: light on dark, dark on light
        bright = _brightest(window.act_open.icon())
        assert (bright > 180) if mode == "dark" else (bright < 80), (mode, bright)
        # the structure's lines are recorded again in the new colours
        assert window.structure.handles[0].pen.color().rgb() == text.rgb()
