"""File names and tags reach the terminal with their control characters escaped: no screen clear, no title set,
no right-to-left override, and a line break in a name never splits a one-line message.  JSON keeps them exact."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from badfiles import sine, write_sf

from explorer.analysis.types import Analysis, Genre
from explorer.cli.main import main
from explorer.library.store import Library

#: ESC (clear the screen), an OSC title with BEL, a line break, a carriage return, C1 CSI, right-to-left override.
EVIL = "x\x1b[2J\x1b]0;owned\x07\n\r\x9b\u202egpm"
#: What may reach a terminal from us: no controls but the line ends we write, no bidi override.
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def assert_safe(text: str, lines: int | None = None) -> list[str]:
    assert not RAW.search(text), repr(text)
    got = text.splitlines()
    if lines is not None:
        assert len(got) == lines, got
    return got


def escaped(name: str) -> str:
    return "x\\x1b[2J\\x1b]0;owned\\x07\\n\\r\\x9b\\u202egpm" + name[len(EVIL) :]


@pytest.fixture
def bad(tmp_path):
    folder = tmp_path / "music"
    folder.mkdir()
    path = folder / f"{EVIL}.mp3"
    path.write_bytes(b"not audio at all " * 50)
    return path


def test_analyze_error_is_one_escaped_line(bad, capsys):
    assert main(["analyze", str(bad)]) == 2
    out, err = capsys.readouterr()
    (line,) = assert_safe(err, 1)
    assert line.startswith(f"music-explorer: error: {bad.parent}/{escaped(EVIL)}.mp3: ")
    assert line.count("gpm") == 1  # ffmpeg's reason does not repeat a piece of the name


def test_argument_errors_are_escaped(capsys):
    with pytest.raises(SystemExit):
        main(["history", "-n", EVIL])
    assert "\\x1b[2J" in assert_safe(capsys.readouterr().err)[-1]


def test_scan_failed_lines_and_progress_are_escaped(bad, tmp_path, capsys):
    assert main(["scan", str(bad.parent), "--db", str(tmp_path / "lib.sqlite"), "--workers", "0"]) == 3
    out, err = capsys.readouterr()
    lines = assert_safe(err)
    failed = [ln for ln in lines if ln.startswith("music-explorer: failed: ")]
    assert len(failed) == 1 and f"{escaped(EVIL)}.mp3: " in failed[0]
    progress = [ln for ln in lines if ln.startswith("[")]
    assert progress and all(ln.count("[") >= 1 for ln in progress)
    status = [ln for ln in lines if ln.endswith("could not be analysed (listed above); exit status 3")]
    assert len(lines) == len(failed) + len(progress) + len(status) and len(status) == 1  # nothing split off a line
    assert_safe(out, 1)


def test_genre_predict_escapes_text_and_keeps_json_exact(bad, tmp_path, capsys):
    song = write_sf(tmp_path / f"{EVIL}.wav", sine(3.0, 22050), 22050)
    assert main(["genre", "predict", str(bad), str(song)]) == 2
    out, err = capsys.readouterr()
    (error,) = assert_safe(err, 1)
    assert error.startswith(f"music-explorer: error: {bad.parent}/{escaped(EVIL)}.mp3: ")
    (line,) = assert_safe(out, 1)
    assert line.startswith(f"{tmp_path}/{escaped(EVIL)}.wav: ")
    assert main(["genre", "predict", "--json", str(song)]) == 0
    (doc,) = capsys.readouterr().out.splitlines()
    assert json.loads(doc)["file"] == str(song)  # exact


@pytest.fixture
def library(tmp_path):
    """Two analysed songs whose path, title and artist hold control characters."""
    lib = Library(tmp_path / "lib.sqlite")
    rng = np.random.default_rng(1)
    entries, ids = [], []
    for i in range(2):
        path = str(tmp_path / f"{EVIL}{i}.mp3")
        entries.append((path, 1000 + i, 1.0, {"title": f"{EVIL} title", "artist": f"{EVIL} artist"}, f"h{i}"))
    ids = lib.upsert_files(entries)
    for tid, (path, *_, h) in zip(ids, entries):
        a = Analysis(
            file=path,
            duration=100.0,
            sample_rate=22050,
            channels=1,
            tempo=100.0,
            genre=Genre("pop", {"pop": 0.8, "rock": 0.2}),
            embedding=rng.normal(0, 1, 24).astype(np.float32),
        )
        lib.record_analysis(tid, a, h)
    yield lib, ids, entries
    lib.close()


def test_recommend_like_history_escape_text_and_keep_json_exact(library, capsys):
    lib, ids, entries = library
    db = str(lib.path)
    assert main(["recommend", str(ids[0]), "--db", db]) == 0
    out, _ = capsys.readouterr()
    lines = assert_safe(out)  # the song, then its reasons when any explains its rank
    assert len(lines) in (1, 2), lines
    assert escaped(EVIL) + " title" in lines[0] and escaped(EVIL) + "1.mp3" in lines[0]
    assert main(["recommend", str(ids[0]), "--db", db, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["recommendations"][0]["path"] == entries[1][0]  # exact
    assert doc["recommendations"][0]["title"] == f"{EVIL} title"
    assert main(["like", str(ids[1]), "--db", db]) == 0
    (line,) = assert_safe(capsys.readouterr().out, 1)
    assert line.startswith("liked: ") and escaped(EVIL) in line
    assert main(["history", "--db", db]) == 0
    header, line = assert_safe(capsys.readouterr().out, 2)
    assert f"{escaped(EVIL)} artist – {escaped(EVIL)} title" in line
    assert main(["history", "--db", db, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == f"{EVIL} title"
