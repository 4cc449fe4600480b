"""Library housekeeping (issue 15.11): Rescan, one "Add folder…" that remembers where it was, the
recommendation tab restored."""

from __future__ import annotations

import pytest
from conftest import write_audio
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from explorer.ui.common.settings import Settings
from explorer.ui.main_window import MainWindow
from tests.ui.helpers import SR, family_song

pytestmark = pytest.mark.timeout(300)


def test_rescan_finds_new_and_missing_songs(qtbot, window, tmp_path):
    pane = window.library_pane
    pane.scan_workers = 0
    music = tmp_path / "music"
    (music / "a").mkdir(parents=True)
    (music / "b").mkdir()
    write_audio(music / "a" / "one.mp3", family_song("sine", 220.0, 0, 3.0), SR)
    write_audio(music / "b" / "two.mp3", family_song("square", 880.0, 1, 3.0), SR)
    with qtbot.waitSignal(pane.scanFinished, timeout=120000):
        pane.start_scan([str(music)])
    qtbot.waitUntil(lambda: pane.model.total() == 2 and not pane.is_scanning(), timeout=10000)
    assert pane.folders() == [str(music / "a"), str(music / "b")]
    write_audio(music / "a" / "three.mp3", family_song("noise", 0.0, 2, 3.0), SR)
    (music / "b" / "two.mp3").unlink()
    assert [a.text() for a in window.menuBar().actions()[0].menu().actions()][:3] == [
        "&Open…",
        "&Add folder…",
        "&Rescan library",
    ]
    with qtbot.waitSignal(pane.scanFinished, timeout=120000) as sig:
        window.act_rescan.trigger()
    assert (sig.args[0].added, sig.args[0].missing) == (1, 1)
    qtbot.waitUntil(lambda: pane.model.total() == 3, timeout=10000)
    assert pane.model.data(pane.model.index(pane.model.row_of(str(music / "b" / "two.mp3")), 7)) == "Missing"
    # the file is put back at its path: the next rescan brings the song back and says so
    qtbot.waitUntil(lambda: not pane.is_scanning(), timeout=10000)  # a rescan during a scan is not started
    write_audio(music / "b" / "two.mp3", family_song("square", 880.0, 1, 3.0), SR)
    with qtbot.waitSignal(pane.scanFinished, timeout=120000) as sig:
        window.act_rescan.trigger()
    assert sig.args[0].returned == 1
    assert "1 back" in pane.status_label.text()
    qtbot.waitUntil(
        lambda: pane.model.data(pane.model.index(pane.model.row_of(str(music / "b" / "two.mp3")), 7)) != "Missing",
        timeout=10000,
    )


def test_add_folder_is_one_command_that_remembers_where_it_was(qtbot, window, tmp_path, monkeypatch):
    asked = []

    def dialog(parent, caption, start):
        asked.append((caption, start))
        return str(tmp_path)

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(dialog))
    monkeypatch.setattr(window.library_pane, "start_scan", lambda folders: True)
    window.song_path = "/somewhere/else.mp3"  # a song on screen: adding a folder does not replace it
    qtbot.mouseClick(window.library_pane.add_button, Qt.MouseButton.LeftButton)  # the library's button …
    window.act_open_folder.trigger()  # … and File ▸ Add folder… are the same command
    assert [c for c, _ in asked] == ["Add a folder of songs"] * 2
    assert asked[1][1] == str(tmp_path)  # the second dialog starts where the first one ended
    assert window.library_pane.add_button.text() == "Add folder…" == window.act_open_folder.text().replace("&", "")


def test_the_chosen_recommendation_tab_comes_back(qtbot, library):
    w1 = MainWindow(Settings(), library)
    qtbot.addWidget(w1)
    tabs = w1.sidebar.mode_tabs
    tabs.setCurrentIndex(1)  # "Sounds like"
    assert w1.sidebar.mode == "sound"
    w1.close()
    w2 = MainWindow(Settings(), library)
    qtbot.addWidget(w2)
    try:
        assert w2.sidebar.mode == "sound" and w2.sidebar.mode_tabs.currentIndex() == 1
    finally:
        w2.close()
