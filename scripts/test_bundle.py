#!/usr/bin/env python3
"""Check a built bundle (``make test-bundle`` builds it, then runs this): its command line and its window work,
and it never multiplies itself.

    .venv/bin/python scripts/test_bundle.py [dist/music-explorer/music-explorer] [--watch SECONDS]

1. ``analyze`` of a generated song (JSON with the song's duration);
2. ``scan --workers 2`` of a folder of two generated songs (both analysed), while the scan's process group is
   watched: the command, its two workers and multiprocessing's resource tracker;
3. the window on a song, on its own virtual screen (Xvfb): the process group must stay within the design
   (the window, its analysis helper, multiprocessing's resource tracker: three copies of the program, plus
   the ffmpeg/ffprobe they run) while the song is analysed by the helper and then for ``--watch`` seconds;
   SIGTERM then closes it and nothing of it may be left.

Every run is in its own process group, and the whole group is killed (SIGKILL) as soon as it holds more
copies of the program than the design allows, or at the end; the exit status is then 1.  The songs, the
library and the cache live in a temporary folder (the user's own are never touched).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

#: Copies of the program the window runs: itself, the analysis helper, multiprocessing's resource tracker.
WINDOW_COPIES = 3
#: Other programs that may run in the window's group at a time: an ffprobe/ffmpeg of the window and one of
#: the helper.
WINDOW_OTHERS = 2
#: A group with this many processes is killed at once, even when only watching (``--no-stop``).
HARD_LIMIT = 60
#: How often the group is counted, seconds.
SAMPLE = 0.1
#: How long a group may be over its limit before it is killed, seconds: a process that forks to run ffmpeg is
#: counted as a copy of the program until the child has exec-ed ffmpeg.
GRACE = 1.0


def proc_stat(pid: int) -> tuple[str, int] | None:
    """(state, process group) of ``pid``, None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return fields[0], int(fields[3])


def group(pgid: int) -> list[int]:
    """The live (not zombie) processes of process group ``pgid``."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (st := proc_stat(int(entry))) is not None and st[1] == pgid and st[0] != "Z":
            out.append(int(entry))
    return out


def exe(pid: int) -> str:
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return ""


def kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


class Watch:
    """Counts a process group's copies of ``program`` and other processes; kills the group past a limit."""

    def __init__(self, name: str, proc: subprocess.Popen, program: str, *, copies: int, others: int, stop: bool = True):
        self.name, self.proc, self.program = name, proc, os.path.realpath(program)
        self.copies, self.others, self.stop = copies, others, stop
        self.max_copies = self.max_others = 0
        self.timeline: list[tuple[float, int]] = []  # (seconds, copies) whenever the count changes
        self.t0 = time.monotonic()
        self.over_since: float | None = None  # when the group went over its limit
        self.failure = ""

    def sample(self) -> bool:
        """Count once; False once the group has been killed for holding too many processes."""
        pids = group(self.proc.pid)
        copies = sum(exe(p) == self.program for p in pids)
        others = len(pids) - copies
        if not self.timeline or self.timeline[-1][1] != copies:
            self.timeline.append((round(time.monotonic() - self.t0, 1), copies))
        self.max_copies, self.max_others = max(self.max_copies, copies), max(self.max_others, others)
        now = time.monotonic()
        over = copies > self.copies or others > self.others
        self.over_since = (self.over_since or now) if over else None
        if len(pids) >= HARD_LIMIT or (self.stop and over and now - self.over_since >= GRACE):
            kill_group(self.proc.pid)
            self.failure = (
                f"{self.name}: {copies} copies of the program and {others} other processes in its "
                f"process group (the design: at most {self.copies} and {self.others}) for "
                f"{now - self.over_since:.1f} s; killed the group"
            )
            return False
        return True

    def run_for(self, seconds: float, until=None) -> bool:
        """Sample for ``seconds`` (or until ``until()`` is true or the process ends); False if killed."""
        end = time.monotonic() + seconds
        while time.monotonic() < end and self.proc.poll() is None:
            if not self.sample():
                return False
            if until is not None and until():
                return True
            time.sleep(SAMPLE)
        return self.sample() if self.proc.poll() is None else True

    def report(self) -> str:
        shown = self.timeline if len(self.timeline) <= 12 else self.timeline[:9] + self.timeline[-3:]
        steps = ", ".join(f"{n}@{t:g}s" for t, n in shown)
        more = f" ({len(self.timeline)} changes)" if len(self.timeline) > 12 else ""
        return (
            f"{self.name}: at most {self.max_copies} copies of the program (design: ≤ {self.copies}) and "
            f"{self.max_others} other processes (≤ {self.others}); copies over time: {steps}{more}"
        )


def start(cmd, env, **kw) -> subprocess.Popen:
    return subprocess.Popen(cmd, env=env, start_new_session=True, **kw)


def make_songs(folder: Path) -> list[Path]:
    """Two short synthesised songs with repeated sections, as mp3 and ogg."""
    from badfiles import encode
    from songgen import make_song

    folder.mkdir(parents=True)
    songs = []
    for name, plan, seed in (("first.mp3", "ABAB", 1), ("second.ogg", "ABCB", 2)):
        y, sr, _ = make_song(plan, sr=22050, seed=seed, bars_per_section=2)
        path = encode(folder / name, y, sr)
        songs.append(path)
    return songs


