"""Which handlers and repaints make up each long GUI-thread gap (a diagnosis tool, not a benchmark).

Runs ``bench_ui.bench_busy`` (a library scan, then a song opened while it runs) with the window's
signal handlers, its event-loop turns and every pyqtgraph view's ``paintEvent`` timed, and prints,
for every gap between two beats of a 10 ms heartbeat that is longer than ``--show`` ms, what ran
inside it: name, start (ms after the last beat) and duration, nested calls indented.  A gap with
nothing listed was spent outside the timed code (another widget's paint, GIL or CPU contention).

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/diag_gui_gaps.py [--runs N] [--show MS] [--after-long-songs]

``--after-long-songs`` first opens a 4-minute and a 30-minute song, as ``bench_ui.py`` does;
``--cached`` opens the song once before, so that its analysis comes from the cache.
"""

from __future__ import annotations

import argparse
import faulthandler
import functools
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path


def _timed(log: list, depth: list, cls, name: str) -> None:
    f = getattr(cls, name)

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        t = time.perf_counter()
        depth[0] += 1
        try:
            return f(*args, **kwargs)
        finally:
            depth[0] -= 1
            log.append((t, time.perf_counter() - t, f"{cls.__name__}.{name}", depth[0]))

    setattr(cls, name, wrapper)


def run_once(
    show_ms: float, after_long_songs: bool, cached: bool, dump_to: str | None = None, dump_after_ms: float = 100.0
) -> float:
    import bench_ui
    import pyqtgraph as pg
    from PySide6.QtCore import QTimer

    from explorer.app import build_window
    from explorer.ui import main_window
    from explorer.ui.library import pane as library_pane

    log: list = []
    depth = [0]
    win, pane = main_window.MainWindow, library_pane.LibraryPane
    for name in [n for n in dir(win) if n.startswith("_on_")] + ["set_analysis", "open_song", "_run_turn"]:
        _timed(log, depth, win, name)
    for name in [n for n in dir(pane) if n.startswith("_on_")] + ["start_scan"]:
        _timed(log, depth, pane, name)
    _timed(log, depth, pg.GraphicsView, "paintEvent")

    tmp = Path(tempfile.mkdtemp(prefix="diag-gaps-"))
    for var in ("XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"):  # not the user's library or settings
        os.environ[var] = str(tmp / var.lower())
    try:
        app, window = build_window([])
        window.resize(1400, 900)
        songs = bench_ui.demo_songs()
        folder = tmp / "library"
        folder.mkdir()
        for s in songs[1:]:
            shutil.copy(s, folder / s.name)
        if after_long_songs:
            bench_ui.bench_open(app, window, bench_ui.make_mp3(tmp), 1)
            bench_ui.bench_peaks_and_zoom(app, window, 1)
        if cached:  # the song's analysis is in the cache: it arrives at once, before its audio
            window.open_song(str(songs[0]))
            bench_ui.wait_until(app, lambda: window._job is None, 120)
            window.open_song(str(folder / songs[1].name))
            bench_ui.wait_until(app, lambda: window._job is None, 120)
            window._recent.clear()
        beats: list[float] = []
        dump = open(dump_to, "w") if dump_to else None  # noqa: SIM115 - open for the whole run

        def beat():
            beats.append(time.perf_counter())
            if dump is not None:  # re-armed every beat: fires only when the GUI thread stalls that long
                faulthandler.dump_traceback_later(dump_after_ms / 1000, file=dump)

        timer = QTimer()
        timer.setInterval(10)
        timer.timeout.connect(beat)
        timer.start()
        bench_ui.wait_until(app, lambda: False, 0.5)
        beats.clear()
        result = bench_ui.bench_busy(app, window, folder, songs[0])
        timer.stop()
        if dump is not None:
            faulthandler.cancel_dump_traceback_later()
            dump.close()
        print(
            f"worst gap {result['worst_gap_ms']} ms, {result['gaps_over_50ms']} over 50 ms in {result['seconds']:.1f} s"
        )
        for a, b in zip(beats, beats[1:]):
            if (b - a) * 1000 < show_ms:
                continue
            print(f"  gap {(b - a) * 1000:.0f} ms at {a - beats[0]:.2f} s")
            for start, took, name, level in sorted(e for e in log if a <= e[0] < b):
                print(f"    {'  ' * level}{name:<40} +{(start - a) * 1000:5.1f} ms {took * 1000:6.1f} ms")
        window.close()
        return result["worst_gap_ms"]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="runs, each in a fresh process")
    parser.add_argument("--show", type=float, default=40.0, help="list the gaps longer than this (ms)")
    parser.add_argument("--after-long-songs", action="store_true")
    parser.add_argument("--cached", action="store_true", help="the opened song's analysis is already cached")
    parser.add_argument(
        "--stacks",
        metavar="FILE",
        help="when the GUI thread stalls longer than --stacks-after ms, "
        "append every thread's Python stack to FILE (faulthandler: works while the GIL is held)",
    )
    parser.add_argument("--stacks-after", type=float, default=100.0)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    if args.child or args.runs == 1:
        run_once(args.show, args.after_long_songs, args.cached, args.stacks, args.stacks_after)
        return 0
    import subprocess

    for run in range(args.runs):  # a fresh process each: a window's history changes what a run measures
        cmd = [sys.executable, __file__, "--child", "--show", str(args.show), "--stacks-after", str(args.stacks_after)]
        cmd += ["--stacks", f"{args.stacks}.{run}"] if args.stacks else []
        cmd += ["--after-long-songs"] if args.after_long_songs else []
        subprocess.run(cmd + (["--cached"] if args.cached else []), check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
