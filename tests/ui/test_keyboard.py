"""Transport and navigation keys work wherever the focus is, except in text fields (issue 15.10)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.ui.helpers import make_known_analysis, open_and_wait

pytestmark = pytest.mark.timeout(120)


def test_arrows_and_zoom_work_from_a_list_but_not_in_the_filter(qtbot, window, song_file):
    open_and_wait(qtbot, window, song_file)
    a = make_known_analysis(str(song_file), window.song.buffer.duration)
    window.set_analysis(a)
    table = window.library_pane.view
    table.setFocus()
    qtbot.waitUntil(table.hasFocus, timeout=2000)
    qtbot.keyClick(table, Qt.Key.Key_Right)
    assert window.waveform.selected() == pytest.approx((a.sections[1].start, a.sections[1].end))
    qtbot.keyClick(window.sidebar.view, Qt.Key.Key_Left)
    assert window.waveform.selected() == pytest.approx((a.sections[0].start, a.sections[0].end))
    span = window.waveform.view_range()
    qtbot.keyClick(table, Qt.Key.Key_Plus)
    zoomed = window.waveform.view_range()
    assert zoomed[1] - zoomed[0] < 0.9 * (span[1] - span[0])
    qtbot.keyClick(table, Qt.Key.Key_Minus)
    assert window.waveform.view_range()[1] - window.waveform.view_range()[0] > zoomed[1] - zoomed[0]
    # a text field keeps its keys: "+" and "→" type and move its cursor
    edit = window.library_pane.filter_edit
    edit.setFocus()
    qtbot.waitUntil(edit.hasFocus, timeout=2000)
    before = window.waveform.view_range()
    qtbot.keyClicks(edit, "a+b")
    qtbot.keyClick(edit, Qt.Key.Key_Left)
    assert edit.text() == "a+b" and edit.cursorPosition() == 2
    assert window.waveform.view_range() == pytest.approx(before)
    assert window.waveform.selected() == pytest.approx((a.sections[0].start, a.sections[0].end))


def test_esc_stops_looping_too(qtbot, window, song_file):
    open_and_wait(qtbot, window, song_file)
    window.act_loop.setChecked(True)
    window.library_pane.view.setFocus()
    qtbot.keyClick(window.library_pane.view, Qt.Key.Key_Escape)
    assert not window.act_loop.isChecked()
