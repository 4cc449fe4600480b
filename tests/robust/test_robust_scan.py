"""The library scanner on every bad input: a bad file is recorded ``failed`` with its reason (the same sentence
the CLI prints) and the scan goes on; every valid one is analysed."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from badfiles import NAMES, sine, write_sf
from timing import budget

from explorer.library.store import Library
from explorer.services.scan import scan

#: Not files the scanner looks at: a folder named x.mp3 is walked into; "-i" has no audio extension.
NOT_TRACKS = {"directory", "named -i"}


@pytest.fixture(scope="module")
def scanned(bad_cases, tmp_path_factory):
    """One scan (in this process) of the folder holding every case; returns (cases, report, tracks, integrity)."""
    root = tmp_path_factory.mktemp("scan")
    music = bad_cases["zero-byte"].path.parent
    report = scan([music], db_path=root / "library.sqlite", workers=0, cache_folder=root / "cache")
    with Library(root / "library.sqlite", cache=None) as lib:
        tracks = {t.path: t for t in lib.tracks()}
        integrity = lib.integrity_check()
    return bad_cases, report, tracks, integrity


@pytest.mark.parametrize("name", [n for n in NAMES if n != "unreadable"])
def test_scan_case(name, scanned):
    cases, report, tracks, integrity = scanned
    case = cases[name]
    path = os.path.normpath(os.fspath(case.path))
    if name in NOT_TRACKS:
        assert path not in tracks
        return
    if name == "non-utf8-name":  # SQLite stores text as UTF-8: reported, not stored
        assert path not in tracks
        assert (path, f"{path}: the file name is not valid UTF-8 (rename the file to add it)") in report.failures
        return
    track = tracks[path]
    if case.valid:
        assert track.state == "analysed", track.error
        assert track.duration == pytest.approx(case.duration, rel=0.02, abs=0.1)
    else:
        assert track.state == "failed"
        assert track.error.startswith(f"{path}: ") and "\n" not in track.error[len(path) :], track.error
        assert re.search(case.reason, track.error[len(path) + 2 :]), track.error
        assert (path, track.error) in report.failures


def test_scan_goes_on(scanned):
    cases, report, tracks, integrity = scanned
    valid = [c for c in cases.values() if c.valid and c.name not in NOT_TRACKS and c.name != "non-utf8-name"]
    assert report.analysed == len(valid) + (os.geteuid() == 0)  # root reads the unreadable file
    assert integrity == "ok"
    assert not report.cancelled


def test_scan_unreadable(tmp_path, request):
    """As a user without the right to read it (root is made one with setpriv)."""
    (tmp_path / "music").mkdir()
    locked = write_sf(tmp_path / "music" / "locked.wav", sine(1.0, 8000), 8000)
    locked.chmod(0)
    db = tmp_path / "library.sqlite"
    args = ["-m", "explorer", "scan", "--workers", "0", "--db", str(db), str(tmp_path / "music")]
    if os.geteuid() == 0:
        proc = request.getfixturevalue("run_without_root_powers")(args)
    else:
        proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=budget(120))
    assert proc.returncode == 3, proc.stderr  # finished, with files it could not analyse (README)
    line = f"music-explorer: failed: {locked}: "
    assert [ln for ln in proc.stderr.splitlines() if ln.startswith(line) and re.search("permission denied", ln, re.I)]
    with Library(db, cache=None) as lib:
        track = lib.track_by_path(locked)
    assert track.state == "failed" and re.fullmatch(
        f"{re.escape(str(locked))}: .*permission denied.*", track.error, re.I
    )
