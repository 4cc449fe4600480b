"""How fast, and how big, is a whole `music-explorer` process?  (A benchmark, not a test.)

Usage::

    python benchmarks/bench_analysis.py [FILE.mp3] [--runs 5] [--before DIR] [--quick]

Every figure is a whole process (``python -m explorer …``, imports and all), timed from outside; its peak
resident memory comes from ``os.wait4`` (the child's own ``ru_maxrss``).  Medians of ``--runs`` runs, each
printed beside its target and the figure before this change: measured in the same run from ``--before DIR``
(a checkout of the earlier code, run with ``PYTHONPATH=DIR``), else the figures of issue 14.

- first ``analyze`` after a fresh install: a fresh analysis cache and a fresh numba cache
  (``NUMBA_CACHE_DIR``; librosa's kernels compile again if anything imports them);
- warm ``analyze --no-cache`` of a ~4-minute song, and its peak memory; the same for a 10-minute file;
- librosa's Laplacian segmentation recipe (McFee & Ellis 2014, the librosa gallery example) as a whole
  process on the same song, and our ratio to it;
- ``genre predict`` of a song already analysed (answered from the cache);
- ``scan`` of several 3–5-minute songs with 2 workers: songs per minute.

Without FILE the first POP909 render in ``~/.cache/music-explorer-corpus/pop909`` of at least 4 minutes
is used, or a synthesised 4-minute song (tests/songgen.py).
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

#: Issue 14's figures (2026-12-02, 2-core machine, whole processes), used when no --before is given.
ISSUE_BEFORE = {"first": 31.4, "warm": 7.10, "rss4": 1400, "rss10": None, "ratio": 0.70, "genre": 13.2,
                "scan": 45.5}
TARGETS = {"first": ("≤", 5.0, "s"), "warm": ("", None, "s"), "rss4": ("≤", 400, "MB"), "rss10": ("≤", 600, "MB"),
           "ratio": ("≤", 0.35, ""), "genre": ("≤", 0.5, "s"), "scan": ("≥", 90.0, "songs/min")}


def _encode(y: np.ndarray, sr: int, path: Path) -> Path:
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "f32le", "-ar", str(sr), "-ac", "1", "-i", "pipe:0",
           "-b:a", "192k", str(path)]
    subprocess.run(cmd, input=np.ascontiguousarray(y, dtype=np.float32).tobytes(), check=True)
    return path


def synth_song(folder: Path, minutes: float = 4.0, seed: int = 7) -> Path:
    """A synthesised song of about ``minutes`` minutes, as mp3 in ``folder``."""
    from songgen import make_song

    plan = "IABABCBDABBO"
    bars = max(2, int(round(minutes * 60 / (len(plan) * 2.0))))
    y, sr, _ = make_song(plan, sr=44100, seed=seed, bars_per_section=bars)
    return _encode(y, sr, folder / f"synth_{minutes:g}min_{seed}.mp3")


def loop_to(path: Path, minutes: float, folder: Path) -> Path:
    """``path`` repeated until it lasts ``minutes`` minutes, as mp3."""
    out = folder / f"looped_{minutes:g}min.mp3"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-stream_loop", "-1", "-i", str(path),
                    "-t", str(minutes * 60), "-b:a", "192k", str(out)], check=True)
    return out


def duration_of(path: Path) -> float:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
                         capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def run(argv: list[str], *, code: Path, env: dict | None = None, cwd: Path | None = None) -> tuple[float, float]:
    """Run ``python argv…`` with ``PYTHONPATH=code``; (wall seconds, peak RSS in MB) of that process."""
    full_env = {**os.environ, "PYTHONPATH": str(code), **(env or {})}
    t0 = time.perf_counter()
    # cwd = the code's own folder: `python -m` puts the working folder first on sys.path, before PYTHONPATH
    proc = subprocess.Popen([sys.executable, *argv], env=full_env, cwd=cwd or code, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{argv} failed ({proc.returncode}): {err[-2000:]}")
    return wall, usage.ru_maxrss / 1024.0


_LAPLACIAN = r"""
import sys
import numpy as np
import librosa, scipy.ndimage, scipy.sparse.csgraph, scipy.linalg, sklearn.cluster
from explorer.audio.decode import decode
y = decode(sys.argv[1], sr=22050, mono=True).mono()
sr = 22050
# librosa's gallery recipe "Laplacian segmentation" (McFee & Ellis 2014), k = 5
bins_per_octave = 12 * 3
n_octaves = 7
C = librosa.amplitude_to_db(np.abs(librosa.cqt(y=y, sr=sr, bins_per_octave=bins_per_octave,
                                               n_bins=n_octaves * bins_per_octave)), ref=np.max)