def start_xvfb(env) -> tuple[subprocess.Popen, str]:
    """A virtual screen on a free display number; returns the server and its DISPLAY."""
    read, write = os.pipe()
    server = start(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
        env,
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as f:
        number = f.readline().strip()
    if not number:
        raise SystemExit("test-bundle: Xvfb did not start")
    return server, f":{number}"


def check_cli(program: str, env, songs: list[Path], work: Path) -> list[str]:
    failures = []
    t = time.monotonic()
    proc = subprocess.run(
        [program, "analyze", "--no-cache", str(songs[0])],
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        start_new_session=True,
    )
    if proc.returncode != 0:
        failures.append(f"analyze: exit {proc.returncode}: {proc.stderr.strip()[-2000:]}")
    else:
        result = json.loads(proc.stdout)
        print(
            f"analyze {songs[0].name}: {result['duration']:.1f} s song, {len(result['sections'])} sections, "
            f"{len(result['beats'])} beats, in {time.monotonic() - t:.0f} s"
        )

    t = time.monotonic()
    scan = start(
        [program, "scan", "--workers", "2", "--db", str(work / "library.sqlite"), str(songs[0].parent)],
        env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # the command, two workers and the resource tracker; the workers' ffprobe/ffmpeg and the command's ffprobe
    watch = Watch("scan", scan, program, copies=4, others=3)
    ok = watch.run_for(1200)
    kill_group(scan.pid)
    out, err = scan.communicate()
    print(watch.report())
    if not ok:
        failures.append(watch.failure)
    elif scan.returncode != 0 or "2 analysed, 0 failed" not in out:
        failures.append(f"scan: exit {scan.returncode}: {out.strip()} {err.strip()[-2000:]}")
    else:
        print(f"scan: {out.strip().splitlines()[-1]} (wall {time.monotonic() - t:.0f} s)")
    return failures


def check_window(program: str, env, song: Path, watch_seconds: float, stop: bool) -> list[str]:
    failures = []
    server, display = start_xvfb(env)
    log = tempfile.TemporaryFile("w+")
    try:
        # an empty cache of its own, so that the helper analyses the song the scan has cached
        fresh = Path(env["XDG_CACHE_HOME"]).with_name("window-cache")
        fresh.mkdir()
        env = {
            **env,
            "DISPLAY": display,
            "QT_QPA_PLATFORM": "xcb",
            "MUSIC_EXPLORER_LOG": "info",
            "XDG_CACHE_HOME": str(fresh),
        }
        cache = fresh / "music-explorer" / "analysis"
        t = time.monotonic()
        window = start([program, str(song)], env, stdout=log, stderr=subprocess.STDOUT)
        watch = Watch("window", window, program, copies=WINDOW_COPIES, others=WINDOW_OTHERS, stop=stop)

        def analysed() -> bool:  # the helper process wrote the song's analysis into the cache
            return cache.is_dir() and any(cache.rglob("*.mxa"))

        ok = watch.run_for(900, until=analysed)
        if ok and window.poll() is None:
            if analysed():
                print(f"window: the helper analysed {song.name} in {time.monotonic() - t:.0f} s")
            else:
                failures.append("window: the song was not analysed within 900 s")
            ok = watch.run_for(watch_seconds)
        if ok and window.poll() is None:
            window.send_signal(signal.SIGTERM)  # closes the window as its close button does
            try:
                window.wait(60)
            except subprocess.TimeoutExpired:
                failures.append("window: still running 60 s after SIGTERM")
        elif ok:
            failures.append(f"window: ended by itself (exit {window.returncode})")
        print(watch.report())
        if not ok:
            failures.append(watch.failure)
        if not ok:  # killed: SIGKILL takes a moment to reach processes that are still loading the bundle
            gone_by = time.monotonic() + 10.0
            while group(window.pid) and time.monotonic() < gone_by:
                time.sleep(SAMPLE)
        else:
            time.sleep(1.0)
        left = group(window.pid)
        if left:
            failures.append(f"window: {len(left)} processes of its group left after it ended: {left}")
        kill_group(window.pid)
        if window.returncode not in (0, None, -signal.SIGKILL):
            failures.append(f"window: exit {window.returncode}")
        log.seek(0)
        text = log.read()
        if "Traceback" in text or "file not found" in text:
            failures.append(f"window: its output holds an error:\n{text[-3000:]}")
    finally:
        kill_group(server.pid)
        server.wait()
        log.close()
    return failures


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("program", nargs="?", default=str(ROOT / "dist" / "music-explorer" / "music-explorer"))
    ap.add_argument(
        "--watch",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="how long the window is watched after its song was analysed (default: 10)",
    )
    ap.add_argument("--window-only", action="store_true", help="skip the command-line checks")
    ap.add_argument(
        "--no-stop",
        action="store_true",
        help=f"watch a growing group instead of killing it at once (killed at {HARD_LIMIT} processes)",
    )
    args = ap.parse_args()
    program = os.path.abspath(args.program)
    if not os.access(program, os.X_OK):
        print(f"test-bundle: {program}: no such program (run `make bundle`)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="test-bundle-") as tmp:
        work = Path(tmp)
        env = dict(os.environ)
        for var in ("XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME"):
            (work / var.lower()).mkdir()
            env[var] = str(work / var.lower())
        for var in ("PYTHONPATH", "PYTHONHOME", "DISPLAY", "WAYLAND_DISPLAY"):
            env.pop(var, None)
        songs = make_songs(work / "music")
        failures = [] if args.window_only else check_cli(program, env, songs, work)
        failures += check_window(program, env, songs[0], args.watch, stop=not args.no_stop)
        real = os.path.realpath(program)
        leftovers = [p for p in map(int, filter(str.isdigit, os.listdir("/proc"))) if exe(p) == real]
        if leftovers:
            failures.append(f"copies of the program still running: {leftovers}")
            for pid in leftovers:
                os.kill(pid, signal.SIGKILL)
    for f in failures:
        print(f"test-bundle: FAILED: {f}", file=sys.stderr)
    print("test-bundle: " + ("FAILED" if failures else "passed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
