"""SIGKILL a library scan at random moments while another process adds likes and dislikes through the CLI.

After every kill: the catalogue passes ``PRAGMA integrity_check``, opens without being declared damaged, its
JSON backup parses, and every like/dislike whose command had returned is still there.  At the end a scan runs
to completion and the counts are right (each file once, all analysed, a further scan has nothing to do).
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter

import pytest
from badfiles import SEED, sine, write_sf
from procs import alive, children, group, is_spawned_worker, read
from timing import budget

KILLS = 20
#: Where kills land: 2 in 5 at a random moment of the first seconds (start-up, walk, tag reading, the first
#: commits); the rest just after the scan has finished 1–2 more songs plus a random 0–0.5 s (mid-analysis, mid-commit).
EARLY = (0.2, 3.0)
SONGS = (1, 2)
AFTER_SONG = (0.0, 0.5)
#: No round waits longer than this for its kill point (a slow machine then kills it there).
ROUND_CAP = 30.0
INITIAL_FILES, FILES_PER_ROUND = 8, 1
#: Seconds between one rating command's return and the next one's start (each is a Python start-up: CPU).
RATING_PAUSE = 0.5


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "explorer", *args]


def with_ctrl_c(args: list[str]) -> list[str]:
    """``args`` run with SIGINT at its default, as from a terminal.  A suite started from a background job of a
    non-interactive shell (``make test &``, some CI runners) runs with SIGINT ignored, which every child inherits
    and Python respects, so a Ctrl-C test would test nothing but that."""
    return [
        sys.executable,
        "-c",
        "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])",
        *args,
    ]


def start(args, log):
    return subprocess.Popen(
        args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )  # its own process group: the kill takes its workers too


def kill(proc) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def done_count(db) -> int:
    """Songs the scan has finished (analysed or failed), as another reader of the catalogue sees it."""
    try:
        conn = sqlite3.connect(db, timeout=5)
        try:
            return conn.execute("SELECT count(*) FROM tracks WHERE state IN ('analysed', 'failed')").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.OperationalError:  # not created yet, or busy
        return 0


def read_back(db) -> tuple[str, Counter, dict]:
    """integrity_check, events per (path, kind), tracks per state — read with plain sqlite3 as SQLite recovers."""
    conn = sqlite3.connect(db, timeout=budget(30))
    try:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        events = Counter(
            {
                (p, k): n
                for p, k, n in conn.execute(
                    "SELECT t.path, e.kind, count(*) FROM events e JOIN tracks t ON t.id = e.track_id GROUP BY 1, 2"
                )
            }
        )
        states = dict(conn.execute("SELECT state, count(*) FROM tracks GROUP BY 1").fetchall())
    finally:
        conn.close()
    return integrity, events, states


@pytest.mark.slow
def test_sigkill_scan_loses_nothing(tmp_path):
    music, db, logs = tmp_path / "music", tmp_path / "library.sqlite", tmp_path / "logs"
    music.mkdir()
    logs.mkdir()
    made = 0

    def add_files(n):
        nonlocal made
        for _ in range(n):  # every file different (a copy would count as the same song moved)
            write_sf(music / f"song {made:03d}.wav", sine(1.5, 8000, freq=180.0 + 23.0 * made), 8000)
            made += 1

    add_files(INITIAL_FILES)
    targets = sorted(str(p) for p in music.iterdir())
    rng = random.Random(SEED)
    committed: Counter = Counter()  # (path, kind) → rating commands that returned 0 before a kill
    failed_commands = []
    figures = []
    n_cmd = 0
    for k in range(KILLS):
        early = k % 5 in (0, 3)
        delay = rng.uniform(*EARLY) if early else None
        songs, extra = rng.randint(*SONGS), rng.uniform(*AFTER_SONG)
        done_before = done_count(db) if db.exists() else 0
        with open(logs / f"scan-{k}.log", "wb") as log:
            t0 = time.monotonic()
            scan = start(cli("scan", "--workers", "0", "--db", str(db), str(music)), log)
            rater, rating, next_rating = None, None, t0
            t_kill = t0 + (delay if early else ROUND_CAP)
            while time.monotonic() < t_kill:
                if rater is None and time.monotonic() >= next_rating:
                    rating = (targets[n_cmd % len(targets)], ("like", "dislike")[n_cmd // len(targets) % 2])
                    rater = start(cli(rating[1], "--db", str(db), rating[0]), subprocess.PIPE)
                    n_cmd += 1
                elif rater is not None and rater.poll() is not None:
                    said = rater.stdout.read().decode("utf-8", "replace")
                    rater.stdout.close()
                    log.write(said.encode())
                    if rater.returncode == 0:
                        if not said.startswith("already "):  # "already disliked: …" adds no history entry
                            committed[rating] += 1
                    else:
                        failed_commands.append((rating, rater.returncode))
                    rater, next_rating = None, time.monotonic() + RATING_PAUSE
                if scan.poll() is not None:  # finished early: the next round has new files
                    break
                if not early and t_kill - t0 == ROUND_CAP and done_count(db) >= done_before + songs:
                    t_kill = time.monotonic() + extra
                time.sleep(0.02)
            at = time.monotonic() - t0
            scan_done = scan.poll() is not None
            kill(scan)
            if rater is not None:
                kill(rater)  # in flight at the kill: it may or may not have committed
                rater.stdout.close()
        integrity, events, states = read_back(db) if db.exists() else ("ok", Counter(), {})
        lost = {r: n for r, n in committed.items() if events[r] < n}
        figures.append(
            (
                k,
                at,
                "early" if early else f"+{songs} songs",
                scan_done,
                integrity,
                states.get("analysed", 0) + states.get("failed", 0),
                states.get("pending", 0),
                sum(committed.values()),
                len(lost),
            )
        )
        assert integrity == "ok", f"kill {k} after {at:.2f} s: {integrity}"
        assert not lost, f"kill {k}: committed ratings lost: {lost}"
        backup = db.with_name(db.name + "-backup.json")  # named after the whole file name
        if backup.exists():
            json.loads(backup.read_text("utf-8"))  # written atomically: never half a file
        add_files(FILES_PER_ROUND)

    print("\nkill  at (s)  aimed at   finished  integrity  done  pending  ratings-committed  lost")
    for row in figures:
        print("{:4d}  {:6.2f}  {:9}  {!s:8}  {:9}  {:4d}  {:7d}  {:17d}  {:4d}".format(*row))
    assert not failed_commands, f"rating commands that failed while a scan ran: {failed_commands}"

    final = subprocess.run(
        cli("scan", "--workers", "1", "--db", str(db), str(music)), capture_output=True, text=True, timeout=budget(300)
    )
    assert final.returncode == 0, final.stderr
    again = subprocess.run(
        cli("scan", "--workers", "1", "--db", str(db), str(music)), capture_output=True, text=True, timeout=budget(300)
    )
    assert again.returncode == 0, again.stderr
    summary = again.stdout.strip().splitlines()[
        -1
    ]  # "52 audio files: 0 new, … 52 unchanged, …; 0 analysed, 0 failed …"
    assert summary.startswith(f"{made} audio files: 0 new, 0 changed, 0 moved, 0 missing, {made} unchanged"), summary
    assert "; 0 analysed, 0 failed" in summary, summary
    integrity, events, states = read_back(db)
    assert integrity == "ok"
    if states != {"analysed": made}:  # each file once, all analysed: nothing half-done or doubled
        conn = sqlite3.connect(db)
        bad = conn.execute("SELECT path, state, error FROM tracks WHERE state != 'analysed' LIMIT 5").fetchall()
        conn.close()
        pytest.fail(f"tracks by state {states}, expected {{'analysed': {made}}}; e.g. {bad}")
    assert all(events[r] >= n for r, n in committed.items())
    from explorer.library.store import Library

    with Library(db, cache=None) as lib:
        assert lib.notices == []  # not declared damaged, nothing restored from the backup
    print(f"kills: {KILLS}, files: {made}, rating commands returned: {sum(committed.values())}, all present")


def wait_gone(pids, timeout: float | None = None) -> set[int]:
    deadline = time.monotonic() + (budget(10) if timeout is None else timeout)
    while alive(pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive(pids)


def test_scan_workers_end_when_the_scan_is_killed_alone(tmp_path):
    """Only the scanning process is killed (not its group): its worker processes must not live on."""
    music = tmp_path / "music"
    music.mkdir()
    for i in range(6):
        write_sf(music / f"tone{i}.wav", sine(20.0, 22050, freq=220.0 * (i + 1)), 22050)
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    proc = subprocess.Popen(
        cli("scan", str(music), "--workers", "2"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + budget(60)
        workers: set[int] = set()
        while len(workers) < 2 and proc.poll() is None and time.monotonic() < deadline:
            workers = {p for p in children(proc.pid, zombies=False) if b"multiprocessing" in read(p, "cmdline")}
            time.sleep(0.05)
        assert len(workers) >= 2, "the scan started no worker processes"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert wait_gone(workers) == set(), "scan workers outlived the killed scan"
    finally:
        kill(proc)


HELPER_SCRIPT = """
import sys, time
from explorer.services import analysis_helper
analysis_helper.start()
pool = analysis_helper._get_pool()
while not pool.executor._processes:
    time.sleep(0.01)
