"""The catalogue keeps the user's data whatever happens to its files: a damaged backup entry costs that entry
only, a file that is not ours is never moved or replaced, a read-only file, a full disk or a read-only folder give
one line (never a traceback, never lost data), the machine's failures are retried and a song that comes back is
back."""

from __future__ import annotations

import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from badfiles import sine, write_sf

from explorer.cli.main import main
from explorer.library import opening, store
from explorer.library.store import Library


def one_error_line(err: str, *words: str) -> None:
    assert err.endswith("\n") and err.count("\n") == 1, f"not one line: {err!r}"
    assert err.startswith("music-explorer: error: ") and "Traceback" not in err, err
    for w in words:
        assert w in err, (w, err)


def _songs(folder, n: int):
    folder.mkdir(exist_ok=True)
    return [write_sf(folder / f"s{i}.wav", sine(0.5, 8000, freq=300.0 + 50 * i), 8000) for i in range(n)]


def _rated_library(tmp_path, capsys):
    """A catalogue whose three songs were liked, disliked and liked (with its backup); returns (db, songs)."""
    db = tmp_path / "library.sqlite"
    songs = _songs(tmp_path / "music", 3)
    for song, verb in zip(songs, ("like", "dislike", "like"), strict=True):
        assert main([verb, "--db", str(db), str(song)]) == 0
    capsys.readouterr()
    return db, songs


def _damage(db) -> None:
    """Overwrite all but the header of ``db``: still an SQLite file of ours, damaged (as a new process sees it)."""
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = db.read_bytes()
    db.write_bytes(data[:100] + b"\xa5" * (len(data) - 100))
    opening._checked.clear()


def _backup(folder):
    (path,) = [p for p in folder.iterdir() if p.name.endswith("backup.json")]
    return path


def _cli(request, args) -> subprocess.CompletedProcess:
    """The real command in its own process, as a user without root's powers over file permissions."""
    args = ["-m", "explorer", *args]
    if os.geteuid() == 0:
        return request.getfixturevalue("run_without_root_powers")(args)
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=120)


# -- D1: one bad entry of the backup ---------------------------------------------------------------
def test_one_bad_backup_entry_costs_that_entry_only(tmp_path, capsys):
    db, songs = _rated_library(tmp_path, capsys)
    backup = _backup(tmp_path)
    doc = json.loads(backup.read_text())
    bad = next(t for t in doc["tracks"] if t["path"] == str(songs[1]))
    bad["rating"] = 5
    backup.write_text(json.dumps(doc))
    original = backup.read_text()
    _damage(db)
    assert main(["history", "--db", str(db), "--json"]) == 0
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert lines and all(ln.startswith("music-explorer: warning: ") for ln in lines), err
    assert any("skipped 1" in ln and "rating" in ln for ln in lines), err
    with Library(db) as lib:
        ratings = {t.path: t.rating for t in lib.tracks()}
    assert ratings[str(songs[0])] == 1 and ratings[str(songs[2])] == 1
    assert ratings.get(str(songs[1]), 0) == 0
    assert {(h["kind"], h["path"]) for h in map(json.loads, out.splitlines())} >= {
        ("like", str(songs[0])),
        ("like", str(songs[2])),
    }
    # the backup as it was, with the entry that could not be restored, is kept aside …
    kept = [p for p in tmp_path.iterdir() if ".unrestored-" in p.name]
    assert len(kept) == 1 and kept[0].read_text() == original
    assert any(kept[0].name in ln for ln in lines), err
    # … and stays there when the next like writes a new backup
    assert main(["dislike", "--db", str(db), str(songs[1])]) == 0
    assert kept[0].read_text() == original
    assert {t["path"]: t["rating"] for t in json.loads(_backup(tmp_path).read_text())["tracks"]} == {
        str(songs[0]): 1,
        str(songs[1]): -1,
        str(songs[2]): 1,
    }


