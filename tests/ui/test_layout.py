"""The window at its default 1440×900 (issue 15.9): pane shares, the log only when it has something,
every panel in View, one "Recommendations" title, no cut labels."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from explorer.ui.common.settings import Settings
from explorer.ui.layout import DOCK_SHARES
from explorer.ui.main_window import MainWindow
from tests.ui.screenshot_app import cut_labels

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def fresh(qtbot, library):
    """A first start: no saved layout, on the scanned library."""
    w = MainWindow(Settings(), library)
    w.auto_analyze = False
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    qtbot.waitUntil(lambda: w.library_pane.model.total() == 6, timeout=10000)
    yield w
    w.close()


def _settle(qtbot):
    for _ in range(3):
        QApplication.processEvents()
        qtbot.wait(20)


def test_default_layout_gives_the_panes_their_shares(qtbot, fresh, scanned):
    w = fresh
    _settle(qtbot)
    assert (w.width(), w.height()) == (1440, 900)
    lib, side = w.library_dock.width(), w.sidebar_dock.width()
    assert lib == pytest.approx(DOCK_SHARES["libraryDock"] * 1440, abs=30)
    assert side == pytest.approx(DOCK_SHARES["sidebarDock"] * 1440, abs=30)
    # the library shows a song's rating and analysis state without scrolling
    header = w.library_pane.view.horizontalHeader()
    from explorer.ui.library.model import COL_RATING, COL_STATE, COL_TITLE
    from explorer.ui.library.pane import _WIDTH_CHARS

    for col in (COL_RATING, COL_STATE):
        assert header.sectionViewportPosition(col) + header.sectionSize(col) <= w.library_pane.view.viewport().width()
    # the song's name takes what the pane has to spare (it had 20 characters, "147793__setuni…", at any width)
    char = w.library_pane.view.fontMetrics().averageCharWidth()
    title_1440 = header.sectionSize(COL_TITLE)
    state_end = header.sectionViewportPosition(COL_STATE) + header.sectionSize(COL_STATE)
    assert title_1440 > _WIDTH_CHARS[COL_TITLE] * char
    assert state_end >= w.library_pane.view.viewport().width() - 2
    # a wider window widens the panes too, in proportion, and the name with them
    w.resize(1920, 1080)
    _settle(qtbot)
    assert w.library_dock.width() == pytest.approx(lib * 1920 / 1440, abs=30)
    assert w.sidebar_dock.width() == pytest.approx(side * 1920 / 1440, abs=30)
    assert header.sectionSize(COL_TITLE) > title_1440 + 50
    # a column hidden from the column menu leaves its room to the name
    w.resize(1440, 900)
    _settle(qtbot)
    header.setSectionHidden(COL_RATING, True)
    _settle(qtbot)
    assert header.sectionSize(COL_TITLE) > title_1440
    header.setSectionHidden(COL_RATING, False)
    _settle(qtbot)
    assert header.sectionSize(COL_TITLE) == title_1440
    w.resize(1920, 1080)
    _settle(qtbot)
    # a width the user gives the column stays when the window changes
    header.resizeSection(COL_TITLE, 140)
    w.resize(1440, 900)
    _settle(qtbot)
    assert header.sectionSize(COL_TITLE) == 140
    # the sidebar's modes never scroll: the pane does not get narrower than them
    tabs = w.sidebar.mode_tabs
    assert not tabs.usesScrollButtons()
    assert w.sidebar.minimumSizeHint().width() >= sum(tabs.tabSizeHint(i).width() for i in range(tabs.count()))


def test_log_only_when_it_has_something_and_every_panel_in_view(qtbot, fresh):
    w = fresh
    assert not w.log_dock.isVisible() and not w.log_button.isVisible()
    w.show_error("song.mp3: cannot decode")
    assert w.log_button.isVisible() and w.log_button.text() == "Log (1)"
    qtbot.mouseClick(w.log_button, Qt.MouseButton.LeftButton)
    assert w.log_dock.isVisible()
    w.log_panel.clear()
    assert not w.log_button.isVisible()
    view = next(a.menu() for a in w.menuBar().actions() if a.text() == "&View")
    panels = next(a.menu() for a in view.actions() if a.menu() is not None and a.text() == "Panels")
    names = {a.text() for a in panels.actions()}
    assert {"Library", "Recommendations", "Log", "Self-similarity matrix", "Transport"} <= names
    matrix = next(a for a in panels.actions() if a.text() == "Self-similarity matrix")
    matrix.trigger()
    assert not w.matrix.isVisible()
    matrix.trigger()
    assert w.matrix.isVisible()


def test_one_recommendations_title_and_no_cut_labels(qtbot, fresh, scanned):
    w = fresh
    assert w.sidebar_dock.windowTitle() == "Recommendations"
    # no song: the list is "for you", and the pane's own title alone says "Recommendations"
    assert "Recommendations" not in w.sidebar.title_label.text()
    assert w.sidebar.title_label.text().startswith("For you")
    with qtbot.waitSignal(w.sidebar.recommendationsChanged, timeout=20000):
        w.sidebar.set_current(str(scanned[0] / "sine0.mp3"), None)
    assert w.sidebar.title_label.isVisible() and "Sine 0" in w.sidebar.title_label.text()
    w.library_pane.status_label.setText("Scan finished: 120 found, 118 analysed, 2 failed (215 s)")
    _settle(qtbot)
    assert cut_labels(w) == []


def test_the_song_header_names_a_song_as_the_library_does(qtbot, fresh, scanned):
    w = fresh
    path = str(scanned[0] / "square2.mp3")
    w.open_song(path)
    qtbot.waitUntil(lambda: w.song is not None, timeout=20000)
    # its tags, as in the library and the sidebar, not its file name; the file is in the tooltip
    assert w.title_label.text() == "Band 2 – Square 2"
    assert w.windowTitle().startswith("Band 2 – Square 2")
    assert path in w.title_label.toolTip()


def test_the_song_header_follows_a_scan_that_lists_the_song(qtbot, fresh, tmp_path):
    """A song opened before any scan listed it is named by its file; once a scan adds it to the library, the
    header and the window title name it by its tags, as the library does, without reopening it."""
    from conftest import write_audio

    from tests.ui.helpers import SR, family_song

    music = tmp_path / "new music"
    music.mkdir()
    path = music / "track07.mp3"
    write_audio(
        path,
        family_song("sine", 330.0, 7),
        SR,
        codec_args=("-metadata", "title=Late Tram", "-metadata", "artist=Nobody"),
    )
    w = fresh
    w.open_song(str(path))
    qtbot.waitUntil(lambda: w.song is not None, timeout=20000)
    assert w.title_label.text() == "track07.mp3"
    assert w.library_pane.start_scan([str(music)])
    qtbot.waitUntil(lambda: w.title_label.text() == "Nobody – Late Tram", timeout=60000)
    assert w.windowTitle().startswith("Nobody – Late Tram")
    assert str(path) in w.title_label.toolTip()


def test_a_long_song_name_is_shown_whole_with_its_figures_under_it(qtbot, fresh, tmp_path):
    """At 1440 px a long file name ended in "…" beside the song's figures; the figures now move under
    it, and go back beside a name short enough to leave room for them."""
    from conftest import write_audio

    from tests.ui.helpers import SR, family_song, make_known_analysis, open_and_wait

    w = fresh

    def show(path):
        write_audio(path, family_song("sine", 330.0, 3), SR)
        open_and_wait(qtbot, w, path)
        with qtbot.waitSignal(w.matrixReady, timeout=5000):
            w.set_analysis(make_known_analysis(str(path), w.song.buffer.duration))  # tempo, counts
        _settle(qtbot)

    long_path = tmp_path / "147793__setuniman__sweet-waltz-0i-22mi-for-a-string-quartet.mp3"
    show(long_path)
    assert "sections" in w.info_label.text() and w.song_header.two_lines()
    assert w.title_label.shown_text() == w.title_label.text() == long_path.name
    info = w.info_label
    assert info.fontMetrics().horizontalAdvance(info.text()) <= info.contentsRect().width()
    assert info.geometry().top() >= w.title_label.geometry().bottom()  # under the name, not over it
    assert cut_labels(w) == []
    show(tmp_path / "waltz.mp3")
    assert w.title_label.text() == "waltz.mp3" and "sections" in w.info_label.text()
    assert not w.song_header.two_lines()
    assert cut_labels(w) == []
