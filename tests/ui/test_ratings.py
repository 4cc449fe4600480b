"""Likes and dislikes in the library: a column, the context menu, the filter, an Undo (issue 15.6)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from explorer.ui.common.settings import Settings
from explorer.ui.library.model import COL_RATING, LibraryModel
from explorer.ui.main_window import MainWindow

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def win(qtbot, library):
    w = MainWindow(Settings(), library)
    w.auto_analyze = False
    qtbot.addWidget(w)
    w.resize(1440, 900)
    w.show()
    qtbot.waitUntil(lambda: w.library_pane.model.total() == 6, timeout=10000)
    yield w
    w.close()


def _rating_cell(pane, path) -> str:
    """What the rating cell shows: "👍" or "👎" for the theme's like or dislike icon drawn in it."""
    from PySide6.QtCore import Qt

    from explorer.ui.common import theme

    row = pane.model.row_of(path)
    if row is None:
        return ""
    index = pane.model.index(row, COL_RATING)
    assert index.data() == ""  # no emoji text: the font may have none
    icon = index.data(Qt.ItemDataRole.DecorationRole)
    if icon is None:
        assert index.data(Qt.ItemDataRole.AccessibleTextRole) == "not rated"
        return ""
    for name, shown in (("like", "👍"), ("dislike", "👎")):
        if icon.cacheKey() == theme.icon(name).cacheKey():
            assert index.data(Qt.ItemDataRole.AccessibleTextRole) == name + "d"
            return shown
    raise AssertionError("an icon that is neither like nor dislike")


def _action(menu, text):
    return next(a for a in menu.actions() if a.text() == text)


def test_rate_from_the_library_with_undo(qtbot, win, library, scanned):
    music = scanned[0]
    pane, sidebar = win.library_pane, win.sidebar
    seed, other = str(music / "sine0.mp3"), str(music / "sine1.mp3")
    with qtbot.waitSignal(sidebar.recommendationsChanged, timeout=20000):
        sidebar.set_current(seed, None)
    assert other in [it.path for it in sidebar.items()]
    # Dislike from the row's context menu: the column shows it, the sidebar follows without a click,
    # and the status line says what it did, with an Undo.
    menu = pane.build_context_menu(other)
    assert not _action(menu, "Dislike").isChecked()
    with qtbot.waitSignal(sidebar.recommendationsChanged, timeout=20000):
        _action(menu, "Dislike").trigger()
    qtbot.waitUntil(lambda: _rating_cell(pane, other) == "👎", timeout=10000)
    assert library.track_by_path(other).rating == -1
    qtbot.waitUntil(lambda: other not in [it.path for it in sidebar.items()] and sidebar.mode == "blend", timeout=10000)
    assert "Disliked" in win.status_label.text() and "Blend" in win.status_label.text()
    assert win.undo_rating_button.isVisible()
    assert _action(pane.build_context_menu(other), "Dislike").isChecked()
    # the filter finds rated songs
    pane.filter_edit.setText("is:disliked")
    pane._apply_filter()
    assert pane.model.rowCount() == 1 and pane.model.index(0, 0).data(LibraryModel.PathRole) == other
    pane.filter_edit.clear()
    pane._apply_filter()
    # the rating column sorts
    pane.view.sortByColumn(COL_RATING, Qt.SortOrder.AscendingOrder)  # liked first, disliked last
    assert pane.model.index(pane.model.rowCount() - 1, 0).data(LibraryModel.PathRole) == other
    # Undo gives the song its place back
    qtbot.mouseClick(win.undo_rating_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _rating_cell(pane, other) == "", timeout=10000)
    assert library.track_by_path(other).rating == 0
    qtbot.waitUntil(lambda: other in [it.path for it in sidebar.items()], timeout=10000)
    assert not win.undo_rating_button.isVisible()
    # a like from the sidebar shows in the library too
    row = [it.path for it in sidebar.items()].index(other)
    sidebar.rate(sidebar.items()[row].path, 1)
    qtbot.waitUntil(lambda: _rating_cell(pane, other) == "👍", timeout=10000)
    assert "Liked" in win.status_label.text()
