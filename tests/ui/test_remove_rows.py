"""Failed and missing songs can be removed from the library (issue 15.11), after a confirmation."""

from __future__ import annotations

import pytest
from conftest import tone, write_audio
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from explorer.library.store import Library
from explorer.ui.library.pane import LibraryPane

pytestmark = pytest.mark.timeout(120)
SR = 22050


@pytest.fixture
def pane(qtbot, tmp_path):
    lib = Library(tmp_path / "library.sqlite")
    paths = [
        write_audio(tmp_path / f"{name}.wav", tone(0.5, SR, freq=220.0 * (i + 1)), SR)
        for i, name in enumerate(("good", "broken", "gone", "gone too"))
    ]
    ids = [lib.add_or_update_file(p).id for p in paths]
    lib.record_failure(ids[1], f"{paths[1]}: not audio")
    lib.like(ids[2])
    for p in paths[2:]:
        p.unlink()
    lib.mark_missing(ids[2:])
    w = LibraryPane(lib, scan_workers=0)
    qtbot.addWidget(w)
    qtbot.waitUntil(lambda: w.model.total() == 4, timeout=10000)
    yield w, lib, [str(p) for p in paths]
    lib.close()


def _answer(button) -> None:
    """Press ``button`` in the message box the next confirmation opens."""

    def press():
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            box.button(button).click()
        else:
            QTimer.singleShot(20, press)

    QTimer.singleShot(0, press)


def _texts(menu) -> list[str]:
    return [a.text() for a in menu.actions()]


def test_remove_failed_and_missing_rows_after_confirming(qtbot, pane):
    w, lib, (good, broken, gone, _gone_too) = pane
    assert "Remove from library…" not in _texts(w.build_context_menu(good))
    menu = w.build_context_menu(broken)
    assert "Remove from library…" in _texts(menu)
    assert "Remove all 3 failed and missing songs…" in _texts(menu)

    _answer(QMessageBox.Cancel)  # cancelling keeps everything
    next(a for a in menu.actions() if a.text() == "Remove from library…").trigger()
    assert w.model.total() == 4 and lib.track_by_path(broken) is not None

    _answer(QMessageBox.Yes)
    with qtbot.waitSignal(w.libraryChanged, timeout=5000):
        next(a for a in w.build_context_menu(broken).actions() if a.text() == "Remove from library…").trigger()
    assert not w.model.has(broken) and lib.track_by_path(broken) is None
    assert w.count_label.text() == "3 songs"

    _answer(QMessageBox.Yes)
    menu = w.build_context_menu(gone)
    next(a for a in menu.actions() if a.text().startswith("Remove all 2 ")).trigger()
    assert w.model.paths() == [good]
    assert [t.path for t in lib.tracks()] == [good]
    assert lib.history() == []  # the removed song's like went with it


def test_library_remove_tracks(tmp_path):
    lib = Library(tmp_path / "l.sqlite")
    p = write_audio(tmp_path / "a.wav", tone(0.3, SR), SR)
    t = lib.add_or_update_file(p)
    lib.like(t.id)
    assert lib.remove_tracks([t.id, 999]) == 1
    assert lib.tracks() == [] and lib.history() == [] and lib.remove_tracks([t.id]) == 0
    lib.close()


def test_cli_remove_failed_and_missing(tmp_path):
    import subprocess
    import sys

    db = tmp_path / "l.sqlite"
    lib = Library(db)
    kept, broken, gone = (write_audio(tmp_path / f"{n}.wav", tone(0.3, SR), SR) for n in ("kept", "broken", "gone"))
    ids = [lib.add_or_update_file(p).id for p in (kept, broken, gone)]
    lib.record_failure(ids[1], "not audio")
    gone.unlink()
    lib.mark_missing([ids[2]])
    lib.close()

    def run(*argv):
        return subprocess.run(
            [sys.executable, "-m", "explorer", "remove", *argv, "--db", str(db)],
            capture_output=True,
            text=True,
            check=False,
            stdin=subprocess.DEVNULL,
        )

    r = run()
    assert r.returncode == 2 and r.stderr.startswith("music-explorer: error: nothing to remove")
    r = run(str(tmp_path / "never-scanned.wav"))
    assert r.returncode == 2 and "not in the library" in r.stderr and r.stderr.count("\n") == 1
    r = run("--failed", "--missing")
    assert r.returncode == 0 and r.stdout == "removed 2 songs from the library (the files are left alone)\n"
    with Library(db) as lib:
        assert [t.path for t in lib.tracks()] == [str(kept)]
    assert run(str(ids[0])).stdout.startswith("removed 1 song ")
    assert kept.exists()
