"""Scanning folders of songs the tests make: change detection, moves, failures, cancel, kills, resume."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import write_audio
from procs import children
from timing import budget

from explorer.library.store import Library
from explorer.services.scan import scan

SR = 22050


def _song(seed: int, seconds: float = 3.0) -> np.ndarray:
    """A short synthetic 'song': a few chords (even seeds) or noise bursts with a tone (odd seeds)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    if seed % 2 == 0:
        y = sum(np.sin(2 * np.pi * f * t) for f in 110 * 2 ** (rng.integers(0, 24, 3) / 12))
    else:
        env = (np.sin(2 * np.pi * rng.uniform(1.5, 3.0) * t) > 0.3).astype(float)
        y = rng.normal(0, 0.6, t.size) * env + 0.3 * np.sin(2 * np.pi * rng.uniform(200, 800) * t)
    return (0.25 * y / max(1e-9, np.abs(y).max())).astype(np.float32)


def make_songs(folder: Path, n: int, *, start: int = 0, seconds: float = 3.0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(start, start + n):
        p = folder / f"song {i:02d}.mp3"
        write_audio(
            p,
            _song(i, seconds),
            SR,
            codec_args=(
                "-metadata",
                f"title=Title {i}",
                "-metadata",
                f"artist=Artist {i % 3}",
                "-metadata",
                "genre=Test",
            ),
        )
        out.append(p)
    return out


def test_scan_reads_tags_analyses_and_a_rescan_does_nothing(tmp_path):
    music = tmp_path / "music"
    make_songs(music, 2)
    make_songs(music / "sub" / "deeper", 2, start=2)
    (music / "notes.txt").write_text("not audio")
    db = tmp_path / "lib.sqlite"
    seen = []
    report = scan([music], db_path=db, workers=0, progress=lambda d, t, p: seen.append((d, t)))
    assert (report.found, report.added, report.analysed, report.failed) == (4, 4, 4, 0)
    assert seen[0] == (0, 4) and seen[-1] == (4, 4)
    with Library(db) as lib:
        tracks = lib.tracks()
        assert {t.state for t in tracks} == {"analysed"}
        t = lib.track_by_path(music / "sub" / "deeper" / "song 03.mp3")
        assert (t.title, t.artist, t.genre_tag) == ("Title 3", "Artist 0", "Test")
        assert abs(t.duration - 3.0) < 0.2
        assert lib.embeddings()[1].shape[0] == 4
    again = scan([music], db_path=db, workers=0)
    assert (again.unchanged, again.added, again.analysed) == (4, 0, 0)


def test_moved_file_keeps_its_like_and_a_removed_file_is_marked_missing(tmp_path):
    music = tmp_path / "music"
    a, b, c = make_songs(music, 3)
    db = tmp_path / "lib.sqlite"
    scan([music], db_path=db, workers=0)
    with Library(db) as lib:
        ta, tb = lib.track_by_path(a), lib.track_by_path(b)
        lib.like(ta.id)
        lib.dislike(tb.id)
        lib.record_play(ta.id, 3.0)
    (music / "moved").mkdir()
    new_a = music / "moved" / "renamed.mp3"
    a.rename(new_a)
    b.unlink()
    report = scan([music], db_path=db, workers=0)
    assert (report.moved, report.missing, report.analysed, report.added) == (1, 1, 0, 0)
    with Library(db) as lib:
        t = lib.track_by_path(new_a)
        assert t.id == ta.id and t.rating == 1 and t.state == "analysed" and t.play_count == 1
        assert lib.track_by_path(a) is None
        gone = lib.track(tb.id)
        assert gone.state == "missing" and gone.rating == -1
        assert [h.track_id for h in lib.history()][-1] == ta.id
    # the file comes back: the same row again, rating intact
    write_audio(
        b,
        _song(1),
        SR,
        codec_args=("-metadata", "title=Title 1", "-metadata", "artist=Artist 1", "-metadata", "genre=Test"),
    )
    scan([music], db_path=db, workers=0)
    with Library(db) as lib:
        back = lib.track(tb.id)
        assert back.state == "analysed" and back.rating == -1


def test_changed_file_is_analysed_again(tmp_path):
    music = tmp_path / "music"
    (a,) = make_songs(music, 1)
    db = tmp_path / "lib.sqlite"
    scan([music], db_path=db, workers=0)
    with Library(db) as lib:
        before = lib.track_by_path(a)
    write_audio(a, _song(7, 4.0), SR)
    report = scan([music], db_path=db, workers=0)
    assert (report.changed, report.analysed) == (1, 1)
    with Library(db) as lib:
        after = lib.track_by_path(a)
    assert after.id == before.id and after.content_hash != before.content_hash
    assert abs(after.duration - 4.0) < 0.2


def test_bad_files_are_recorded_as_failed_and_the_scan_goes_on(tmp_path):
    music = tmp_path / "music"
    make_songs(music, 2)
    (music / "random.mp3").write_bytes(np.random.default_rng(3).integers(0, 256, 6000, dtype=np.uint8).tobytes())
    (music / "empty.wav").write_bytes(b"")
    (music / "text.ogg").write_text("just some text\n" * 50)
    (music / "dir.mp3").mkdir()
    os.symlink(music / "nowhere.flac", music / "broken.flac")
    db = tmp_path / "lib.sqlite"
    report = scan([music], db_path=db, workers=0)
    assert report.analysed == 2
    failed = dict(report.failures)
    names = {Path(p).name for p in failed}
    assert names == {"random.mp3", "empty.wav", "text.ogg", "broken.flac"}
    for path, reason in failed.items():
        assert Path(path).name in reason and len(reason.splitlines()) == 1
    assert "broken symbolic link" in failed[str(music / "broken.flac")]
    with Library(db) as lib:
        states = {Path(t.path).name: (t.state, t.error) for t in lib.tracks()}
    assert states["random.mp3"][0] == "failed" and "random.mp3" in states["random.mp3"][1]
    again = scan([music], db_path=db, workers=0)
    assert (again.analysed, again.failed) == (0, 0)  # finished work, failures included, is not redone


def test_cancelled_scan_resumes_without_redoing_work(tmp_path):
    music = tmp_path / "music"
    make_songs(music, 4)
    db = tmp_path / "lib.sqlite"
    done = []
    report = scan(
        [music],
        db_path=db,
        workers=0,
        progress=lambda d, t, p: done.append(d),
        cancel=lambda: bool(done) and done[-1] >= 1,
    )
    assert report.cancelled and report.analysed == 1
    report = scan([music], db_path=db, workers=0)
    assert not report.cancelled and report.analysed == 3 and report.unchanged == 1


@pytest.mark.slow
def test_killed_worker_process_is_replaced_and_its_song_retried(tmp_path):
    music = tmp_path / "music"
    make_songs(music, 4)
    db = tmp_path / "lib.sqlite"
    killed = []

    def progress(done, total, path):
        if done == 1 and not killed:
            workers = multiprocessing.active_children()
            assert workers, "the pool has worker processes"
            os.kill(workers[0].pid, signal.SIGKILL)
            killed.append(workers[0].pid)
            # Let the pool see the death before the scan's next submit (which then must not raise).
            deadline = time.monotonic() + budget(30)
            while workers[0].is_alive() and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.3)

    report = scan([music], db_path=db, workers=1, progress=progress)
    assert killed
    assert (report.analysed, report.failed) == (4, 0)
    with Library(db) as lib:
        assert lib.count("analysed") == 4 and lib.integrity_check() == "ok"