def test_every_kind_of_damaged_entry_is_skipped_and_named(tmp_path):
    good = {
        "path": str(tmp_path / "good.mp3"),
        "content_hash": "g",
        "rating": 1,
        "rated_at": 1.0,
        "play_count": 2,
        "skip_count": 0,
    }
    tracks = [
        good,
        {**good, "path": str(tmp_path / "b1.mp3"), "content_hash": "b1", "rating": 5},
        {**good, "path": str(tmp_path / "b2.mp3"), "content_hash": "b2", "play_count": -3},
        {**good, "path": str(tmp_path / "b3.mp3"), "content_hash": "b3", "rated_at": "yesterday"},
        {**good, "path": 17},
        "not an object",
        {**good, "path": str(tmp_path / "b4.mp3"), "content_hash": ["x"]},
        {**good, "path": str(tmp_path / "b5.mp3"), "content_hash": "b5", "rating": True},
    ]
    events = [
        [0, "like", 10.0, None, None],
        [0, "play", 11.0, 100.0, 180.0],
        [1, "like", 12.0, None, None],  # its track was skipped: left out with it
        [0, "dance", 13.0, None, None],
        [0, "like", "noon", None, None],
        [99, "like", 14.0, None, None],
        [0, "play", 15.0, float("nan"), 180.0],
        "x",
        [0, "like"],
    ]
    edits = [
        {
            "content_hash": "g",
            "sections": [{"start": 0, "end": 4, "label": "A", "function": "chorus"}],
            "saved_at": 2.0,
        },
        {"content_hash": "g2", "sections": [{"start": "soon"}]},
        {"content_hash": 5, "sections": []},
        {"content_hash": "g3", "sections": "all of them"},
    ]
    backup = tmp_path / "backup.json"
    backup.write_text(
        json.dumps(
            {"schema": "music-explorer/user-data/1", "tracks": tracks, "events": events, "edits": edits}, allow_nan=True
        )
    )
    with Library(tmp_path / "lib.sqlite") as lib:
        result = lib.restore_user_data(backup)
        assert (result.tracks, result.events, result.edits, result.dropped) == (1, 2, 1, 1)
        assert [p.split(":")[0] for p in result.problems] == [
            "tracks[1]",
            "tracks[2]",
            "tracks[3]",
            "tracks[4]",
            "tracks[5]",
            "tracks[6]",
            "tracks[7]",
            "events[3]",
            "events[4]",
            "events[5]",
            "events[6]",
            "events[7]",
            "events[8]",
            "edits[1]",
            "edits[2]",
            "edits[3]",
        ]
        assert "rating 5 is not -1, 0 or 1" in result.problems[0]
        (t,) = lib.tracks()
        assert (t.path, t.rating, t.play_count) == (good["path"], 1, 2)
        assert [(h.kind, h.at) for h in lib.history()] == [("play", 11.0), ("like", 10.0)]
        assert lib.structure_edits("g")[0].function == "chorus"


def test_an_interrupted_restore_is_finished_at_the_next_start(tmp_path, capsys, monkeypatch):
    db, songs = _rated_library(tmp_path, capsys)
    _damage(db)

    def interrupted(self, path=None, **kwargs):
        raise KeyboardInterrupt  # the user pressed Ctrl-C (or the machine went down) while it ran

    with monkeypatch.context() as m:
        m.setattr(Library, "restore_user_data", interrupted)
        with pytest.raises(KeyboardInterrupt):
            Library(db)
    opening._checked.clear()
    with Library(db) as lib:
        ratings = {t.path: t.rating for t in lib.tracks()}
        assert any("restored" in n for n in lib.notices), lib.notices
    assert ratings == {str(songs[0]): 1, str(songs[1]): -1, str(songs[2]): 1}


