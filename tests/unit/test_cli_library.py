"""The library commands a returning user meets (issue 15.8): rating twice, history, an empty library, a scan
with bad files."""

from __future__ import annotations

import json

from explorer.cli.library import HISTORY_HEADER, NO_RECOMMENDATIONS, SCAN_FAILED_STATUS
from explorer.cli.main import main
from explorer.library.store import Library
from tests.unit.test_library_scan import make_songs


def test_like_twice_is_one_history_entry_and_history_has_a_header(tmp_path, capsys):
    song = make_songs(tmp_path / "music", 1)[0]
    db = str(tmp_path / "lib.sqlite")
    assert main(["like", str(song), "--db", db]) == 0
    assert main(["like", str(song), "--db", db]) == 0
    out = capsys.readouterr().out
    assert "liked: " in out and "already liked: " in out
    assert main(["history", "--db", db, "--json"]) == 0
    assert [json.loads(ln)["kind"] for ln in capsys.readouterr().out.splitlines()] == ["like"]
    assert main(["history", "--db", db]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == HISTORY_HEADER and "track id" in lines[0] and "kind" in lines[0]
    assert len(lines) == 2 and " like " in lines[1]
    with Library(db) as lib:
        assert lib.track_by_path(song).rating == 1


def test_recommend_json_on_an_empty_library_gives_a_hint(tmp_path, capsys):
    song = make_songs(tmp_path / "music", 1)[0]
    db = str(tmp_path / "empty.sqlite")
    Library(db).close()
    assert main(["recommend", str(song), "--db", db, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["recommendations"] == [] and doc["note"] == NO_RECOMMENDATIONS
    assert {"seed", "mode", "recommendations"} <= set(doc)


def test_scan_with_a_bad_file_says_so_and_exits_with_its_status(tmp_path, capsys):
    music = tmp_path / "music"
    make_songs(music, 1)
    (music / "broken.mp3").write_bytes(b"ID3\x03\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 40)
    assert main(["scan", str(music), "--db", str(tmp_path / "lib.sqlite"), "--workers", "0"]) == SCAN_FAILED_STATUS
    out, err = capsys.readouterr()
    assert "1 analysed, 1 failed" in out
    assert "broken.mp3" in err and f"exit status {SCAN_FAILED_STATUS}" in err


def test_scan_of_a_folder_that_is_not_there_is_one_usage_error(tmp_path, capsys):
    """A mistyped folder is an error before any work (no database made), not an empty scan that exits 0."""
    db = tmp_path / "lib.sqlite"
    (tmp_path / "notes.txt").write_text("not music")
    song = make_songs(tmp_path / "music", 1)[0]
    for folder, words in ((tmp_path / "Musci", "no such folder"), (tmp_path / "notes.txt", "is not a folder")):
        assert main(["scan", str(tmp_path / "music"), str(folder), "--db", str(db), "--workers", "0"]) == 2
        assert capsys.readouterr().err.splitlines() == [
            f"music-explorer: error: {folder}: {words}" + ("" if words == "no such folder" else " or an audio file")
        ]
        assert not db.exists()
    # a song given by itself is scanned, as before
    assert main(["scan", str(song), "--db", str(db), "--workers", "0"]) == 0
    assert "1 analysed, 0 failed" in capsys.readouterr().out
