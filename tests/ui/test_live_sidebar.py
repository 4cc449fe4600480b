"""The sidebar follows the library live: songs a scan adds, songs it finds missing, ratings (issue 15.1)."""

from __future__ import annotations

import pytest
from conftest import write_audio

from tests.ui.helpers import SR, family_song, open_and_wait

pytestmark = pytest.mark.timeout(300)


def _scan(qtbot, window, folder) -> None:
    with qtbot.waitSignal(window.library_pane.scanFinished, timeout=180000) as blocker:
        assert window.library_pane.start_scan([str(folder)])
    assert not blocker.args[0].failures, blocker.args[0].failures


def _paths(window) -> list[str]:
    return [it.path for it in window.sidebar.items()]


def test_sidebar_follows_scans_without_a_click(qtbot, window, tmp_path):
    window.library_pane.scan_workers = 0  # analysed in the scan's own thread: no process pool to start
    first, more = tmp_path / "first", tmp_path / "more"
    first.mkdir()
    more.mkdir()
    seed = write_audio(first / "sine0.mp3", family_song("sine", 220.0, 0), SR)
    for i, (kind, f0) in enumerate((("sine", 247.0), ("square", 880.0)), start=1):
        write_audio(more / f"{kind}{i}.mp3", family_song(kind, f0, i), SR)
    _scan(qtbot, window, first)
    window.auto_analyze = True
    open_and_wait(qtbot, window, seed)
    # (before the song, the pane ranked "for you" and said so: wait for the song's own list)
    qtbot.waitUntil(lambda: window.sidebar.current_path() == str(seed), timeout=60000)
    qtbot.waitUntil(lambda: "No recommendations yet" in window.sidebar.status_label.text(), timeout=60000)
    assert window.sidebar.items() == []
    # A scan adds two songs: the list shows them by itself.
    _scan(qtbot, window, more)
    qtbot.waitUntil(lambda: len(window.sidebar.items()) == 2, timeout=20000)
    assert "2 songs" in window.sidebar.status_label.text()
    # One of them is gone: the rescan marks it missing and it leaves the list.
    (more / "sine1.mp3").unlink()
    _scan(qtbot, window, more)
    qtbot.waitUntil(lambda: _paths(window) == [str(more / "square2.mp3")], timeout=20000)
    assert "1 song," in window.sidebar.status_label.text()