@pytest.mark.slow
def test_scan_killed_with_sigkill_leaves_a_sound_database_and_resumes(tmp_path):
    music = tmp_path / "music"
    songs = make_songs(music, 10, seconds=4.0)
    db = tmp_path / "lib.sqlite"
    with Library(db) as lib:  # a like given before any scan (the file is known but not analysed)
        liked = lib.add_or_update_file(songs[5])
        lib.like(liked.id)
    proc = subprocess.Popen(
        [sys.executable, "-m", "explorer", "scan", str(music), "--db", str(db), "--workers", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    analysed_at_kill = 0
    try:
        deadline = time.monotonic() + budget(240)
        while time.monotonic() < deadline and proc.poll() is None:
            with contextlib.closing(sqlite3.connect(db, timeout=10)) as conn:  # "with connect()" does not close
                analysed_at_kill = conn.execute("SELECT count(*) FROM tracks WHERE state='analysed'").fetchone()[0]
            if analysed_at_kill >= 2:
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the scan finished before it could be killed"
        orphans = children(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    for pid in orphans:  # the pool workers of the killed scan
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert 2 <= analysed_at_kill < 10
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    with Library(db) as lib:
        assert lib.count("analysed") >= analysed_at_kill
        before = lib.count("analysed")
    report = scan([music], db_path=db, workers=0)
    assert (report.analysed, report.failures) == (10 - before, [])
    with Library(db) as lib:
        assert lib.count("analysed") == 10 and lib.track(liked.id).rating == 1
        assert lib.integrity_check() == "ok"


@pytest.mark.slow
def test_random_sigkills_of_a_scan_never_lose_a_committed_row(tmp_path):
    """Kill the scanning process at random moments while another process rates and plays songs.

    Every like/dislike/play whose call returned must be there after each kill, the file must pass
    ``PRAGMA integrity_check``, and a last scan must finish the work.  KILL_POINTS (default 3) sets
    how many kills; ``KILL_POINTS=20`` is the issue's check.
    """
    rng = np.random.default_rng(20261122)
    music = tmp_path / "music"
    songs = make_songs(music, 6, seconds=3.0)
    db = tmp_path / "lib.sqlite"
    with Library(db) as lib:
        ids = [lib.add_or_update_file(p).id for p in songs]
    committed: list[tuple[str, int]] = []
    kills = 0
    for n in range(int(os.environ.get("KILL_POINTS", "3"))):
        with Library(db) as lib:  # give every scan work to do and commit
            lib.mark_pending([t for t in ids if rng.random() < 0.5])
        proc = subprocess.Popen(
            [sys.executable, "-m", "explorer", "scan", str(music), "--db", str(db), "--workers", "0"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + rng.uniform(0.3, 4.0)
        with Library(db) as lib:
            while time.monotonic() < deadline and proc.poll() is None:
                tid = int(rng.choice(ids))
                action = ["like", "dislike", "play"][int(rng.integers(3))]
                if action == "play":
                    lib.record_play(tid, 100.0, 100.0)
                else:
                    getattr(lib, action)(tid)
                committed.append((action, tid))
                time.sleep(rng.uniform(0.0, 0.05))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait()
        conn = sqlite3.connect(db)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok", f"after kill {n}"
        events = conn.execute("SELECT kind, track_id FROM events ORDER BY id").fetchall()
        conn.close()
        assert [(("play" if k == "play" else k), t) for k, t in events] == committed
    if kills == 0:  # every scan finished before its random moment: kill one once it has stored its first song
        with Library(db) as lib:
            lib.mark_pending(ids)
        proc = subprocess.Popen(
            [sys.executable, "-m", "explorer", "scan", str(music), "--db", str(db), "--workers", "0"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        conn = sqlite3.connect(db)
        while (
            proc.poll() is None
            and not conn.execute("SELECT count(*) FROM tracks WHERE state = 'analysed'").fetchone()[0]
        ):
            time.sleep(0.005)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait()
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok", "after the last kill"
        conn.close()
    print(f"{kills} of the scans were killed, the others had finished")
    assert kills >= 1
    scan([music], db_path=db, workers=0)
    with Library(db) as lib:
        assert [(t.state, t.error) for t in lib.tracks()] == [("analysed", None)] * 6
        last = {}
        for action, tid in committed:
            if action != "play":
                last[tid] = 1 if action == "like" else -1
        assert all(lib.track(t).rating == r for t, r in last.items())
        assert sum(lib.track(t).play_count for t in ids) == sum(a == "play" for a, _ in committed)


def test_results_of_another_analysis_version_are_redone(tmp_path):
    music = tmp_path / "music"
    make_songs(music, 2)
    (music / "bad.mp3").write_bytes(b"\x00" * 3000)
    db = tmp_path / "lib.sqlite"
    first = scan([music], db_path=db, workers=0)
    assert (first.analysed, first.failed) == (2, 1)
    conn = sqlite3.connect(db)
    conn.execute("UPDATE tracks SET analysis_version = 'an older one'")
    conn.commit()
    conn.close()
    again = scan([music], db_path=db, workers=0)
    assert (again.outdated, again.analysed, again.failed, again.unchanged) == (3, 2, 1, 0)
    assert scan([music], db_path=db, workers=0).unchanged == 3


def test_cli_scan_progress_like_a_new_file_and_recommend_for_a_file_outside(tmp_path, capsys):
    from explorer.cli.main import main

    music = tmp_path / "music"
    make_songs(music, 3)
    db = str(tmp_path / "lib.sqlite")
    assert main(["scan", str(music), "--db", db, "--workers", "0"]) == 0
    out, err = capsys.readouterr()
    assert "3 audio files: 3 new" in out and "3 analysed, 0 failed" in out
    assert "0/3" in err and "songs/min" in err and "ETA" in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("[" + "#" * 24 + "] 3/3") and re.search(r" in \d+:\d\d", last) and "ETA" not in last
    assert main(["scan", str(music), "--db", db, "--workers", "0"]) == 0  # nothing to analyse: no bar
    out, err = capsys.readouterr()
    assert "3 unchanged" in out and err == ""
    outside = make_songs(tmp_path / "elsewhere", 1, start=8)[0]
    assert main(["like", str(outside), "--db", db]) == 0  # not scanned: added, and liked
    with Library(db) as lib:
        t = lib.track_by_path(outside)
        assert t.rating == 1 and t.state == "pending"
    outside2 = make_songs(tmp_path / "elsewhere2", 1, start=9)[0]
    capsys.readouterr()
    assert main(["recommend", str(outside2), "--db", db, "--mode", "sound", "--json"]) == 0
    doc = __import__("json").loads(capsys.readouterr().out)
    assert doc["seed"] == str(outside2) and len(doc["recommendations"]) == 3


@pytest.mark.slow
def test_pool_that_cannot_start_stops_the_scan_with_a_message_instead_of_failing_every_song(tmp_path):
    music = tmp_path / "music"
    make_songs(music, 2)
    script = tmp_path / "no_main_guard.py"  # spawned workers re-run this module: they die while starting
    script.write_text(
        "import sys\nfrom explorer.services.scan import scan\n"
        f"scan([{str(music)!r}], db_path={str(tmp_path / 'lib.sqlite')!r}, workers=1)\n"
    )
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=budget(240))
    assert proc.returncode != 0 and "keep stopping before finishing any song" in proc.stderr
    with Library(tmp_path / "lib.sqlite") as lib:
        assert lib.count("failed") == 0 and lib.count() == 2