def test_a_library_that_fails_to_open_leaves_no_connection_open(tmp_path, capsys, monkeypatch):
    """Whatever stops the opening after the file is connected (here an interrupted restore) closes that
    connection: nothing of the failed attempt holds the file open until the garbage collector runs."""
    db, _ = _rated_library(tmp_path, capsys)
    _damage(db)
    made = []
    connect = opening.Opening._connect

    def recording(self):
        made.append(connect(self))
        return made[-1]

    def interrupted(self, path=None, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(opening.Opening, "_connect", recording)
        m.setattr(Library, "restore_user_data", interrupted)
        with pytest.raises(KeyboardInterrupt):
            Library(db)
    assert made
    for conn in made:
        with pytest.raises(sqlite3.ProgrammingError):  # "Cannot operate on a closed database."
            conn.execute("SELECT 1")


# -- D5: a file that is not ours ------------------------------------------------------------------
def _foreign_sqlite(path, *, application_id: int, user_version: int = 0):
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes(x)")
    conn.execute("INSERT INTO notes VALUES ('keep me')")
    conn.execute(f"PRAGMA application_id={application_id}")
    conn.execute(f"PRAGMA user_version={user_version}")
    conn.commit()
    conn.close()


@pytest.mark.parametrize("kind", ["mp3", "text", "other-app-sqlite", "plain-sqlite"])
def test_a_file_that_is_not_a_library_is_never_touched(kind, tmp_path, capsys):
    target = tmp_path / ("mysong.mp3" if kind == "mp3" else "notes.txt" if kind == "text" else "other.db")
    if kind == "mp3":
        target.write_bytes(b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 40)
    elif kind == "text":
        target.write_text("my notes\n" * 200)
    else:
        _foreign_sqlite(
            target,
            application_id=0x1234 if kind == "other-app-sqlite" else 0,
            user_version=7 if kind == "other-app-sqlite" else 2,
        )
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    for command in (["history"], ["like", str(tmp_path / "x.wav")]):
        assert main([*command, "--db", str(target)]) == 2
        one_error_line(capsys.readouterr().err, str(target), "not a Music Explorer library")
        assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_a_library_of_an_older_version_is_ours(tmp_path):
    db = tmp_path / "old.sqlite"
    with Library(db) as lib:
        lib.upsert_files([(str(tmp_path / "a.mp3"), 1, 1.0, {}, "h")])
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA application_id=0")  # as versions before the application id wrote it
    conn.commit()
    conn.close()
    opening._checked.clear()
    with Library(db) as lib:
        assert lib.count() == 1 and not lib.notices
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == store.APPLICATION_ID
    conn.close()


# -- D6: read-only file, full disk, big damaged file, read-only folder --------------------------------
def test_read_only_library_file_gives_one_line(tmp_path, capsys, request):
    db, songs = _rated_library(tmp_path, capsys)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    before = db.read_bytes()
    db.chmod(0o444)
    for args in (
        ["like", "--db", str(db), str(songs[1])],
        ["scan", "--workers", "0", "--db", str(db), str(tmp_path / "music")],
    ):
        proc = _cli(request, args)
        assert proc.returncode == 2, proc.stderr
        one_error_line(proc.stderr, str(db), "read-only")
    assert db.read_bytes() == before


def test_full_disk_during_a_scan_gives_one_line(tmp_path, capsys):
    music = tmp_path / "music"
    music.mkdir()
    for i in range(150):  # long names: the new rows need more room than the disk has left
        write_sf(music / (f"{i:03d}-" + "x" * 200 + ".wav"), sine(0.05, 8000, freq=200.0 + i), 8000)
    db = tmp_path / "library.sqlite"
    Library(db).close()
    limit = db.stat().st_size + 16 * 1024

    def full_disk():  # a file may not grow past `limit` bytes: writes fail as on a full disk (EFBIG, not a signal)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    proc = subprocess.run(
        [sys.executable, "-m", "explorer", "scan", "--workers", "0", "--db", str(db), str(music)],
        capture_output=True,
        text=True,
        timeout=600,
        preexec_fn=full_disk,
    )
    assert proc.returncode == 2, proc.stderr
    one_error_line(proc.stderr.splitlines()[-1] + "\n", str(db))
    assert "Traceback" not in proc.stderr and "cannot rollback" not in proc.stderr, proc.stderr
    with Library(db) as lib:
        assert lib.integrity_check() == "ok"


