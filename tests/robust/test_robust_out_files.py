"""What `--out` (analyze, playlist) and the library's own files may write: only regular files (or new ones), with
the permissions the user's umask asks for; ``-`` is standard output; a folder that cannot be written is refused
before any work; a cache entry that is not a regular file is never opened (a FIFO would block forever)."""

from __future__ import annotations

import json
import os
import stat
import threading

import numpy as np
import pytest
from badfiles import sine, write_sf

from explorer.analysis.types import Analysis, Genre
from explorer.cli.main import main
from explorer.library.store import Library


def one_error_line(err: str, *words: str) -> None:
    assert err.endswith("\n") and err.count("\n") == 1, f"not one line: {err!r}"
    assert err.startswith("music-explorer: error: ") and "Traceback" not in err, err
    for w in words:
        assert w in err, (w, err)


@pytest.fixture
def song(tmp_path):
    return write_sf(tmp_path / "song.wav", sine(1.0, 8000), 8000)


@pytest.fixture
def library(tmp_path):
    """A catalogue of 4 analysed tracks (ids 1..4): enough for a playlist."""
    db = tmp_path / "lib.sqlite"
    rng = np.random.default_rng(0)
    with Library(db) as lib:
        entries = [(str(tmp_path / f"t{i}.mp3"), 100 + i, 1.0, {"title": f"t{i}"}, f"h{i}") for i in range(4)]
        for tid, (path, *_rest, h) in zip(lib.upsert_files(entries), entries, strict=True):
            lib.record_analysis(
                tid,
                Analysis(
                    file=path,
                    duration=100.0,
                    sample_rate=22050,
                    channels=2,
                    tempo=100.0,
                    genre=Genre("pop", {"pop": 1.0}),
                    embedding=rng.normal(0, 1, 8).astype(np.float32),
                ),
                h,
            )
    return db


def _write(command: str, out, song, library, *extra: str) -> int:
    if command == "analyze":
        return main(["analyze", "--no-cache", "--force", "--out", str(out), *extra, str(song)])
    return main(["playlist", "1", "-k", "2", "--db", str(library), "--force", "--out", str(out), *extra])


@pytest.mark.parametrize("command", ["analyze", "playlist"])
@pytest.mark.parametrize("kind", ["fifo", "symlink", "dangling-symlink", "directory"])
def test_out_refuses_anything_but_a_regular_file(command, kind, song, library, tmp_path, capsys):
    out = tmp_path / "out"
    target = tmp_path / "target.txt"
    target.write_text("mine\n")
    if kind == "fifo":
        os.mkfifo(out)
    elif kind == "symlink":
        out.symlink_to(target)
    elif kind == "dangling-symlink":
        out.symlink_to(tmp_path / "nowhere")
    else:
        out.mkdir()
    before = os.lstat(out)
    assert _write(command, out, song, library) == 2
    one_error_line(capsys.readouterr().err, str(out), "not a regular file")
    after = os.lstat(out)
    assert (stat.S_IFMT(after.st_mode), after.st_ino) == (stat.S_IFMT(before.st_mode), before.st_ino)
    assert target.read_text() == "mine\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp-")] == []


@pytest.mark.parametrize("command", ["analyze", "playlist"])
def test_out_honours_the_umask_and_keeps_the_mode_it_replaces(command, song, library, tmp_path, capsys):
    old = os.umask(0o022)
    try:
        new = tmp_path / "new.out"
        assert _write(command, new, song, library) == 0
        assert stat.S_IMODE(new.stat().st_mode) == 0o644
        os.umask(0o077)
        shared = tmp_path / "shared.out"
        shared.write_text("old\n")
        shared.chmod(0o664)
        assert _write(command, shared, song, library) == 0
        assert shared.read_text() != "old\n"
        assert stat.S_IMODE(shared.stat().st_mode) == 0o664  # replaced, its mode kept
    finally:
        os.umask(old)


def test_backup_honours_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        song = write_sf(tmp_path / "s.wav", sine(0.5, 8000), 8000)
        with Library(tmp_path / "lib.sqlite") as lib:
            lib.like(lib.add_or_update_file(song).id)
            backup = lib.backup_path
        assert stat.S_IMODE(backup.stat().st_mode) == 0o644
    finally:
        os.umask(old)


@pytest.mark.parametrize("command", ["analyze", "playlist"])
def test_dash_means_standard_output(command, song, library, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert (
        main(
            ["analyze", "--no-cache", "--out", "-", str(song)]
            if command == "analyze"
            else ["playlist", "1", "-k", "2", "--db", str(library), "--out", "-"]
        )
        == 0
    )
    out = capsys.readouterr().out
    if command == "analyze":
        assert json.loads(out)["schema"] == "music-explorer/analysis/1"
    else:
        assert out.startswith("#EXTM3U\n") and "t0.mp3" in out and "t1.mp3" not in out.splitlines()[0]
    assert not os.path.lexists(tmp_path / "-")


@pytest.mark.parametrize("command", ["analyze", "playlist"])
def test_out_folder_is_checked_before_the_work(command, library, tmp_path, capsys):
    out = tmp_path / "no such folder" / "out.txt"
    # the input does not exist either: the folder is what is reported, so it was checked first
    args = (
        ["analyze", "--out", str(out), str(tmp_path / "missing.wav")]
        if command == "analyze"
        else ["playlist", "999", "--db", str(library), "--out", str(out)]
    )
    assert main(args) == 2
    one_error_line(capsys.readouterr().err, str(out), "folder")


def test_out_folder_without_write_permission_is_refused_first(tmp_path, request):
    """As a user without the right to write there (root is made one with setpriv)."""
    import subprocess
    import sys

    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    args = ["-m", "explorer", "analyze", "--out", str(locked / "x.json"), str(tmp_path / "missing.wav")]
    if os.geteuid() == 0:
        proc = request.getfixturevalue("run_without_root_powers")(args)
    else:
        proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    one_error_line(proc.stderr, str(locked / "x.json"), "permission denied")


def test_a_fifo_in_the_cache_is_never_opened(song, tmp_path):
    from explorer.library.cache import AnalysisCache, content_hash

    cache = AnalysisCache()  # the user's (this test's own) cache, which `analyze` reads below
    h = content_hash(song)
    entry = cache.entry_path(h)
    entry.parent.mkdir(parents=True)
    os.mkfifo(entry)
    result = []
    t = threading.Thread(target=lambda: result.append(cache.lookup(h)), daemon=True)
    t.start()
    t.join(120)  # a lookup takes milliseconds; opening a FIFO with no writer blocks forever
    hung = t.is_alive()
    if hung:  # let the blocked open return, so that no thread is left behind
        fd = os.open(entry, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        t.join(10)
    assert not hung, "the cache lookup blocked on a FIFO"
    assert result == [None]
    # the analysis goes on and stores a real entry in its place
    assert main(["analyze", "--out", str(tmp_path / "a.json"), str(song)]) == 0
    assert not os.path.lexists(entry) or stat.S_ISREG(os.lstat(entry).st_mode)
