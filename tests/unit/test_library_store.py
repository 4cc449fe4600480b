"""The SQLite catalogue: real files in temp folders, reopened as a new process would."""

from __future__ import annotations

import json
import sqlite3
import threading

import numpy as np
import pytest

from explorer.analysis.types import Analysis, Chorus, Genre, Section
from explorer.errors import LibraryError
from explorer.library.store import SCHEMA_VERSION, Library


def _add(lib: Library, tmp_path, n: int) -> list[int]:
    entries = [
        (str(tmp_path / f"song{i}.mp3"), 1000 + i, 1.0 + i, {"title": f"Song {i}", "artist": f"A{i % 3}"}, f"hash{i}")
        for i in range(n)
    ]
    return lib.upsert_files(entries)


def test_new_database_is_wal_full_sync_at_current_schema(tmp_path):
    db = tmp_path / "lib.sqlite"
    Library(db).close()
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()
    lib = Library(db)
    assert lib._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    lib.close()


def test_default_location_is_the_user_data_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    with Library() as lib:
        assert lib.path == tmp_path / "xdg" / "music-explorer" / "library.sqlite"


def test_newer_schema_is_refused_with_a_message(tmp_path):
    db = tmp_path / "lib.sqlite"
    Library(db).close()
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 5}")
    conn.commit()
    conn.close()
    with pytest.raises(LibraryError, match="newer"):
        Library(db)


def test_ratings_and_history_survive_reopening(tmp_path):
    db = tmp_path / "lib.sqlite"
    with Library(db) as lib:
        a, b, c = _add(lib, tmp_path, 3)
        lib.like(a)
        lib.dislike(b)
        lib.like(c)
        lib.unlike(c)
        assert lib.record_play(a, 150, 200) == "play"
        assert lib.record_play(b, 5, 200) == "skip"
        assert lib.record_play(b, 50, 200) == "partial"
    with Library(db) as lib:
        assert [lib.track(i).rating for i in (a, b, c)] == [1, -1, 0]
        assert lib.track(a).play_count == 1 and lib.track(b).skip_count == 1
        kinds = [(h.kind, h.track_id) for h in lib.history(10)]
        assert kinds == [
            ("partial", b),
            ("skip", b),
            ("play", a),
            ("unlike", c),
            ("like", c),
            ("dislike", b),
            ("like", a),
        ]
        assert len(lib.history(2)) == 2


def test_rating_an_unknown_track_fails_cleanly(tmp_path):
    with Library(tmp_path / "lib.sqlite") as lib:
        with pytest.raises(LibraryError, match="no such track"):
            lib.like(12345)


def test_json_backup_follows_every_change(tmp_path):
    with Library(tmp_path / "lib.sqlite") as lib:
        a, b = _add(lib, tmp_path, 2)
        lib.like(a)
        doc = json.loads(lib.backup_path.read_text())
        assert [(t["content_hash"], t["rating"]) for t in doc["tracks"]] == [("hash0", 1)]
        lib.dislike(b)
        lib.unlike(a)
        doc = json.loads(lib.backup_path.read_text())
        assert [(t["content_hash"], t["rating"]) for t in doc["tracks"] if t["rating"]] == [("hash1", -1)]
        # the history, newest first, each entry pointing at its track in the backup
        assert [(doc["tracks"][i]["content_hash"], kind) for i, kind, *_ in doc["events"]] == [
            ("hash0", "unlike"),
            ("hash1", "dislike"),
            ("hash0", "like"),
        ]
        lib.save_structure_edits(b, [Section(0, 5, "A", "verse")])
        doc = json.loads(lib.backup_path.read_text())
        assert doc["edits"][0]["content_hash"] == "hash1"


