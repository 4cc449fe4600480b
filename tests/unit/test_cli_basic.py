"""The headless command line: `music-explorer analyze` prints the schema, writes files, and fails cleanly."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import tone
from timing import budget

from explorer.cli.main import main

SCHEMA_FIELDS = {
    "schema",
    "file",
    "duration",
    "sample_rate",
    "channels",
    "tempo",
    "beats",
    "sections",
    "choruses",
    "motifs",
    "genre",
    "timings",
}


def run(*argv: str, cwd=None) -> subprocess.CompletedProcess:
    """The real command, in a process of its own (exit status, stdout and stderr as a user sees them)."""
    return subprocess.run(
        [sys.executable, "-m", "explorer", *argv],
        capture_output=True,
        text=True,
        timeout=budget(300),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def song(make_audio):
    y = tone(4.0, 22050, channels=2) * np.linspace(0, 1, 4 * 22050, dtype=np.float32)[:, None]
    return make_audio("song.wav", y, 22050)


def one_error_line(err: str, *words: str):
    assert err.endswith("\n") and err.count("\n") == 1, f"not one line: {err!r}"
    assert err.startswith("music-explorer: error: ")
    assert "Traceback" not in err
    for w in words:
        assert w in err, (w, err)


def test_analyze_prints_the_schema_fields(song, capsys):
    assert main(["analyze", str(song)]) == 0
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert SCHEMA_FIELDS <= set(doc)
    assert doc["schema"] == "music-explorer/analysis/1"
    assert os.path.samefile(doc["file"], song)
    assert doc["duration"] == pytest.approx(4.0, abs=1e-3)
    assert (doc["sample_rate"], doc["channels"]) == (22050, 2)
    for key in ("beats", "sections", "choruses", "motifs"):
        assert isinstance(doc[key], list)
    assert isinstance(doc["genre"], dict) and isinstance(doc["timings"], dict)
    assert err == ""


def test_out_writes_the_file_and_refuses_to_overwrite(song, tmp_path, capsys):
    out_path = tmp_path / "result.json"
    assert main(["analyze", str(song), "--out", str(out_path)]) == 0
    out, _ = capsys.readouterr()
    assert out == ""
    doc = json.loads(out_path.read_text())
    assert doc["schema"] == "music-explorer/analysis/1"
    assert main(["analyze", str(song), "--out", str(out_path)]) == 2
    _, err = capsys.readouterr()
    one_error_line(err, "result.json", "already exists")
    out_path.write_text("old")
    assert main(["analyze", str(song), "--out", str(out_path), "--force"]) == 0
    assert json.loads(out_path.read_text()) == doc
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp-")] == []


def test_formats(song, capsys):
    assert main(["analyze", str(song)]) == 0
    doc = json.loads(capsys.readouterr().out)
    n = len(doc["sections"])
    assert main(["analyze", str(song), "--format", "jams"]) == 0
    jams = json.loads(capsys.readouterr().out)
    namespaces = {a["namespace"] for a in jams["annotations"]}
    assert {"segment_open", "beat"} <= namespaces
    assert jams["file_metadata"]["duration"] == pytest.approx(4.0, abs=1e-3)
    for fmt, decimals in (("lab", 3), ("audacity", 6)):
        assert main(["analyze", str(song), "-f", fmt]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert len(lines) == n
        for line, sec in zip(lines, doc["sections"]):
            start, end, label = line.split("\t")
            assert len(start.split(".")[1]) == decimals
            assert float(start) == pytest.approx(sec["start"], abs=1e-3)
            assert float(end) == pytest.approx(sec["end"], abs=1e-3)
            assert label.startswith(sec["label"])
    with pytest.raises(SystemExit) as e:
        main(["analyze", str(song), "--format", "mp4"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith("music-explorer: error: ")


def test_double_dash_lets_a_file_be_named_like_an_option(make_audio, tmp_path):
    make_audio("-i.mp3", tone(2.0, 44100), 44100, "-c:a", "libmp3lame")
    proc = run("analyze", "--", "-i.mp3", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["file"].endswith("-i.mp3") and doc["duration"] == pytest.approx(2.0, abs=0.03)
    assert "Traceback" not in proc.stderr


def test_missing_file_exits_2_with_one_line(tmp_path):
    proc = run("analyze", str(tmp_path / "nope.mp3"))
    assert proc.returncode == 2
    assert proc.stdout == ""
    one_error_line(proc.stderr, "nope.mp3", "not found")


@pytest.mark.parametrize(
    "name,content,words",
    [
        ("empty.mp3", b"", ("empty.mp3", "empty")),
        ("notes.txt", b"these are my lyrics, not a song\n" * 20, ("notes.txt", "audio")),
        ("noise.mp3", bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8)), ("noise.mp3",)),
        ("folder.flac", None, ("folder.flac", "directory")),
    ],
)
def test_bad_inputs_exit_2_with_one_line(tmp_path, capsys, name, content, words):
    path = tmp_path / name
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    assert main(["analyze", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    one_error_line(err, *words)


@pytest.mark.parametrize(
    "argv, words",
    [
        (["analyse", "song.mp3"], ["unknown command 'analyse'", "did you mean 'analyze'?", "./analyse"]),
        (["export", "--help"], ["unknown command 'export'", "choose from analyze", "./export"]),
        (["--json"], ["unknown option '--json'", "put -- before it"]),
    ],
)
def test_a_mistyped_command_is_one_usage_line_not_a_window(argv, words, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    opened = []
    with pytest.raises(SystemExit) as e:
        main(argv, gui=lambda paths: opened.append(paths) or 0)
    assert e.value.code == 2 and opened == []
    last = capsys.readouterr().err.splitlines()[-1]
    assert last.startswith("music-explorer: error: ") and all(w in last for w in words), last


def test_a_song_named_like_a_word_still_opens_in_the_window(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "export").write_bytes(b"")
    opened = []
    assert main(["export"], gui=lambda paths: opened.append(paths) or 0) == 0
    assert main(["--", "--json"], gui=lambda paths: opened.append(paths) or 0) == 0
    assert main(["song.mp3", "analyse"], gui=lambda paths: opened.append(paths) or 0) == 0
    assert opened == [["export"], ["--json"], ["song.mp3", "analyse"]]


def test_the_window_without_a_display_is_one_error_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["XDG_RUNTIME_DIR"] = str(tmp_path)  # no Wayland socket there
    proc = subprocess.run(
        [sys.executable, "-m", "explorer", "song.mp3"],
        capture_output=True,
        text=True,
        timeout=budget(120),
        cwd=tmp_path,
        env=env,
    )
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "music-explorer: error: no display to open the window on (DISPLAY and WAYLAND_DISPLAY are not set); "
        "the commands work without one: music-explorer --help"
    ]
