"""The song the window comes back to is the last one that opened: a file that failed to open is not it."""

from __future__ import annotations

import pytest

from tests.ui.helpers import open_audio

pytestmark = pytest.mark.timeout(180)


def test_a_failed_file_is_not_the_song_restored_next_time(qtbot, song_file, tmp_path):
    from explorer.library.store import Library
    from explorer.ui.common.settings import Settings
    from explorer.ui.main_window import MainWindow

    broken = tmp_path / "broken.mp3"
    broken.write_bytes(b"not audio " * 100)
    lib = Library()
    w1 = MainWindow(Settings(), lib)
    qtbot.addWidget(w1)
    w1.auto_analyze = False
    w1.show()
    open_audio(qtbot, w1, song_file)
    with qtbot.waitSignal(w1.errorShown, timeout=20000):
        w1.open_song(str(broken))
    w1.close()

    w2 = MainWindow(Settings(), lib)
    qtbot.addWidget(w2)
    w2.auto_analyze = False
    w2.show()
    errors = []
    w2.errorShown.connect(errors.append)
    try:
        with qtbot.waitSignal(w2.audioReady, timeout=20000):
            w2.restore_last_song()
        assert w2.song_path == str(song_file)
        assert errors == [] and not w2.banner.isVisible()
    finally:
        w2.close()
        lib.close()
