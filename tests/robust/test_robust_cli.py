"""`music-explorer analyze` on every bad input: exit status 2 and exactly one line
``music-explorer: error: <path>: <reason>`` — or, where the file holds usable audio, a valid result."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from badfiles import NAMES
from timing import budget

from explorer.cli.main import main

REPO = Path(__file__).resolve().parents[2]


def analyze(capsys, path) -> tuple[int, str, str]:
    rc = main(["analyze", "--no-cache", "--", os.fspath(path)])
    out, err = capsys.readouterr()
    return rc, out, err


def assert_one_error_line(err: str, path, reason: str) -> None:
    lines = err.splitlines()
    assert len(lines) == 1 and err.endswith("\n"), f"expected one line on stderr, got {err!r}"
    prefix = f"music-explorer: error: {os.fspath(path)}: ".replace("\n", "\\n")  # a line break in a name: \n
    assert lines[0].startswith(prefix), lines[0]
    assert re.search(reason, lines[0][len(prefix) :]), lines[0]


def assert_valid(out: str, case) -> dict:
    result = json.loads(out)
    assert result["duration"] == pytest.approx(case.duration, rel=0.02, abs=0.1)  # aac pads up to a frame
    assert result["sample_rate"] > 0 and result["channels"] >= 1
    assert result["sections"], "a valid file gets at least one section"
    if case.warns:
        assert any("damaged" in w or "truncated" in w for w in result["warnings"]), result["warnings"]
    return result


@pytest.mark.parametrize("name", [n for n in NAMES if n != "unreadable"])
def test_cli_case(name, bad_cases, capsys):
    case = bad_cases[name]
    rc, out, err = analyze(capsys, case.path)
    if case.valid:
        assert rc == 0, err
        assert "Traceback" not in err and "error" not in err.lower(), err
        assert assert_valid(out, case)["file"] == os.fspath(case.path)  # the name survives, whatever its bytes
    else:
        assert rc == 2
        assert out == ""
        assert_one_error_line(err, case.path, case.reason)


@pytest.mark.parametrize("fmt", ["lab", "audacity", "jams"])
def test_label_formats_say_what_json_keeps_in_warnings(fmt, bad_cases, capsys):
    """A truncated file still gives labels; what JSON says in ``warnings`` goes to stderr, one line each."""
    case = bad_cases["truncated-mp3"]
    rc = main(["analyze", "--no-cache", "--format", fmt, "--", os.fspath(case.path)])
    out, err = capsys.readouterr()
    assert rc == 0 and out
    lines = err.splitlines()
    assert lines and all(ln.startswith(f"music-explorer: warning: {os.fspath(case.path)}: ") for ln in lines), err
    assert any("damaged" in ln or "truncated" in ln for ln in lines), err


def test_cli_unreadable(bad_cases, capsys, request):
    case = bad_cases["unreadable"]
    if os.geteuid() != 0:
        rc, out, err = analyze(capsys, case.path)
    else:  # root reads everything: ask without root's powers over file permissions
        proc = request.getfixturevalue("run_without_root_powers")(
            ["-m", "explorer", "analyze", "--no-cache", "--", str(case.path)]
        )
        rc, out, err = proc.returncode, proc.stdout, proc.stderr
    assert rc == 2 and out == ""
    assert_one_error_line(err, case.path, case.reason)


@pytest.mark.parametrize("name", ["random-mp3", "short-0.1s"])
def test_console_script(name, bad_cases, tmp_path):
    """The installed command, in its own process as a user runs it: nothing else on stderr (no warnings either)."""
    case = bad_cases[name]
    proc = subprocess.run(
        [sys.executable, "-m", "explorer", "analyze", "--no-cache", "--", case.path.name],
        cwd=case.path.parent,
        capture_output=True,
        text=True,
        timeout=budget(120),
    )
    if case.valid:
        assert proc.returncode == 0 and proc.stderr == "", proc.stderr
        assert_valid(proc.stdout, case)
    else:
        assert proc.returncode == 2 and proc.stdout == ""
        assert_one_error_line(proc.stderr, case.path.name, case.reason)


def test_non_utf8_name_to_out_file(bad_cases, capsys, tmp_path):
    case = bad_cases["non-utf8-name"]
    out = tmp_path / "result.json"
    assert main(["analyze", "--no-cache", "--out", str(out), "--", os.fspath(case.path)]) == 0
    assert json.loads(out.read_text("utf-8"))["file"] == os.fspath(case.path)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("name", ["zero-byte", "random-mp3", "directory", "video-without-audio", "three-hours"])
def test_cli_play_refuses_like_analyze(name, bad_cases, capsys):
    case = bad_cases[name]
    assert main(["play", "--", os.fspath(case.path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert_one_error_line(err, case.path, case.reason)


@pytest.mark.parametrize("command", ["analyze", "play"])
def test_cli_missing_file(command, tmp_path, capsys):
    path = tmp_path / "not there.mp3"
    assert main([command, str(path)]) == 2
    assert_one_error_line(capsys.readouterr().err, path, "file not found")
