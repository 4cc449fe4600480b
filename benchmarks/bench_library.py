"""Library and recommendation speed at 10k and 100k tracks, and scan throughput on 4-minute mp3s.

    .venv/bin/python benchmarks/bench_library.py [--sizes 10000 100000] [--songs 8] [--workers 2] [--no-scan]

Part 1 fills a real SQLite catalogue (made by :class:`explorer.library.store.Library`) with synthetic
tracks: tags, 10 genre probabilities and a 200-d float32 embedding each (the size of the musicnn
penultimate layer), and times, as medians over repeated calls: opening the catalogue (first open in a
process runs ``PRAGMA quick_check``), the catalogue queries the window makes, and a recommendation query
in every mode with the index in memory (as in the window: it is kept until the catalogue changes), and
what the first query of a process costs on top: building the index from SQLite, or (≥ 20k tracks)
loading the copy of it kept in the user's cache folder.  Targets: < 50 ms at 10k, < 200 ms at 100k.

Part 2 generates ``--songs`` 4-minute songs (synthesised chords, bass and drums, 44.1 kHz stereo,
MP3 192 kb/s), scans them into a fresh catalogue and a fresh cache with ``--workers`` processes and
prints songs per minute (target ≥ 40 on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from explorer.library import store  # noqa: E402
from explorer.library.store import Library  # noqa: E402
from explorer.recommend import MODES, recommend  # noqa: E402

GENRES = ("blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock")
DIM = 200


def fill(db: Path, n: int, seed: int = 0) -> None:
    """n synthetic analysed tracks written straight into the catalogue's tables (one transaction)."""
    Library(db).close()  # creates the schema
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 1, (len(GENRES), DIM)).astype(np.float32)
    now = time.time()
    conn = __import__("sqlite3").connect(db)
    rows, vectors = [], []
    labels = json.dumps(sorted(GENRES))
    for i in range(n):
        g = int(rng.integers(len(GENRES)))
        p = rng.dirichlet(np.ones(len(GENRES)) * 0.3)
        p = (0.5 * p + 0.5 * np.eye(len(GENRES))[g]).astype(np.float32)
        emb = (centres[g] + rng.normal(0, 1, DIM)).astype(np.float32)
        rows.append(
            (
                i + 1,
                f"/music/artist{i % 3000:04d}/album{i % 7}/track{i:06d}.mp3",
                f"Track {i}",
                f"Artist {i % 3000}",
                f"Album {i % 7}",
                GENRES[g].title(),
                1990 + i % 30,
                180.0 + i % 120,
                70.0 + i % 100,
                GENRES[g],
                json.dumps(dict(zip(GENRES, np.round(p, 4).tolist()))),
                "analysed",
                f"h{i:08x}",
                4_000_000 + i,
                now,
                now,
                now,
            )
        )
        vectors.append((i + 1, emb.tobytes(), labels, p.tobytes()))  # GENRES is sorted: p is in label order
    conn.executemany(
        "INSERT INTO tracks(id, path, title, artist, album, genre_tag, year, duration, tempo, "
        "genre_label, genre_json, state, content_hash, size, mtime, added_at, analysed_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.executemany("INSERT INTO vectors(track_id, embedding, genre_labels, genre) VALUES (?, ?, ?, ?)", vectors)
    conn.commit()
    conn.close()


def timed(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000, out


def bench_catalogue(n: int, folder: Path) -> None:
    db = folder / f"lib{n}.sqlite"
    t = time.perf_counter()
    fill(db, n)
    print(f"\n== {n:,} tracks (filled in {time.perf_counter() - t:.1f} s, {db.stat().st_size / 2**20:.0f} MiB)")
    store._checked.clear()
    t = time.perf_counter()
    lib = Library(db)
    print(f"  open, first in the process (quick_check)   {1000 * (time.perf_counter() - t):8.1f} ms")
    rng = np.random.default_rng(1)
    ids = rng.integers(1, n + 1, 21)
    results = {
        "open (already checked)": timed(lambda: Library(db).close(), 5)[0],
        "count()": timed(lib.count, 9)[0],
        "track(id)": timed(lambda: lib.track(int(ids[0])), 21)[0],
        "track_by_path(path)": timed(lambda: lib.track_by_path(f"/music/artist0001/album1/track{n // 2:06d}.mp3"), 21)[
            0
        ],
        "tracks(limit=200) (one screen)": timed(lambda: lib.tracks(limit=200, offset=n // 2), 9)[0],
        "tracks('artist 12') (filter)": timed(lambda: lib.tracks("artist 12"), 5)[0],
        "tracks() (all rows)": timed(lib.tracks, 3)[0],
        "history(50)": timed(lambda: lib.history(50), 9)[0],
    }
    for name, ms in results.items():
        print(f"  {name:<42} {ms:8.1f} ms")
    for i in ids[:3]:
        lib.like(int(i))
    for i in ids[3:6]:
        lib.dislike(int(i))
    from explorer.recommend import index as index_module

    index_module._indexes.clear()
    path, _ = index_module._index_file(lib)
    if path.exists():
        path.unlink()
    t = time.perf_counter()
    index_module.get_index(lib)
    print(f"  first query of a process: build the index from SQLite {1000 * (time.perf_counter() - t):8.1f} ms")
    if path.exists():
        index_module._indexes.clear()
        t = time.perf_counter()
        index_module.get_index(lib)
        print(f"  first query of a process: load its copy on disk    {1000 * (time.perf_counter() - t):8.1f} ms")
    for mode in MODES:
        warm = statistics.median(timed(lambda i=int(i), m=mode: recommend(lib, i, k=10, mode=m), 1)[0] for i in ids[7:])
        print(f"  recommend k=10 mode={mode:<9} (index in memory) median of 14: {warm:6.1f} ms")
    lib.close()


# -- scan throughput ---------------------------------------------------------------------------
def song(seed: int, seconds: float = 240.0, sr: int = 44100) -> np.ndarray:
    """A 4-minute stereo 'song': a chord progression, a bass line, kick/snare/hat at a random tempo."""
    rng = np.random.default_rng(seed)
    bpm = rng.uniform(80, 150)
    beat = 60.0 / bpm
    n = int(seconds * sr)
    t = np.arange(n) / sr
    y = np.zeros(n, np.float32)
    root = 45 + int(rng.integers(0, 12))
    prog = rng.integers(0, 7, 4)
    scale = np.array([0, 2, 4, 5, 7, 9, 11])
    bar = 4 * beat
    for b in range(int(seconds / bar) + 1):
        i0, i1 = int(b * bar * sr), min(n, int((b + 1) * bar * sr))
        if i0 >= n:
            break
        deg = prog[b % 4]
        tt = t[i0:i1] - b * bar
        for k in (0, 2, 4):
            midi = root + 12 + scale[(deg + k) % 7] + 12 * ((deg + k) // 7)
            y[i0:i1] += 0.08 * np.sin(2 * np.pi * 440 * 2 ** ((midi - 69) / 12) * tt) * np.exp(-tt / bar)
        bass = root - 12 + scale[deg]
        y[i0:i1] += 0.15 * np.sign(np.sin(2 * np.pi * 440 * 2 ** ((bass - 69) / 12) * tt)) * 0.5
    kick = np.sin(2 * np.pi * 60 * np.arange(int(0.15 * sr)) / sr) * np.exp(-np.arange(int(0.15 * sr)) / (0.04 * sr))
    noise = rng.normal(0, 1, int(0.1 * sr)) * np.exp(-np.arange(int(0.1 * sr)) / (0.02 * sr))
    for j in range(int(seconds / beat)):
        i = int(j * beat * sr)
        drum = kick if j % 2 == 0 else noise * 0.6
        m = min(len(drum), n - i)
        y[i : i + m] += 0.4 * drum[:m]
    y /= np.abs(y).max() + 1e-9
    return np.stack([y, np.roll(y, 50)], axis=1).astype(np.float32) * 0.8


def worker_startup_cpu() -> float:
    """CPU seconds a scan worker spends before its first song: its initializer and a 4-second click track."""
    code = (
        "import numpy as np; from explorer.services.scan_worker import _init_worker; _init_worker(None); "
        "from explorer.audio.buffer import AudioBuffer; from explorer.services.analyze import analyze_buffer; "
        "y = np.random.default_rng(0).normal(0, 0.1, 88200) * (np.arange(88200) % 11025 < 1000); "
        "analyze_buffer(AudioBuffer(samples=y.astype(np.float32)[:, None], sr=22050))"
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[1])
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def bench_scan(n_songs: int, workers: int, folder: Path) -> None:
    from badfiles import encode

    from explorer.services.scan import scan

    music = folder / "music"
    music.mkdir()
    t = time.perf_counter()
    for i in range(n_songs):
        y = song(i)
        meta = ("-metadata", f"title=Song {i}", "-metadata", f"artist=Bench {i % 4}")
        encode(music / f"song{i:02d}.mp3", y, 44100, "-b:a", "192k", *meta)
    print(
        f"\n== scan: {n_songs} generated 4-minute mp3s (made in {time.perf_counter() - t:.0f} s), "
        f"{workers} worker processes, fresh catalogue and cache"
    )
    stamps = []
    load = os.getloadavg()[0]
    cpu0, own0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.process_time()
    report = scan(
        [music],
        db_path=folder / "scan.sqlite",
        workers=workers,
        cache_folder=folder / "cache",
        progress=lambda d, tot, p: stamps.append((time.monotonic(), d)),
    )
    cpu1, own1 = resource.getrusage(resource.RUSAGE_CHILDREN), time.process_time()
    finished = [s for s, d in stamps if d > 0]
    print(f"  load average {load:.1f} before, {os.getloadavg()[0]:.1f} after (wall-clock rates suffer from it)")
    print(
        f"  analysed {report.analysed}, failed {report.failed}: {report.elapsed:.1f} s in all "
        f"(worker start-up included) = {60 * report.analysed / report.elapsed:.1f} songs/min"
    )
    if len(finished) > 2 * workers:
        # after each worker's first song (start-up: imports, JIT compilation, model loading)
        steady = (len(finished) - workers) / (finished[-1] - finished[workers - 1]) * 60
        gap = statistics.median(np.diff(finished[workers - 1 :]))
        print(
            f"  steady state (songs finished after each worker's first): {steady:.1f} songs/min; "
            f"median gap between songs {gap:.2f} s = {60 / gap:.1f} songs/min"
        )
    if report.analysed:
        # CPU time does not depend on the other work on the machine: it says what idle cores would do
        work = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)  # workers and their ffmpeg
        cores = min(workers, os.cpu_count() or 1)
        per_song = (work + own1 - own0) / report.analysed
        print(
            f"  CPU: {work:.1f} s in the workers (with their ffmpeg; start-up included) + {own1 - own0:.1f} s "
            f"in this process = {per_song:.2f} s per song -> {60 * cores / per_song:.1f} songs/min "
            f"on {cores} idle cores"
        )
        startup = worker_startup_cpu()
        steady_cpu = (work + own1 - own0 - startup * min(workers, report.analysed)) / report.analysed
        print(
            f"  a worker's start-up (imports, JIT, models: measured in a process of its own) costs {startup:.1f} s "
            f"of CPU; without it {steady_cpu:.2f} s per song -> {60 * cores / steady_cpu:.1f} songs/min on "
            f"{cores} idle cores (a large library)"
        )
    t = time.perf_counter()
    again = scan([music], db_path=folder / "scan.sqlite", workers=workers, cache_folder=folder / "cache")
    print(
        f"  rescan of the unchanged folder: {1000 * (time.perf_counter() - t):.0f} ms "
        f"({again.unchanged} unchanged, {again.analysed} analysed)"
    )
    for _path, reason in report.failures:
        print(f"  failed: {reason}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    ap.add_argument("--songs", type=int, default=10)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--no-scan", action="store_true")
    args = ap.parse_args()
    print(
        f"cores: {os.cpu_count()}, python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.1f} "
        "(the figures are wall-clock: other work on the machine slows them)"
    )
    with tempfile.TemporaryDirectory(prefix="bench-library-") as tmp:
        os.environ.setdefault("XDG_CACHE_HOME", os.path.join(tmp, "xdg-cache"))
        for n in args.sizes:
            bench_catalogue(n, Path(tmp))
        if not args.no_scan and args.songs > 0:
            bench_scan(args.songs, args.workers, Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
