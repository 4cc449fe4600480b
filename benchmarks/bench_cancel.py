"""How long cancelling a scan takes while its workers analyse long songs: in the window and with Ctrl-C.

    .venv/bin/python benchmarks/bench_cancel.py [--songs 4] [--minutes 10] [--workers 2] [--runs 3]

Makes ``--songs`` songs of about ``--minutes`` minutes each (the demo songs joined in different orders,
MP3 128 kb/s, kept in ``~/.cache/music-explorer-corpus/cancel``), then, each run on a fresh catalogue and
a fresh analysis cache, waits until the scan's workers have analysed for ``--busy`` seconds and:

- ``window cancel``: presses the library's cancel (``LibraryPane.cancel_scan``) and times until the scan's
  thread has ended; ``window close``: starts the scan again and times ``MainWindow.close()``, then how the
  window's process ended (an abort shows as a negative status);
- ``ctrl-c``: sends SIGINT to the process group of ``music-explorer scan`` (what a terminal's Ctrl-C does)
  and times until it has exited, with its status, its last line and the processes of its group left.
Target: < 1 s for each.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from procs import descendants, group, read  # noqa: E402

CORPUS = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "music-explorer-corpus" / "cancel"
DEMO = sorted(p for p in (ROOT / "resources" / "demo").iterdir() if p.suffix in (".opus", ".ogg"))


def make_songs(n: int, minutes: float) -> list[Path]:
    CORPUS.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        path = CORPUS / f"long{i:02d}_{minutes:g}min.mp3"
        if not path.exists():
            order = DEMO[i % len(DEMO) :] + DEMO[: i % len(DEMO)]
            inputs = [a for p in order * 4 for a in ("-i", str(p))]
            k = len(order) * 4
            graph = "".join(f"[{j}:a]" for j in range(k)) + f"concat=n={k}:v=0:a=1[a]"
            tmp = path.with_suffix(".tmp.mp3")
            subprocess.run(
                [
                    "ffmpeg",
                    "-nostdin",
                    "-v",
                    "error",
                    "-y",
                    *inputs,
                    "-filter_complex",
                    graph,
                    "-map",
                    "[a]",
                    "-t",
                    str(minutes * 60),
                    "-ac",
                    "2",
                    "-ar",
                    "44100",
                    "-c:a",
                    "libmp3lame",
                    "-b:a",
                    "128k",
                    str(tmp),
                ],
                check=True,
            )
            tmp.rename(path)
        out.append(path)
    return out


def decoding(pid: int) -> bool:
    """Whether a worker of ``pid`` runs ffmpeg: it has started, imported the analysis and works on a song."""
    return any(read(p, "comm").strip() == b"ffmpeg" for p in descendants(pid))


def bench_ctrl_c(folder: Path, workers: int, busy: float, tmp: Path) -> dict:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "XDG_CACHE_HOME": str(tmp / "cache"),
        "XDG_DATA_HOME": str(tmp / "data"),
    }
    db = tmp / "library.sqlite"
    proc = subprocess.Popen(
        [sys.executable, "-m", "explorer", "scan", "--workers", str(workers), "--db", str(db), str(folder)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
    )
    try:
        while not decoding(proc.pid) and proc.poll() is None:
            time.sleep(0.05)
        time.sleep(busy)
        t0 = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=600)
        took = time.monotonic() - t0
        time.sleep(0.5)
        return {
            "seconds": round(took, 2),
            "status": proc.returncode,
            "last line": err.decode().strip()[-200:],
            "left": len(group(proc.pid)),
        }
    finally:
        _kill_group(proc)


def _kill_group(proc) -> None:
    """SIGKILL the process group a measured run started (whatever it left behind), then reap its leader."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


WINDOW = """
import json, os, sys, time
sys.path.insert(0, os.path.join(os.environ["PYTHONPATH"], "tests"))
from procs import descendants, read
from PySide6.QtWidgets import QApplication
from explorer.library.store import Library
from explorer.ui.main_window import MainWindow
from explorer.ui.common.settings import Settings

folder, workers, busy = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
app = QApplication([])
lib = Library()
w = MainWindow(Settings(), lib)
w.library_pane.scan_workers = workers
w.show()

def wait(cond, timeout=600):
    end = time.monotonic() + timeout
    while not cond() and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.005)

def busy_scan():
    w.library_pane.start_scan([folder])
    wait(lambda: any(read(p, "comm").strip() == b"ffmpeg" for p in descendants(os.getpid())))
    end = time.monotonic() + busy
    wait(lambda: time.monotonic() > end)

out = {}
busy_scan()
t0 = time.monotonic()
w.library_pane.cancel_scan()
wait(lambda: not w.library_pane.is_scanning())
out["cancel"] = round(time.monotonic() - t0, 2)
busy_scan()
t0 = time.monotonic()
w.close()
out["close"] = round(time.monotonic() - t0, 2)
t = w.library_pane._scan
out["scan thread running after close"] = t is not None and not t.done.is_set()
print(json.dumps(out), flush=True)
w.deleteLater()
app.processEvents()
"""


def bench_window(folder: Path, workers: int, busy: float, tmp: Path) -> dict:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_CACHE_HOME": str(tmp / "cache"),
        "XDG_DATA_HOME": str(tmp / "data"),
        "XDG_CONFIG_HOME": str(tmp / "config"),
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", WINDOW, str(folder), str(workers), str(busy)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=900)
        lines = out.decode().strip().splitlines()
        doc = json.loads(lines[-1]) if lines else {}
        doc["status"] = proc.returncode
        if proc.returncode:
            doc["stderr"] = err.decode().strip()[-300:]
        time.sleep(0.5)
        doc["left"] = len(group(proc.pid))
        return doc
    finally:
        _kill_group(proc)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--songs", type=int, default=4)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--busy", type=float, default=3.0, help="seconds the workers analyse before the cancel")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", choices=("window", "ctrl-c"))
    args = ap.parse_args()
    songs = make_songs(args.songs, args.minutes)
    print(
        f"{len(songs)} songs of {args.minutes:g} min in {CORPUS}; {args.workers} workers; "
        f"cancel after {args.busy:g} s of analysis; load {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d) / "music"
        folder.mkdir()
        for s in songs:
            os.symlink(s, folder / s.name)
        results: dict[str, list] = {"window": [], "ctrl-c": []}
        for run in range(args.runs):
            for what, fn in (("window", bench_window), ("ctrl-c", bench_ctrl_c)):
                if args.only and what != args.only:
                    continue
                tmp = Path(d) / f"{what}-{run}"
                tmp.mkdir()
                r = fn(folder, args.workers, args.busy, tmp)
                results[what].append(r)
                print(f"run {run} {what}: {r}", flush=True)
        for what, key in (("window", "cancel"), ("window", "close"), ("ctrl-c", "seconds")):
            xs = [r[key] for r in results[what] if key in r]
            if xs:
                print(f"{what} {key}: median {statistics.median(xs):.2f} s, max {max(xs):.2f} s over {len(xs)} runs")


if __name__ == "__main__":
    main()