def test_damage_in_a_big_library_is_moved_aside_once(tmp_path, capsys, monkeypatch):
    db, songs = _rated_library(tmp_path, capsys)
    with Library(db) as lib:  # pages of rows after the schema, which a header check never reads
        lib.upsert_files([(str(tmp_path / f"{i:05d}-{'y' * 100}.mp3"), i, 1.0, {}, f"h{i}") for i in range(3000)])
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = bytearray(db.read_bytes())
    page = 4096
    for start in range(4 * page, len(data) - page, 3 * page):  # every third page after the schema's
        data[start : start + page] = b"\x5a" * page
    db.write_bytes(bytes(data))
    monkeypatch.setattr(opening, "QUICK_CHECK_MAX_BYTES", page)  # as a file over 64 MiB: no check at opening
    opening._checked.clear()
    code = main(["history", "--db", str(db)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert [p for p in tmp_path.iterdir() if ".corrupt-" in p.name], err
    one_error_line(err.splitlines()[-1] + "\n", str(db), "damaged")
    opening._checked.clear()
    assert main(["history", "--db", str(db), "--json"]) == 0  # the next run finds a sound library
    with Library(db) as lib:
        ratings = {t.path: t.rating for t in lib.tracks() if t.rating}
    assert ratings == {str(songs[0]): 1, str(songs[1]): -1, str(songs[2]): 1}


def test_damaged_library_in_a_read_only_folder_gives_one_line(tmp_path, capsys, request):
    folder = tmp_path / "data"
    folder.mkdir()
    db, songs = _rated_library(folder, capsys)
    _damage(db)
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    folder.chmod(0o555)
    try:
        proc = _cli(request, ["history", "--db", str(db)])
    finally:
        folder.chmod(0o755)
    assert proc.returncode == 2, proc.stderr
    one_error_line(proc.stderr, str(db), "damaged")
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == before


# -- D15, D17: the backup's name, temp files, names like ours ------------------------------------------
def test_each_database_has_its_own_backup(tmp_path):
    songs = _songs(tmp_path / "music", 2)
    with Library(tmp_path / "music.sqlite") as a, Library(tmp_path / "music.db") as b:
        a.like(a.add_or_update_file(songs[0]).id)
        b.dislike(b.add_or_update_file(songs[1]).id)
        assert a.backup_path != b.backup_path
        assert [t["rating"] for t in json.loads(a.backup_path.read_text())["tracks"]] == [1]
        assert [t["rating"] for t in json.loads(b.backup_path.read_text())["tracks"]] == [-1]


def test_temp_files_left_by_a_kill_are_removed(tmp_path):
    db = tmp_path / "library.sqlite"
    Library(db).close()
    old = time.time() - 3600
    left = [
        tmp_path / ".tmp-k2j4h5l6library-backup.json",  # as versions before wrote them
        tmp_path / ".tmp-library.sqlite-backup.json.x7y8z9w0.mxpart",
    ]  # as this version names them
    for p in left:
        p.write_text('{"schema": "music-explorer/user-data/1", "tracks": [')
        os.utime(p, (old, old))
    fresh = tmp_path / ".tmp-abcdefghlibrary-backup.json"  # being written by another process right now
    fresh.write_text("{")
    mine = tmp_path / ".tmp-zzzzzzzzmy song.wav"  # not ours: another name
    mine.write_text("x")
    os.utime(mine, (old, old))
    Library(db).close()
    assert [p.exists() for p in left] == [False, False]
    assert fresh.exists() and mine.exists()


def test_songs_named_like_temp_files_are_scanned(tmp_path):
    from explorer.services.scan import scan

    music = tmp_path / "music"
    music.mkdir()
    song = write_sf(music / ".tmp-demo.wav", sine(0.5, 8000), 8000)
    report = scan([music], db_path=tmp_path / "lib.sqlite", workers=0, cache_folder=tmp_path / "cache")
    assert report.found == 1 and report.analysed == 1
    with Library(tmp_path / "lib.sqlite") as lib:
        assert lib.track_by_path(song).state == "analysed"


# -- a song that comes back ------------------------------------------------------------------------
def test_a_missing_song_that_comes_back_is_back_with_its_like(tmp_path, capsys):
    db = tmp_path / "library.sqlite"
    songs = _songs(tmp_path / "music", 2)
    assert main(["scan", "--workers", "0", "--db", str(db), str(tmp_path / "music")]) == 0
    assert main(["like", "--db", str(db), str(songs[0])]) == 0
    away = tmp_path / "away.wav"
    os.replace(songs[0], away)
    assert main(["scan", "--workers", "0", "--db", str(db), str(tmp_path / "music")]) == 0
    with Library(db) as lib:
        assert lib.track_by_path(songs[0]).state == "missing"
    os.replace(away, songs[0])
    assert main(["scan", "--workers", "0", "--db", str(db), str(tmp_path / "music")]) == 0
    capsys.readouterr()
    with Library(db) as lib:
        t = lib.track_by_path(songs[0])
        assert (t.state, t.rating) == ("analysed", 1)
        assert lib.count() == 2


# -- D7: the machine's failures are not the file's -------------------------------------------------
def test_a_failure_of_the_machine_is_retried_at_the_next_scan(tmp_path):
    """Out of file descriptors (EMFILE) while analysing: the song is tried again, not marked failed forever."""
    import explorer.analysis.pipeline  # noqa: F401 - loaded before the limit: imports open files too
    import explorer.audio.decode  # noqa: F401
    import explorer.services.analyze  # noqa: F401
    from explorer.library.cache import analysis_version
    from explorer.services.scan import scan

    analysis_version()
    music = tmp_path / "music"
    (song,) = _songs(music, 1)
    db, cache = tmp_path / "lib.sqlite", tmp_path / "cache"
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with Library(db) as lib:
        probe = os.open(os.devnull, os.O_RDONLY)  # the lowest free descriptor: the scan needs a few above it
        os.close(probe)
        resource.setrlimit(resource.RLIMIT_NOFILE, (probe + 3, hard))
        try:
            report = scan([music], library=lib, workers=0, cache_folder=cache)
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert report.analysed == 0 and report.failures, report
    with Library(db) as lib:
        assert lib.track_by_path(song).state != "failed"
    again = scan([music], db_path=db, workers=0, cache_folder=cache)
    assert again.analysed == 1, again
    with Library(db) as lib:
        assert lib.track_by_path(song).state == "analysed"


def test_retry_failed_analyses_failed_songs_again(tmp_path, capsys):
    db = tmp_path / "library.sqlite"
    (song,) = _songs(tmp_path / "music", 1)
    assert main(["scan", "--workers", "0", "--db", str(db), str(tmp_path / "music")]) == 0
    with Library(db) as lib:  # as an older version recorded a failure of the machine
        lib.record_failure(lib.track_by_path(song).id, f"{song}: analysis failed (SomeError: out of luck)")
    assert main(["scan", "--workers", "0", "--db", str(db), str(tmp_path / "music")]) == 0
    with Library(db) as lib:
        assert lib.track_by_path(song).state == "failed"
    assert main(["scan", "--retry-failed", "--workers", "0", "--db", str(db), str(tmp_path / "music")]) == 0
    assert "1 analysed, 0 failed" in capsys.readouterr().out
    with Library(db) as lib:
        assert lib.track_by_path(song).state == "analysed"


def test_a_damaged_model_file_fails_the_installation_not_the_songs(tmp_path, monkeypatch):
    """The boundary network is damaged: songs are not marked failed for good, and a scan after the repair
    analyses them."""
    import shutil

    from songgen import make_song

    from explorer.services.scan import scan
    from explorer.util.modelfiles import MODEL_DIR_ENV, models_dir

    models = tmp_path / "models"
    shutil.copytree(models_dir(), models)
    network = models / "boundaries.npz"
    good = network.read_bytes()
    network.write_bytes(good[:-64])
    monkeypatch.setenv(MODEL_DIR_ENV, str(models))
    music = tmp_path / "music"
    music.mkdir()
    y, sr, _ = make_song("ABAB", seed=2, bars_per_section=4)  # long enough for the network to be asked
    song = write_sf(music / "song.wav", y, sr)
    db, cache = tmp_path / "lib.sqlite", tmp_path / "cache"
    report = scan([music], db_path=db, workers=0, cache_folder=cache)
    assert report.analysed == 0 and report.failures, report
    assert any("boundaries.npz" in str(f) and "damaged" in str(f) for f in report.failures), report.failures
    with Library(db) as lib:
        assert lib.track_by_path(song).state != "failed"
    network.write_bytes(good)
    again = scan([music], db_path=db, workers=0, cache_folder=cache)
    assert again.analysed == 1, again
    with Library(db) as lib:
        assert lib.track_by_path(song).state == "analysed"