_, beats = librosa.beat.beat_track(y=y, sr=sr, trim=False)
Csync = librosa.util.sync(C, beats, aggregate=np.median)
R = librosa.segment.recurrence_matrix(Csync, width=3, mode="affinity", sym=True)
Rf = librosa.segment.timelag_filter(scipy.ndimage.median_filter)(R, size=(1, 7))
mfcc = librosa.feature.mfcc(y=y, sr=sr)
Msync = librosa.util.sync(mfcc, beats)
path_distance = np.sum(np.diff(Msync, axis=1) ** 2, axis=0)
path_sim = np.exp(-path_distance / np.median(path_distance))
R_path = np.diag(path_sim, k=1) + np.diag(path_sim, k=-1)
deg_path = np.sum(R_path, axis=1)
deg_rec = np.sum(Rf, axis=1)
mu = deg_path.dot(deg_path + deg_rec) / np.sum((deg_path + deg_rec) ** 2)
A = mu * Rf + (1 - mu) * R_path
L = scipy.sparse.csgraph.laplacian(A, normed=True)
_, evecs = scipy.linalg.eigh(L)
evecs = scipy.ndimage.median_filter(evecs, size=(9, 1))
Cnorm = np.cumsum(evecs ** 2, axis=1) ** 0.5
k = 5
X = evecs[:, :k] / Cnorm[:, k - 1:k]
sklearn.cluster.KMeans(n_clusters=k, n_init=10).fit_predict(X)
"""


def measure(code: Path, song: Path, song10: Path, scan_songs: list[Path], runs: int, tmp: Path,
            quick: bool) -> dict:
    """All figures for the code at ``code``."""
    out = {}
    analyze = ["-m", "explorer", "analyze", "--no-cache", "--", str(song)]
    firsts = []
    for i in range(1 if quick else max(1, min(3, runs))):
        fresh = tmp / f"fresh-{code.name}-{i}"
        env = {"XDG_CACHE_HOME": str(fresh / "cache"), "NUMBA_CACHE_DIR": str(fresh / "numba")}
        firsts.append(run(["-m", "explorer", "analyze", "--", str(song)], code=code, env=env)[0])
    out["first"] = float(np.median(firsts))
    _progress(code, "first", firsts)
    warm = [run(analyze, code=code) for _ in range(runs)]
    out["warm"] = float(np.median([w for w, _ in warm]))
    out["rss4"] = float(np.median([m for _, m in warm]))
    _progress(code, "warm (s, MB)", warm)
    ten = [run(["-m", "explorer", "analyze", "--no-cache", "--", str(song10)], code=code)
           for _ in range(1 if quick else 3)]
    out["rss10"] = float(np.median([m for _, m in ten]))
    out["warm10"] = float(np.median([w for w, _ in ten]))
    _progress(code, "10-min (s, MB)", ten)
    cache_env = {"XDG_CACHE_HOME": str(tmp / f"cache-{code.name}")}
    run(["-m", "explorer", "analyze", "--", str(song)], code=code, env=cache_env)
    out["genre"] = float(np.median([run(["-m", "explorer", "genre", "predict", "--", str(song)], code=code,
                                        env=cache_env)[0] for _ in range(runs)]))
    _progress(code, "cached genre predict", [out["genre"]])
    scans = []
    for i in range(1 if quick else 2):
        folder = tmp / f"scan-{code.name}-{i}"
        env = {"XDG_CACHE_HOME": str(folder / "cache"), "XDG_DATA_HOME": str(folder / "data")}
        w, _ = run(["-m", "explorer", "scan", "--db", str(folder / "lib.sqlite"), "--workers", "2",
                    *[str(p) for p in scan_songs]], code=code, env=env)
        scans.append(len(scan_songs) / w * 60.0)
    out["scan"] = float(np.median(scans))
    _progress(code, "scan songs/min", scans)
    return out


def _progress(code: Path, what: str, values) -> None:
    """Each figure as it is measured, on stderr (a whole run takes many minutes on a busy machine)."""
    print(f"  [{code}] {what}: {values}  (load {os.getloadavg()[0]:.1f})", file=sys.stderr, flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file", nargs="?", help="a ~4-minute song (default: a POP909 render or a synthesised song)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--before", type=Path, help="a checkout of the earlier code, measured in the same run")
    ap.add_argument("--quick", action="store_true", help="fewer repetitions of the slow figures")
    args = ap.parse_args(argv)

    load0 = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        corpus = sorted(CORPUS.glob("*.mp3")) if CORPUS.is_dir() else []
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
        print(f"song: {song.name} ({dur / 60:.1f} min); 10-minute file: it looped; scan: {len(scan_songs)} songs "
              f"of {scan_min:.1f} min on average; {args.runs} runs; load average at start {load0[0]:.1f}")

        laps = []
        for _ in range(1 if args.quick else 3):
            laps.append(run(["-c", _LAPLACIAN, str(song)], code=ROOT)[0])
        lap = float(np.median(laps))
        _progress(ROOT, "Laplacian recipe", laps)

        after = measure(ROOT, song, song10, scan_songs, args.runs, tmp, args.quick)
        after["ratio"] = after["warm"] / lap
        before = dict(ISSUE_BEFORE)
        source = "issue 14 (2026-12-02)"
        if args.before:
            before = measure(args.before.resolve(), song, song10, scan_songs, args.runs, tmp, args.quick)
            before["ratio"] = before["warm"] / lap
            source = f"{args.before} measured now"
        load1 = os.getloadavg()

    rows = [("first `analyze` after a fresh install (4-min song)", "first"),
            ("warm `analyze --no-cache`, 4-min song", "warm"),
            ("peak RSS, `analyze` of the 4-min song", "rss4"),
            ("peak RSS, `analyze` of a 10-min file", "rss10"),
            ("ratio to librosa's Laplacian recipe (whole processes)", "ratio"),
            ("`genre predict` of an analysed song", "genre"),
            ("`scan`, 2 workers", "scan")]

    def fmt(v, unit):
        if v is None:
            return "–"
        return f"{v:.0f} {unit}" if unit in ("MB",) else f"{v:.2f} {unit}".strip() if unit != "songs/min" \
            else f"{v:.1f} {unit}"

    print(f"\nLaplacian recipe, whole process: {lap:.2f} s (median)")
    print(f"warm `analyze --no-cache` of the 10-min file: {after['warm10']:.2f} s")
    print(f"\n| what | now | target | before ({source}) |\n|---|---|---|---|")
    for label, key in rows:
        sign, target, unit = TARGETS[key]
        t = f"{sign} {fmt(target, unit)}" if target is not None else "–"
        ok = "" if target is None else (" ✓" if (after[key] <= target if sign == "≤" else after[key] >= target)
                                        else " ✗")
        print(f"| {label} | {fmt(after[key], unit)}{ok} | {t} | {fmt(before.get(key), unit)} |")
    print(f"\nload average (1 min) at start {load0[0]:.1f}, at end {load1[0]:.1f}, on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
