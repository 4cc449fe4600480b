"""How fast is the structure analysis?  (A benchmark, not a test.)

Usage::

    python benchmarks/bench_analysis.py [FILE.mp3] [--runs 5] [--no-fresh] [--no-memory]

Without FILE a 4-minute song is synthesised (tests/songgen.py) and encoded to mp3.  Prints:

- the first song in a fresh process (imports, numba and all), decode + analyse;
- the median of ``--runs`` warm runs of decode + analyse, with the per-stage split;
  decoding as the product does (``analyze``, the scanner and the window's analysis helper ask
  ffmpeg for the mono mix at the analysis rate), and also at the file's own rate and channels
  for comparison;
- the median time of librosa's documented Laplacian segmentation recipe (McFee & Ellis 2014,
  the librosa gallery example) on the same decoded audio, and the ratio;
- peak memory (VmHWM) of a fresh process analysing a 10-minute file (the song looped).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def _encode(y: np.ndarray, sr: int, path: Path) -> Path:
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "f32le", "-ar", str(sr), "-ac", "1", "-i", "pipe:0",
           "-b:a", "192k", str(path)]
    subprocess.run(cmd, input=np.ascontiguousarray(y, dtype=np.float32).tobytes(), check=True)
    return path


def synth_song(folder: Path, minutes: float = 4.0) -> Path:
    """A synthesised song of about ``minutes`` minutes, as mp3 in ``folder``."""
    from songgen import make_song

    plan = "IABABCBDABBO"
    bars = max(2, int(round(minutes * 60 / (len(plan) * 2.0))))
    y, sr, _ = make_song(plan, sr=44100, seed=7, bars_per_section=bars)
    return _encode(y, sr, folder / f"synth_{minutes:g}min.mp3")


def loop_to(path: Path, minutes: float, folder: Path) -> Path:
    """``path`` repeated until it lasts ``minutes`` minutes, as mp3."""
    out = folder / f"looped_{minutes:g}min.mp3"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-stream_loop", "-1", "-i", str(path),
                    "-t", str(minutes * 60), "-b:a", "192k", str(out)], check=True)
    return out


_FRESH = """
import json, sys, time
t0 = time.perf_counter()
from explorer.audio.decode import decode
from explorer.analysis.features import SR
from explorer.analysis.pipeline import analyze
t1 = time.perf_counter()
a = analyze(decode(sys.argv[1], sr=SR, mono=True))  # as explorer.library.analyze.analyze_path does
t2 = time.perf_counter()
# VmHWM (this process's peak resident memory); ru_maxrss would include the parent's from before exec
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"import": t1 - t0, "analyse": t2 - t1, "total": t2 - t0, "sections": len(a.sections),
                  "maxrss_mb": hwm / 1024}))
"""


def fresh_process(path: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", _FRESH, str(path)], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def laplacian_segmentation(y: np.ndarray, sr: int, k: int = 5) -> np.ndarray:
    """librosa's gallery recipe "Laplacian segmentation" (McFee & Ellis 2014); returns beat labels."""
    import librosa
    import scipy.ndimage
    import sklearn.cluster

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
    sigma = np.median(path_distance)
    path_sim = np.exp(-path_distance / sigma)
    R_path = np.diag(path_sim, k=1) + np.diag(path_sim, k=-1)
    deg_path = np.sum(R_path, axis=1)
    deg_rec = np.sum(Rf, axis=1)
    mu = deg_path.dot(deg_path + deg_rec) / np.sum((deg_path + deg_rec) ** 2)
    A = mu * Rf + (1 - mu) * R_path
    L = scipy.sparse.csgraph.laplacian(A, normed=True)
    _, evecs = scipy.linalg.eigh(L)
    evecs = scipy.ndimage.median_filter(evecs, size=(9, 1))
    Cnorm = np.cumsum(evecs ** 2, axis=1) ** 0.5
    X = evecs[:, :k] / Cnorm[:, k - 1:k]
    return sklearn.cluster.KMeans(n_clusters=k, n_init=10).fit_predict(X)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file", nargs="?", help="a ~4-minute song (default: a synthesised one)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-fresh", action="store_true", help="skip the fresh-process timing")
    ap.add_argument("--no-memory", action="store_true", help="skip the 10-minute memory measurement")
    args = ap.parse_args(argv)

    from explorer.analysis.features import SR, to_mono
    from explorer.analysis.pipeline import analyze
    from explorer.audio.decode import decode

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path = Path(args.file) if args.file else synth_song(tmp)
        if not args.no_fresh:
            fr = fresh_process(path)
            print(f"fresh process, first song: {fr['total']:.2f} s "
                  f"(imports {fr['import']:.2f} s, decode + analyse {fr['analyse']:.2f} s)")
        buf = decode(str(path))
        print(f"file: {path.name}, {buf.duration:.1f} s, {buf.sr} Hz, {buf.channels} ch")
        analyze(buf)  # warm-up
        full = []
        for _ in range(args.runs):
            t = time.perf_counter()
            analyze(decode(str(path)))
            full.append(time.perf_counter() - t)
        totals, decodes, stages = [], [], []
        for _ in range(args.runs):
            t = time.perf_counter()
            b = decode(str(path), sr=SR, mono=True)
            t1 = time.perf_counter()
            a = analyze(b)
            totals.append(time.perf_counter() - t)
            decodes.append(t1 - t)
            stages.append(a.timings)
        med = float(np.median(totals))
        print(f"warm decode + analyse, median of {args.runs}: {med:.2f} s "
              f"({buf.duration / med:.0f}x real time); decoding at the file's own rate and channels "
              f"instead: {float(np.median(full)):.2f} s")
        split = {"decode": float(np.median(decodes))}
        split.update({k: float(np.median([s[k] for s in stages])) for k in stages[0] if k != "total"})
        print("  per stage (median s): " + ", ".join(f"{k} {v:.3f}" for k, v in split.items()))

        y = to_mono(buf.samples, buf.sr, sr=SR)
        laplacian_segmentation(y, SR)  # warm-up (numba)
        lap = []
        for _ in range(max(1, min(3, args.runs))):
            t = time.perf_counter()
            laplacian_segmentation(y, SR)
            lap.append(time.perf_counter() - t)
        ours = float(np.median([sum(v for k, v in s.items() if k != "total") for s in stages]))
        lap_med = float(np.median(lap))
        print(f"librosa Laplacian segmentation recipe (same audio, no decode), median: {lap_med:.2f} s; "
              f"our analysis without decode: {ours:.2f} s; ratio {lap_med / ours:.1f}x")

        if not args.no_memory:
            ten = loop_to(path, 10.0, tmp)
            fr = fresh_process(ten)
            print(f"10-minute file in a fresh process: {fr['analyse']:.2f} s, peak memory (VmHWM) "
                  f"{fr['maxrss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
