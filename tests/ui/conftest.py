"""Qt fixtures shared by the window's tests (pytest-qt, offscreen, real event loop).

``window``: a :class:`MainWindow` on its own library and settings (the user folders are already
isolated per test by the top conftest), with analysis of opened songs off unless a test sets
``window.auto_analyze = True``.  ``song_file``: a short synthetic song, A B A B, whose
halves differ in pitch (see :mod:`tests.ui.helpers`).
"""

from __future__ import annotations

import functools
import shutil

import pytest
from pytestqt.qtbot import QtBot
from timing import budget_ms

from tests.conftest import write_audio
from tests.ui.helpers import SONGS, SR, family_song, synth_song


def _scale_waits() -> None:
    """Every ``timeout`` of pytest-qt's waits is a hang guard for an idle machine: scale it for this
    one (tests/timing.py).  ``qtbot.wait(ms)``, a plain pause, is left alone."""
    for name in ("waitUntil", "waitSignal", "waitSignals", "waitCallback", "waitExposed", "waitActive"):
        original = getattr(QtBot, name)
        if getattr(original, "scaled", False):
            continue

        @functools.wraps(original)
        def scaled(self, *args, timeout=5000, _original=original, **kwargs):
            return _original(self, *args, timeout=budget_ms(timeout) if timeout else timeout, **kwargs)

        scaled.scaled = True
        setattr(QtBot, name, scaled)


_scale_waits()


@pytest.fixture(scope="package", autouse=True)
def _gc_in_gui_thread(qapp):
    """As the app does: cycles are collected in the GUI thread only (see explorer.app); the
    other test folders get Python's own collector back."""
    import gc

    from explorer.app import collect_garbage_in_gui_thread

    collector = collect_garbage_in_gui_thread()
    yield collector
    collector.timer.stop()
    gc.enable()


@pytest.fixture
def song_file(make_audio):
    return make_audio("song.wav", synth_song(), SR, "-c:a", "pcm_s16le")


@pytest.fixture
def window(qtbot):
    from explorer.library.store import Library
    from explorer.ui.common.settings import Settings
    from explorer.ui.main_window import MainWindow

    lib = Library()
    w = MainWindow(Settings(), lib)
    w.auto_analyze = False  # most tests need only the audio; those about analysis switch it on
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()
    lib.close()


@pytest.fixture(scope="session")
def scanned(tmp_path_factory):
    """A scanned library of the six :data:`SONGS` (built once): (folder, db file, analysis cache folder)."""
    from explorer.services.scan import scan

    root = tmp_path_factory.mktemp("sidebar-library")
    music = root / "music"
    music.mkdir()
    for i, (kind, f0) in enumerate(SONGS):
        write_audio(
            music / f"{kind}{i}.mp3",
            family_song(kind, f0, i),
            SR,
            codec_args=("-metadata", f"title={kind.title()} {i}", "-metadata", f"artist=Band {i}"),
        )
    cache = root / "cache"
    report = scan([music], db_path=root / "library.sqlite", workers=0, cache_folder=cache)
    assert report.analysed == len(SONGS), report.failures
    return music, root / "library.sqlite", cache


@pytest.fixture
def library(scanned, tmp_path):
    """A private copy of the scanned catalogue (and its analyses, in this test's user cache)."""
    from explorer.library.cache import default_folder
    from explorer.library.store import Library

    music, db, cache = scanned
    shutil.copy(db, tmp_path / "library.sqlite")
    shutil.copytree(cache, default_folder(), dirs_exist_ok=True)
    lib = Library(tmp_path / "library.sqlite")
    yield lib
    lib.close()