@pytest.mark.parametrize("damage", ["garbage", "truncated", "zeroed-page"])
def test_corrupt_database_is_moved_aside_and_user_data_restored(tmp_path, damage):
    db = tmp_path / "lib.sqlite"
    with Library(db) as lib:
        ids = _add(lib, tmp_path, 40)
        lib.like(ids[3])
        lib.dislike(ids[7])
        lib.save_structure_edits(ids[3], [Section(0.0, 4.0, "A", "chorus")])
        lib.record_play(ids[3], 180, 200)
        lib.record_play(ids[9], 5, 200)
        lib.record_play(ids[11], 60, 200)  # partial: not counted, but in the history
        history = [(h.kind, h.path, h.at, h.heard) for h in lib.history(20)]
        lib._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(db.read_bytes())
    if damage == "garbage":
        data = bytearray(np.random.default_rng(1).integers(0, 256, len(data), dtype=np.uint8).tobytes())
    elif damage == "truncated":
        data = data[: len(data) // 3]
    else:
        data[4096:8192] = b"\xff" * 4096
    db.write_bytes(bytes(data))
    from explorer.library import opening

    opening._checked.clear()  # a new process
    with Library(db) as lib:
        assert lib.notices and "damaged" in lib.notices[0] and ".corrupt-" in lib.notices[0]
        assert lib.integrity_check() == "ok"
        by_hash = {t.content_hash: t for t in lib.tracks()}
        assert by_hash["hash3"].rating == 1 and by_hash["hash7"].rating == -1
        assert lib.structure_edits("hash3")[0].function == "chorus"
        assert by_hash["hash3"].play_count == 1 and by_hash["hash9"].skip_count == 1
        # the listening history comes back too (the "for you" ranking reads it), once
        assert [(h.kind, h.path, h.at, h.heard) for h in lib.history(20)] == history
        lib.restore_backup()
        assert len(lib.history(20)) == len(history) == 5
    moved = [p for p in tmp_path.glob("lib.sqlite.corrupt-*") if not p.name.endswith(("-wal", "-shm"))]
    assert len(moved) == 1 and moved[0].stat().st_size == len(data)


def test_filters_and_lookups(tmp_path):
    with Library(tmp_path / "lib.sqlite") as lib:
        ids = _add(lib, tmp_path, 5)
        assert len(lib.tracks()) == 5
        assert [t.title for t in lib.tracks("song 3")] == ["Song 3"]
        assert {t.artist for t in lib.tracks("a1")} == {"A1"}
        assert lib.tracks("100%") == []
        assert lib.track_by_path(tmp_path / "song2.mp3").id == ids[2]
        assert lib.resolve(str(ids[1])).id == ids[1]
        lib.mark_missing([ids[0]])
        assert len(lib.tracks(include_missing=False)) == 4
        with pytest.raises(LibraryError, match="not in the library"):
            lib.resolve(str(tmp_path / "nope.mp3"))


def test_analysis_summary_and_edits(tmp_path):
    from explorer.library.cache import AnalysisCache

    cache = AnalysisCache(tmp_path / "cache")
    with Library(tmp_path / "lib.sqlite", cache=cache) as lib:
        (tid,) = _add(lib, tmp_path, 1)
        a = Analysis(
            file="x",
            duration=30.0,
            sample_rate=22050,
            channels=1,
            tempo=99.0,
            sections=(Section(0, 15, "A", "verse"), Section(15, 30, "B", "chorus")),
            choruses=(Chorus(15, 30, 0.4), Chorus(5, 10, 0.9)),
            genre=Genre("pop", {"pop": 0.7, "rock": 0.3}),
            embedding=np.arange(4, dtype=np.float32),
        )
        lib.record_analysis(tid, a, "hash0")
        cache.store("hash0", a)
        t = lib.track(tid)
        assert (t.state, t.tempo, t.genre_label, t.chorus) == ("analysed", 99.0, "pop", (5, 10))
        assert t.genre_probabilities == pytest.approx({"pop": 0.7, "rock": 0.3})
        ids, emb = lib.embeddings()
        assert list(ids) == [tid] and emb.tolist() == [[0, 1, 2, 3]]
        assert lib.analysis(tid).sections == a.sections
        edited = [Section(0, 10, "A", "intro"), Section(10, 30, "B", "chorus")]
        lib.save_structure_edits(tid, edited)
        got = lib.analysis(tid)
        assert got.sections == tuple(edited) and got.choruses == (Chorus(10, 30, 1.0),)
        lib.clear_structure_edits(tid)
        assert lib.analysis(tid).sections == a.sections


def test_concurrent_writers_threads_and_connections(tmp_path):
    """Threads sharing one Library and a second connection (another process's view) all get their writes in."""
    db = tmp_path / "lib.sqlite"
    lib = Library(db)
    other = Library(db)
    ids = _add(lib, tmp_path, 4)
    errors = []

    def work(owner, tid):
        try:
            for _ in range(25):
                owner.record_play(tid, 100, 100)
                owner.tracks("song")
        except Exception as e:  # noqa: BLE001 - collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(lib if i % 2 else other, tid)) for i, tid in enumerate(ids)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [lib.track(i).play_count for i in ids] == [25] * 4
    assert lib.integrity_check() == "ok"
    lib.close()
    other.close()


def test_version_1_file_is_migrated_keeping_its_data(tmp_path):
    from explorer.library.store import MIGRATIONS

    db = tmp_path / "old.sqlite"
    conn = sqlite3.connect(db)
    for statement in MIGRATIONS[0][0].split(";\n"):
        if statement.strip():
            conn.execute(statement)
    conn.execute("PRAGMA user_version=1")
    conn.execute(
        "INSERT INTO tracks(path, title, state, rating, genre_json, embedding, added_at, analysed_at) "
        "VALUES ('/m/a.mp3', 'A', 'analysed', 1, '{\"rock\": 0.75, \"jazz\": 0.25}', ?, 0, 0)",
        (np.arange(3, dtype=np.float32).tobytes(),),
    )
    conn.commit()
    conn.close()
    with Library(db) as lib:
        t = lib.track_by_path("/m/a.mp3")
        assert t.rating == 1 and t.title == "A"
        ids, emb = lib.embeddings()
        assert emb.tolist() == [[0, 1, 2]]
        row = lib.index_rows()[0]
        assert json.loads(row[5]) == ["jazz", "rock"] and np.frombuffer(row[6], np.float32).tolist() == [0.25, 0.75]
        assert lib._conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_damaged_database_and_damaged_backup_still_open(tmp_path):
    db = tmp_path / "lib.sqlite"
    with Library(db) as lib:
        lib.like(_add(lib, tmp_path, 1)[0])
        backup = lib.backup_path
    db.write_bytes(b"this is not a database" * 100)
    backup.write_text("{ truncated")
    from explorer.library import opening

    opening._checked.clear()
    with Library(db) as lib:
        assert len(lib.notices) == 2 and "not restored" in lib.notices[1]
        assert lib.count() == 0


def test_unwritable_backup_does_not_undo_the_like(tmp_path):
    with Library(tmp_path / "lib.sqlite") as lib:
        (tid,) = _add(lib, tmp_path, 1)
        lib.backup_path.mkdir()  # a folder where the file should go: cannot be replaced
        lib.like(tid)
        assert lib.track(tid).rating == 1
        assert lib.notices and "backup" in lib.notices[-1]
