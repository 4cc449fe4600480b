"""Library ▸ Train genre model on my tags…: trains in the background, shows the report, relabels the window."""

from __future__ import annotations

import numpy as np
import pytest
from genregen import GENRES, write_genre_songs
from PySide6.QtCore import Qt

from explorer.genre.own import RULE
from explorer.library.store import Library
from explorer.ui.common.settings import Settings
from explorer.ui.main_window import MainWindow
from explorer.ui.train_dialog import TrainDialog

pytestmark = pytest.mark.timeout(600)


@pytest.fixture
def tagged_library(tmp_path):
    from explorer.library.cache import default_folder
    from explorer.services.scan import scan

    songs = tmp_path / "songs"
    write_genre_songs(songs)
    report = scan([songs], db_path=tmp_path / "library.sqlite", workers=0, cache_folder=default_folder())
    assert report.analysed == 15, report.failures
    lib = Library(tmp_path / "library.sqlite")
    yield lib, songs
    lib.close()


def _menu_action(window, menu_title: str, text: str):
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == menu_title)
    return next(a for a in menu.actions() if a.text() == text)


def test_training_from_the_window_shows_the_report_and_relabels(qtbot, tagged_library):
    lib, songs = tagged_library
    window = MainWindow(Settings(), lib)
    qtbot.addWidget(window)
    window.resize(1440, 900)
    window.show()
    song = str(songs / "noise" / "03.flac")
    with qtbot.waitSignal(window.jobEnded, timeout=60000):  # analysed and recorded: nothing left to race
        window.open_song(song)  # the training's relabelling
    assert window.analysis is not None
    # the shipped model knows no "noise", and says it is unsure rather than naming a wrong genre
    assert "noise" not in window.info_label.text() and "uncertain genre" in window.info_label.text()
    assert "best guess" in window.info_label.toolTip()

    _menu_action(window, "&Library", "Train genre model on my tags…").trigger()
    dialog = window.train_dialog
    assert isinstance(dialog, TrainDialog) and dialog.isVisible()
    with qtbot.waitSignal(dialog.switched, timeout=120000):
        pass
    report = dialog.report
    assert report is not None and report.genres == list(GENRES) and report.accuracy >= 0.9
    # the report, drawn: per-genre bars and the confusion matrix
    assert dialog.plots.isVisible() and "%" in dialog.summary.text()
    heights = dialog.bar_heights()
    assert heights["f1"] == pytest.approx([report.per_genre[g]["f1"] for g in GENRES])
    assert heights["precision"] == pytest.approx([report.per_genre[g]["precision"] for g in GENRES])
    assert np.array_equal(dialog.confusion_counts(), np.array(report.confusion))
    assert dialog.confusion_image.image.shape == (3, 3)
    assert "confusion matrix" in dialog.text.toPlainText()
    # the window follows: header, library pane and the sidebar's genre chart name the user's genres
    qtbot.waitUntil(lambda: "noise" in window.info_label.text(), timeout=10000)
    pane = window.library_pane
    qtbot.waitUntil(
        lambda: pane.model._by_path.get(song) is not None and pane.model._by_path[song].genre_label == "noise",
        timeout=10000,
    )
    assert {k for k, _ in window.sidebar.chart.probabilities} <= set(GENRES)

    # back to the shipped model
    with qtbot.waitSignal(dialog.switched, timeout=60000):
        qtbot.mouseClick(dialog.default_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "noise" not in window.info_label.text(), timeout=10000)
    assert lib.track_by_path(song).genre_label not in GENRES
    dialog.close()
    window.close()


def test_too_few_songs_is_said_in_the_dialog(qtbot, tmp_path):
    lib = Library(tmp_path / "empty.sqlite")
    dialog = TrainDialog(lib)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: not dialog.is_running(), timeout=30000)
    assert dialog.summary.text().startswith("Too few songs") and RULE in dialog.summary.text()
    assert not dialog.plots.isVisible()
    dialog.close()
    lib.close()
