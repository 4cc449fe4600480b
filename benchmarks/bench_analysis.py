"""How fast, and how big, is a whole `music-explorer` process?  (A benchmark, not a test.)

Usage::

    python benchmarks/bench_analysis.py [FILE.mp3] [--runs 5] [--before DIR] [--corpus DIR] [--quick]

Every figure is a whole process (``python -m explorer …``, imports and all), timed from outside; its peak
resident memory and its CPU time (user + system, ffmpeg included) come from ``os.wait4``.  Medians of
``--runs`` runs of every figure, each printed beside its target and the figure before: measured in the same
run from ``--before DIR`` (a checkout of the earlier code, run with ``PYTHONPATH=DIR``), else the figures
in :data:`BEFORE` (measured before the 2026-12-02 speed work of issue 14).  On a machine that other work
shares, wall times grow with its load; the CPU seconds and the ratio to the Laplacian recipe measured in
turn with ours change far less, so the script prints them too.

- first ``analyze`` after a fresh install: a fresh analysis cache and a fresh numba cache
  (``NUMBA_CACHE_DIR``; librosa's kernels compile again if anything imports them);
- warm ``analyze --no-cache`` of a ~4-minute song, and its peak memory; the same for a 10-minute file;
- librosa's Laplacian segmentation recipe (McFee & Ellis 2014, the librosa gallery example) as a whole
  process on the same song, and our ratio to it;
- ``genre predict`` of a song already analysed (answered from the cache);
- ``scan`` of several 3–5-minute songs with 2 workers: songs per minute.

Without FILE the first POP909 render in ``--corpus`` (default ``~/.cache/music-explorer-corpus/pop909``) of at
least 4 minutes is used, or a synthesised 4-minute song (tests/songgen.py); the scan takes 6 other renders
of that folder (or synthesised songs).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
CORPUS = Path.home() / ".cache" / "music-explorer-corpus" / "pop909"

#: The figures before, used when no --before is given: the README's of 2026-12-02 (whole processes, 2-core
#: machine at load 3–6) for the code before the last speed work (commit 9087525).
BEFORE = {
    "first": 6.7,
    "warm": 7.7,
    "warm_cpu": 3.2,
    "rss4": 265,
    "rss10": 333,
    "ratio": 0.61,
    "genre": 0.68,
    "scan": 11.0,
}
TARGETS = {
    "first": ("≤", 5.0, "s"),
    "warm": ("", None, "s"),
    "warm_cpu": ("", None, "s"),
    "rss4": ("≤", 400, "MB"),
    "rss10": ("≤", 600, "MB"),
    "ratio": ("≤", 0.35, ""),
    "ratio_cpu": ("", None, ""),
    "genre": ("≤", 0.5, "s"),
    "scan": ("≥", 90.0, "songs/min"),
    "scan_cpu": ("", None, "s"),
}


def synth_song(folder: Path, minutes: float = 4.0, seed: int = 7) -> Path:
    """A synthesised song of about ``minutes`` minutes, as mp3 in ``folder``."""
    from badfiles import encode
    from songgen import make_song

    plan = "IABABCBDABBO"
    bars = max(2, int(round(minutes * 60 / (len(plan) * 2.0))))
    y, sr, _ = make_song(plan, sr=44100, seed=seed, bars_per_section=bars)
    return encode(folder / f"synth_{minutes:g}min_{seed}.mp3", y, sr, "-b:a", "192k")


def loop_to(path: Path, minutes: float, folder: Path) -> Path:
    """``path`` repeated until it lasts ``minutes`` minutes, as mp3."""
    out = folder / f"looped_{minutes:g}min.mp3"
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-v",
            "error",
            "-y",
            "-stream_loop",
            "-1",
            "-i",
            str(path),
            "-t",
            str(minutes * 60),
            "-b:a",
            "192k",
            str(out),
        ],
        check=True,
    )
    return out


def duration_of(path: Path) -> float:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip())


def run(
    argv: list[str], *, code: Path, env: dict | None = None, cwd: Path | None = None, cpu: list | None = None
) -> tuple[float, float]:
    """Run ``python argv…`` with ``PYTHONPATH=code``; (wall seconds, peak RSS in MB) of that process.

    Its CPU seconds (user + system, with the children it waited for) are appended to ``cpu`` when given.
    """
    full_env = {**os.environ, "PYTHONPATH": str(code), **(env or {})}
    t0 = time.perf_counter()
    # cwd = the code's own folder: `python -m` puts the working folder first on sys.path, before PYTHONPATH
    proc = subprocess.Popen(
        [sys.executable, *argv],
        env=full_env,
        cwd=cwd or code,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{argv} failed ({proc.returncode}): {err[-2000:]}")
    if cpu is not None:
        cpu.append(usage.ru_utime + usage.ru_stime)
    return wall, usage.ru_maxrss / 1024.0


#: librosa's Laplacian segmentation recipe on one file, as a whole process (``benchmarks/laplacian_recipe.py``)
_LAPLACIAN = ["-m", "benchmarks.laplacian_recipe"]


def measure(codes: list[Path], song: Path, song10: Path, scan_songs: list[Path], runs: int, tmp: Path) -> list[dict]:
    """All figures for the code at each of ``codes``: medians of ``runs`` whole processes each.

    The codes take turns run by run (A B A B …), so that a change of the machine's load shows in both.
    """

    def turns(what: str, one) -> list[list]:
        """``one(code, i)`` for every run ``i`` and code, in turn; its results per code."""
        got: list[list] = [[] for _ in codes]
        for i in range(runs):
            for k, code in enumerate(codes):
                got[k].append(one(code, i))
        for code, values in zip(codes, got):
            _progress(code, what, [np.round(v, 2).tolist() for v in values])
        return got

    def fresh_first(code, i):
        fresh = tmp / f"fresh-{code.name}-{i}"
        env = {"XDG_CACHE_HOME": str(fresh / "cache"), "NUMBA_CACHE_DIR": str(fresh / "numba")}
        return run(["-m", "explorer", "analyze", "--", str(song)], code=code, env=env)[0]

    def analyze(path):
        def one(code, i):
            cpu: list[float] = []
            wall, rss = run(["-m", "explorer", "analyze", "--no-cache", "--", str(path)], code=code, cpu=cpu)
            return wall, rss, cpu[0]

        return one

    def genre(code, i):
        return run(
            ["-m", "explorer", "genre", "predict", "--", str(song)],
            code=code,
            env={"XDG_CACHE_HOME": str(tmp / f"cache-{code.name}")},
        )[0]

    def scan(code, i):
        folder = tmp / f"scan-{code.name}-{i}"
        env = {"XDG_CACHE_HOME": str(folder / "cache"), "XDG_DATA_HOME": str(folder / "data")}
        cpu: list[float] = []
        w, _ = run(
            [
                "-m",
                "explorer",
                "scan",
                "--db",
                str(folder / "lib.sqlite"),
                "--workers",
                "2",
                *[str(p) for p in scan_songs],
            ],
            code=code,
            env=env,
            cpu=cpu,
        )
        shutil.rmtree(folder, ignore_errors=True)
        return len(scan_songs) / w * 60.0, cpu[0] / len(scan_songs)

    outs: list[dict] = [{} for _ in codes]
    for out, firsts in zip(outs, turns("first (s)", fresh_first)):
        out["first"] = float(np.median(firsts))
    for out, warm in zip(outs, turns("warm (s, MB, CPU s)", analyze(song))):
        out["warm"], out["rss4"], out["warm_cpu"] = (float(v) for v in np.median(warm, axis=0))
    for out, ten in zip(outs, turns("10-min (s, MB, CPU s)", analyze(song10))):
        out["warm10"], out["rss10"], _ = (float(v) for v in np.median(ten, axis=0))
    for code in codes:  # the analysis that genre predict then finds in the cache
        run(
            ["-m", "explorer", "analyze", "--", str(song)],
            code=code,
            env={"XDG_CACHE_HOME": str(tmp / f"cache-{code.name}")},
        )
    for out, g in zip(outs, turns("cached genre predict (s)", genre)):
        out["genre"] = float(np.median(g))
    for out, sc in zip(outs, turns("scan (songs/min, CPU s per song)", scan)):
        out["scan"], out["scan_cpu"] = (float(v) for v in np.median(sc, axis=0))
    return outs


def _progress(code: Path, what: str, values) -> None:
    """Each figure as it is measured, on stderr (a whole run takes many minutes on a busy machine)."""
    print(f"  [{code}] {what}: {values}  (load {os.getloadavg()[0]:.1f})", file=sys.stderr, flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file", nargs="?", help="a ~4-minute song (default: a POP909 render or a synthesised song)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--before", type=Path, help="a checkout of the earlier code, measured in the same run")
    ap.add_argument("--corpus", type=Path, default=CORPUS, help="folder of POP909 renders (mp3)")
    ap.add_argument("--quick", action="store_true", help="one run of each figure (a smoke test, not a measurement)")
    args = ap.parse_args(argv)
    runs = 1 if args.quick else args.runs

    load0 = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        corpus = sorted(args.corpus.glob("*.mp3")) if args.corpus.is_dir() else []
        if args.file:
            song = Path(args.file)
        else:
            song = next((p for p in corpus if duration_of(p) >= 240), None) or synth_song(tmp)
        song10 = loop_to(song, 10.0, tmp)
        scan_songs = [p for p in corpus if p != song][:6]
        if len(scan_songs) < 6:
            scan_songs += [synth_song(tmp, 4.0, seed) for seed in range(20, 26 - len(scan_songs))]
        dur = duration_of(song)
        scan_min = np.mean([duration_of(p) for p in scan_songs]) / 60
        print(
            f"song: {song.name} ({dur / 60:.1f} min); 10-minute file: it looped; scan: {len(scan_songs)} songs "
            f"of {scan_min:.1f} min on average; medians of {runs} runs; load average at start {load0[0]:.1f}"
        )

        # the recipe and our warm analysis in turn, so that both see the same load
        laps, lap_cpu, ours, ours_cpu = [], [], [], []
        codes = [ROOT] + ([args.before.resolve()] if args.before else [])
        before_warm, before_cpu = [], []
        run([*_LAPLACIAN, str(song)], code=ROOT)  # warm-up: librosa's numba cache
        for _ in range(runs):
            laps.append(run([*_LAPLACIAN, str(song)], code=ROOT, cpu=lap_cpu)[0])
            ours.append(run(["-m", "explorer", "analyze", "--no-cache", "--", str(song)], code=ROOT, cpu=ours_cpu)[0])
            if args.before:
                before_warm.append(
                    run(["-m", "explorer", "analyze", "--no-cache", "--", str(song)], code=codes[1], cpu=before_cpu)[0]
                )
        lap = float(np.median(laps))
        _progress(ROOT, "Laplacian recipe (s)", laps)
        _progress(ROOT, "ours, in turn with it (s)", ours)

        measured = measure(codes, song, song10, scan_songs, runs, tmp)
        after = measured[0]
        after["ratio"] = float(np.median(np.divide(ours, laps)))
        after["ratio_cpu"] = float(np.median(np.divide(ours_cpu, lap_cpu)))
        before = dict(BEFORE)
        source = "README before the issue-14 speed work, load 3–6"
        if args.before:
            before = measured[1]
            before["ratio"] = float(np.median(np.divide(before_warm, laps)))
            before["ratio_cpu"] = float(np.median(np.divide(before_cpu, lap_cpu)))
            source = f"{args.before} measured now"
        load1 = os.getloadavg()

    rows = [
        ("first `analyze` after a fresh install (4-min song)", "first"),
        ("warm `analyze --no-cache`, 4-min song", "warm"),
        ("the same, CPU (user + system, ffmpeg included)", "warm_cpu"),
        ("peak RSS, `analyze` of the 4-min song", "rss4"),
        ("peak RSS, `analyze` of a 10-min file", "rss10"),
        ("ratio to librosa's Laplacian recipe (whole processes, wall)", "ratio"),
        ("the same ratio in CPU seconds", "ratio_cpu"),
        ("`genre predict` of an analysed song", "genre"),
        ("`scan`, 2 workers", "scan"),
        ("`scan`: CPU per song (all processes)", "scan_cpu"),
    ]

    def fmt(v, unit):
        if v is None:
            return "–"
        return (
            f"{v:.0f} {unit}"
            if unit in ("MB",)
            else f"{v:.2f} {unit}".strip()
            if unit != "songs/min"
            else f"{v:.1f} {unit}"
        )

    print(f"\nLaplacian recipe, whole process: {lap:.2f} s wall, {np.median(lap_cpu):.2f} s CPU (medians)")
    print(f"warm `analyze --no-cache` of the 10-min file: {after['warm10']:.2f} s")
    print(f"\n| what | now | target | before ({source}) |\n|---|---|---|---|")
    for label, key in rows:
        sign, target, unit = TARGETS[key]
        t = f"{sign} {fmt(target, unit)}" if target is not None else "–"
        ok = (
            ""
            if target is None
            else (" ✓" if (after[key] <= target if sign == "≤" else after[key] >= target) else " ✗")
        )
        print(f"| {label} | {fmt(after[key], unit)}{ok} | {t} | {fmt(before.get(key), unit)} |")
    print(f"\nload average (1 min) at start {load0[0]:.1f}, at end {load1[0]:.1f}, on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
