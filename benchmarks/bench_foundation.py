#!/usr/bin/env python3
"""Foundation figures: decoding speed, peak-pyramid build time, playback start latency.

    .venv/bin/python benchmarks/bench_foundation.py [--runs 5] [--json OUT]

- decode: a 4-minute 44.1 kHz stereo mp3 (192 kbit/s) made from the demo songs, through
  ``explorer.audio.decode.decode``; reported as times real time (audio seconds per second).
- peaks: ``build_peaks`` on a 30-minute 44.1 kHz stereo buffer, and a view's ``window`` query.
- playback start: from the ``Player.play()`` call to the return of the backend's
  ``play_buffer`` (simpleaudio, real ALSA, playing into a ``type file`` device that writes
  to /dev/null, so no sound card is needed), for a 5-minute song: a 20-second region, from
  one minute to the end, and the whole song; "cold" is a player that has not seen the song
  (the first click), "prepared" one that has converted it already (every later click).
  Target: < 100 ms.

Every figure is the median of ``--runs`` runs (min and max beside it).  Needs no data
outside the repository.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ALSA_DEVNULL = """pcm.!default {
    type file
    slave { pcm { type null } }
    file "/dev/null"
    format "raw"
}
ctl.!default { type hw card 0 }
"""


def stats(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": len(values)}


def make_mp3(folder: Path, seconds: float = 240.0) -> Path:
    """A 4-minute mp3 of the demo songs one after the other."""
    songs = sorted(str(p) for p in (ROOT / "resources" / "demo").iterdir() if p.suffix in (".opus", ".ogg"))
    if not songs:
        raise SystemExit("no demo songs in resources/demo: run tools/make_demo_songs.py")
    out = folder / "four_minutes.mp3"
    inputs = []
    for s in songs:
        inputs += ["-i", s]
    graph = "".join(f"[{i}:a]aresample=44100,aformat=channel_layouts=stereo[a{i}];" for i in range(len(songs)))
    graph += (
        "".join(f"[a{i}]" for i in range(len(songs))) + f"concat=n={len(songs)}:v=0:a=1,aloop=loop=-1:size=2e9[out]"
    )
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
            "[out]",
            "-t",
            str(seconds),
            "-ar",
            "44100",
            "-c:a",
            "libmp3lame",
            "-b:a",
            "192k",
            str(out),
        ],
        check=True,
    )
    return out


def bench_decode(path: Path, runs: int) -> dict:
    from explorer.audio.decode import decode

    times, duration = [], 0.0
    for _ in range(runs):
        t0 = time.perf_counter()
        b = decode(path)
        times.append(time.perf_counter() - t0)
        duration = b.duration
    s = stats(times)
    s.update(audio_seconds=duration, x_real_time=duration / s["median"])
    return s


def bench_peaks(buffer, runs: int) -> dict:
    from explorer.audio.peaks import build_peaks

    build, query = [], []
    for _ in range(runs):
        buffer._cache.pop("mono", None)  # the mono mix is part of the cost the first time a song is drawn
        t0 = time.perf_counter()
        p = build_peaks(buffer)
        build.append(time.perf_counter() - t0)
    rng = np.random.default_rng(0)
    for _ in range(200):
        a = float(rng.uniform(0, buffer.duration - 60))
        span = float(rng.choice([1.0, 10.0, 60.0, 600.0, buffer.duration]))
        t0 = time.perf_counter()
        p.window(a, min(buffer.duration, a + span), 1600)
        query.append(time.perf_counter() - t0)
    return {
        "audio_seconds": buffer.duration,
        "build": stats(build),
        "window_query": stats(query),
        "levels": len(p.levels),
    }


class TimedBackend:
    """simpleaudio, noting when ``play_buffer`` returns."""

    def __init__(self):
        import simpleaudio

        self._sa = simpleaudio
        self.returned: list[float] = []
        self.event = threading.Event()

    def play_buffer(self, *args):
        obj = self._sa.play_buffer(*args)
        self.returned.append(time.perf_counter())
        self.event.set()
        return obj


def bench_playback(buffer, runs: int) -> dict:
    """Cold: a fresh player converts the region it is asked for.  Prepared: the player converted the
    whole song in the background beforehand (what it does after the first click), so a click only slices."""
    from explorer.audio.playback import Player

    backend = TimedBackend()
    cases = {
        "20 s region": (120.0, 140.0),
        "1:00 to the end": (60.0, buffer.duration),
        "whole song": (0.0, buffer.duration),
    }
    out = {}
    warm = Player(backend=backend)
    warm.prepare(buffer, wait=True)
    for name, (a, b) in cases.items():
        for kind in ("cold", "prepared"):
            times = []
            for _ in range(runs + 1):
                player = Player(backend=backend) if kind == "cold" else warm
                backend.event.clear()
                t0 = time.perf_counter()
                player.play(buffer, a, b)
                if not backend.event.wait(10):
                    raise SystemExit("playback did not start within 10 s")
                times.append(backend.returned[-1] - t0)
                player.stop()
                if kind == "cold":
                    player.prepare(buffer, wait=True)  # let its background conversion finish before the next run
            out[f"{name}, {kind}"] = stats(times[1:])  # the first run also loads simpleaudio and ALSA's configuration
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", metavar="OUT", help="also write the figures as JSON")
    args = ap.parse_args(argv)
    from explorer.audio.buffer import AudioBuffer

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        conf = tmp / "asound.conf"
        conf.write_text(ALSA_DEVNULL)
        os.environ["ALSA_CONFIG_PATH"] = str(conf)

        mp3 = make_mp3(tmp)
        results["decode_4min_mp3"] = d = bench_decode(mp3, args.runs)
        print(
            f"decode 4-min mp3 ({d['audio_seconds']:.0f} s, 44.1 kHz stereo, 192 kbit/s): "
            f"median {d['median'] * 1000:.0f} ms (min {d['min'] * 1000:.0f}, max {d['max'] * 1000:.0f}) "
            f"= {d['x_real_time']:.0f}x real time"
        )

        from explorer.audio.decode import decode

        four = decode(mp3).samples
        thirty = AudioBuffer(np.tile(four, (8, 1))[: 1800 * 44100], 44100)
        results["peaks_30min"] = p = bench_peaks(thirty, args.runs)
        print(
            f"peak pyramid, 30-min 44.1 kHz stereo: build median {p['build']['median'] * 1000:.0f} ms "
            f"(min {p['build']['min'] * 1000:.0f}, max {p['build']['max'] * 1000:.0f}), {p['levels']} levels; "
            f"window query for 1600 px median {p['window_query']['median'] * 1e6:.0f} us "
            f"(max {p['window_query']['max'] * 1e6:.0f} us)"
        )
        del thirty

        five = AudioBuffer(np.concatenate([four, four[: 60 * 44100]]), 44100)
        results["playback_start_5min"] = pb = bench_playback(five, args.runs)
        for name, s in pb.items():
            print(
                f"playback start, 5-min song, {name}: median {s['median'] * 1000:.1f} ms "
                f"(min {s['min'] * 1000:.1f}, max {s['max'] * 1000:.1f}); target < 100 ms"
            )
    results["machine"] = {"cpus": os.cpu_count(), "load_average_1min": os.getloadavg()[0]}
    print(f"(machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f})")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