print(*pool.executor._processes, flush=True)
time.sleep(600)
"""


def test_analysis_helper_ends_when_the_window_process_is_killed(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-c", HELPER_SCRIPT], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        helpers = {int(p) for p in proc.stdout.readline().split()}
        assert helpers and alive(helpers) == helpers
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert wait_gone(helpers) == set(), "the analysis helper outlived the window's process"
    finally:
        kill(proc)
        proc.stdout.close()


def test_ctrl_c_stops_a_scan_at_once_and_keeps_what_it_committed(tmp_path):
    """Ctrl-C in the terminal (SIGINT to the scan's process group) while its workers are stopped (SIGSTOP: a
    machine too busy to run them, or songs that take minutes): the scan must end them instead of waiting for
    their songs, exit 130 with one line, leave no process behind, and keep every song it had committed."""
    music, db = tmp_path / "music", tmp_path / "library.sqlite"
    music.mkdir()
    for i in range(2):  # quick ones: committed before the Ctrl-C
        write_sf(music / f"a{i}.wav", sine(2.0, 8000, freq=300.0 + 40 * i), 8000)
    for i in range(4):  # long ones: in the workers' hands at the Ctrl-C
        write_sf(music / f"b{i}.wav", sine(10.0, 22050, freq=200.0 + 30 * i), 22050)
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    proc = subprocess.Popen(
        with_ctrl_c(cli("scan", "--workers", "2", "--db", str(db), str(music))),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + budget(60)
        while done_count(db) < 1 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        workers = {p for p in children(proc.pid, zombies=False) if is_spawned_worker(p)}
        for pid in workers:
            os.kill(pid, signal.SIGSTOP)
        committed = done_count(db)
        assert proc.poll() is None and workers and 1 <= committed < 6, "the scan was not caught mid-way"
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=budget(30))
        assert proc.returncode == 130, err
        assert err.strip().splitlines()[-1] == "music-explorer: interrupted", err
        assert "Traceback" not in err, err
        assert wait_gone(group(proc.pid), budget(10)) == set(), "processes of the scan outlived it"
    finally:
        kill(proc)
    integrity, _, states = read_back(db)
    assert integrity == "ok"
    assert states.get("analysed", 0) >= committed
    final = subprocess.run(
        cli("scan", "--workers", "0", "--db", str(db), str(music)),
        capture_output=True,
        text=True,
        env=env,
        timeout=budget(300),
    )
    assert final.returncode == 0, final.stderr
    assert read_back(db)[2] == {"analysed": 6}  # the songs the workers had are the next scan's


def test_the_analysis_helper_is_ended_at_quit_even_when_it_cannot_run(tmp_path):
    """The window's quit ends its analysis helper whatever it is doing: here it is stopped (SIGSTOP) in the
    middle of a song, so it can neither finish nor react to SIGTERM; it must still be gone after shutdown()
    (it used to be left behind, stopped, after a SIGTERM that could not land)."""
    import threading

    from explorer.errors import ExplorerError
    from explorer.services import analysis_helper

    song = write_sf(tmp_path / "long.wav", sine(120.0, 22050, freq=330.0), 22050)
    analysis_helper.start()
    pool = analysis_helper._get_pool()
    deadline = time.monotonic() + budget(60)
    while not pool.executor._processes and time.monotonic() < deadline:
        time.sleep(0.01)
    helpers = set(pool.executor._processes)
    assert helpers
    outcome = []

    def analyse():
        try:
            analysis_helper.analyse(str(song), content_hash=None, cache=None)
            outcome.append("finished")
        except ExplorerError as e:
            outcome.append(e.message)

    waiter = threading.Thread(target=analyse)
    waiter.start()
    try:
        time.sleep(0.5)  # the song is handed over (if the helper is still starting, it is stopped there)
        for pid in helpers:
            os.kill(pid, signal.SIGSTOP)
        analysis_helper.shutdown()
        assert wait_gone(helpers) == set(), "the stopped helper outlived the quit"
        waiter.join(budget(30))
        assert not waiter.is_alive()
        assert outcome and outcome[0] != "finished"  # the waiting job learns the helper stopped
    finally:
        for pid in alive(helpers):
            os.kill(pid, signal.SIGKILL)
        analysis_helper.shutdown()
