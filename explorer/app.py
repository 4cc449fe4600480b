"""The GUI's composition root: QApplication, settings, theme, library, window.

``music-explorer`` without a subcommand (and ``python -m explorer``) lands in :func:`main`.
Nothing heavy is imported here: librosa and the analysis modules are loaded by the first job,
in a worker thread, so the window comes up before them.
"""

from __future__ import annotations

import logging
import os
import sys
import time

#: When the process started, as a perf_counter reading (for the start-up figure).
STARTED = time.perf_counter()
#: The analysis modules are loaded in the background this long after the window is shown.
WARM_UP_DELAY_MS = 300


def open_library():
    """The user's library, or None with the reason when it cannot be opened."""
    from explorer.errors import ExplorerError
    from explorer.library.store import Library

    try:
        return Library(), None
    except ExplorerError as e:
        return None, e.message


_thread_error_window = None  # weak reference to the window that shows errors of background threads


def report_thread_errors(window) -> None:
    """Show what fails in a background thread outside our workers (e.g. the sound device refusing to
    open in the playback thread) in ``window``, besides the usual traceback on stderr."""
    import threading
    import weakref

    global _thread_error_window
    first = _thread_error_window is None
    _thread_error_window = weakref.ref(window)
    if not first:
        return
    default = threading.excepthook

    def hook(args):
        default(args)
        w = _thread_error_window()
        if w is not None and args.exc_type is not SystemExit:
            try:
                w.threadFailed.emit(f"{args.thread.name if args.thread else 'a thread'} failed: {args.exc_value}")
            except RuntimeError:  # the window is already gone
                pass

    threading.excepthook = hook


def collect_garbage_in_gui_thread():
    """Python's cycle collector runs in whichever thread allocates; collecting Qt objects in a worker
    thread destroys them there and crashes Qt.  Collect on a GUI-thread timer instead (the returned
    object must be kept)."""
    from pyqtgraph.util.garbage_collector import GarbageCollector

    return GarbageCollector(interval=0.25)


def build_window(paths=(), *, app=None):
    """Create the application (if needed) and the window, open ``paths``; returns ``(app, window)``."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from explorer import __version__
    from explorer.ui.common import theme
    from explorer.ui.common.settings import Settings
    from explorer.ui.main_window import APP_NAME, MainWindow

    app = app or QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("music-explorer")
    app.setApplicationDisplayName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setWindowIcon(theme.icon("music-explorer"))
    settings = Settings()
    try:
        theme.apply_theme(app, settings.get("theme"))
    except ValueError:
        theme.apply_theme(app, "system")
    library, problem = open_library()
    window = MainWindow(settings, library)
    window.garbage_collector = collect_garbage_in_gui_thread()
    report_thread_errors(window)
    if problem:
        window.show_error(f"The library could not be opened: {problem}")
    for notice in getattr(library, "notices", ()):
        window.log_panel.append("warning", notice)
    window.show()
    QTimer.singleShot(WARM_UP_DELAY_MS, window.warm_up)
    paths = [os.fspath(p) for p in paths]
    if paths:
        window.open_paths(paths)
    else:
        window.restore_last_song()
    return app, window


def close_on_signals(window):
    """Ctrl+C or SIGTERM close the window as its close button does (layout saved, jobs and scan
    stopped).  Python handles signals only between bytecodes, so a timer lets it run now and then;
    the returned timer must be kept."""
    import signal

    from PySide6.QtCore import QTimer

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: window.close())
    timer = QTimer()
    timer.start(250)
    timer.timeout.connect(lambda: None)
    return timer


def main(paths=()) -> int:
    """Run the window until it is closed; the exit status."""
    logging.basicConfig(
        level=os.environ.get("MUSIC_EXPLORER_LOG", "WARNING").upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    app, window = build_window(paths)
    _wake = close_on_signals(window)  # noqa: F841 - kept alive while the loop runs
    logging.getLogger(__name__).info("first window after %.3f s", time.perf_counter() - STARTED)
    status = int(app.exec())
    if window.library is not None:
        window.library.close()  # the last connection: SQLite folds its write-ahead log into the file
    return status
