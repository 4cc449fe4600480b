"""What the user sees when the catalogue or the cache is damaged: the program says so in one line per problem,
keeps going, and the likes come back from their JSON backup."""

from __future__ import annotations

import json

import pytest
from badfiles import sine, write_sf

from explorer.cli.main import main


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_damaged_catalogue_is_moved_aside_and_likes_restored(damage, tmp_path, capsys):
    from explorer.library import opening

    db = tmp_path / "library.sqlite"
    songs = [write_sf(tmp_path / f"s{i}.wav", sine(0.5, 8000, freq=300.0 + 50 * i), 8000) for i in range(3)]
    for song, verb in zip(songs, ("like", "dislike", "like"), strict=True):
        assert main([verb, "--db", str(db), str(song)]) == 0
    capsys.readouterr()
    import sqlite3

    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = db.read_bytes()
    db.write_bytes({"truncated": data[: len(data) // 3], "garbage": bytes(range(256)) * 64, "empty": b""}[damage])
    opening._checked.clear()  # as a new process would: check the file again
    assert main(["history", "--db", str(db), "--json"]) == 0
    out, err = capsys.readouterr()
    warnings = err.splitlines()
    if damage == "empty":  # SQLite takes a 0-byte file as a new database: nothing to move aside; an empty
        # catalogue beside its backup gets the user's data back
        assert len(warnings) == 1 and warnings[0].startswith(f"music-explorer: warning: {db}: restored "), err
    else:
        assert len(warnings) == 2, err
        assert warnings[0].startswith(f"music-explorer: warning: {db}: the library database was damaged")
        assert ".corrupt-" in warnings[0]
        assert warnings[1].startswith(f"music-explorer: warning: {db}: restored ")
        assert len(list(tmp_path.glob("library.sqlite.corrupt-*"))) >= 1
    from explorer.library.store import Library

    with Library(db) as lib:  # the ratings are back, and so is the history
        ratings = {t.path: t.rating for t in lib.tracks()}
    expected = {str(songs[0]): 1, str(songs[1]): -1, str(songs[2]): 1}
    assert ratings == expected
    history = [json.loads(line) for line in out.splitlines()]
    assert [(h["kind"], h["path"]) for h in history] == [
        ("like", str(songs[2])),
        ("dislike", str(songs[1])),
        ("like", str(songs[0])),
    ]


def test_damaged_cache_entry_is_recomputed_silently(tmp_path, capsys):
    from explorer.library.cache import default_folder

    song = write_sf(tmp_path / "song.wav", sine(3.0, 22050), 22050)
    assert main(["analyze", str(song)]) == 0
    first = json.loads(capsys.readouterr().out)
    entries = list(default_folder().rglob("*.mxa"))
    assert len(entries) == 1
    blob = bytearray(entries[0].read_bytes())
    blob[len(blob) // 2] ^= 0xFF  # one flipped byte: the checksum no longer matches
    entries[0].write_bytes(bytes(blob))
    assert main(["analyze", str(song)]) == 0
    out, err = capsys.readouterr()
    assert err == "" and json.loads(out)["sections"] == first["sections"]
    assert entries[0].read_bytes() != bytes(blob)  # rewritten whole
