"""No file name is ever an option, a protocol or shell syntax to ffmpeg; ffmpeg runs with an argument list and a
timeout; exports are relative, escaped and never overwrite without being told to."""

from __future__ import annotations

import os
import subprocess

import pytest
from badfiles import sine, write_sf

from explorer.audio import decode as decode_module
from explorer.audio.decode import decode
from explorer.errors import DecodeError, ExplorerError


@pytest.fixture
def spy(monkeypatch):
    """Every command line given to subprocess.Popen (which run() also uses), passed on unchanged."""
    calls = []
    real = subprocess.Popen

    class Recording(real):
        def __init__(self, args, *a, **kw):
            calls.append((args, kw.get("shell", False)))
            super().__init__(args, *a, **kw)

    monkeypatch.setattr(subprocess, "Popen", Recording)
    return calls


@pytest.mark.parametrize(
    "name",
    [
        "-i",
        "-i.mp3",
        "http:x.mp3",
        "concat:a.wav|a.wav",
        "$(touch pwned).wav",
        "; touch pwned #.wav",
        "-y",
        "pipe:1.wav",
    ],
)
def test_a_name_is_just_a_name(name, tmp_path, spy, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_sf(tmp_path / "a.wav", sine(0.5, 8000), 8000)
    write_sf(tmp_path / "real.wav", sine(1.0, 8000, freq=300.0), 8000)
    os.rename(tmp_path / "real.wav", tmp_path / name)  # libsndfile would take "-"-names as stdin
    buffer = decode(name)
    assert buffer.duration == pytest.approx(1.0)  # this file's second — not a.wav twice, not a URL, not stdout
    assert not (tmp_path / "pwned").exists()
    assert spy, "ffprobe and ffmpeg were run"
    for args, shell in spy:
        assert isinstance(args, list) and shell is False
        paths = [a for a in args if name in a and a != name]
        assert paths == [f"file:{tmp_path / name}"]  # once, absolute, behind the file: protocol


def test_ffmpeg_has_a_timeout(tmp_path, monkeypatch):
    song = write_sf(tmp_path / "long.flac", sine(120.0, 22050), 22050)
    monkeypatch.setattr(decode_module, "DECODE_TIMEOUT_BASE", 0.05)
    monkeypatch.setattr(decode_module, "DECODE_TIMEOUT_PER_SECOND", 0.0)
    with pytest.raises(DecodeError, match=r"long\.flac: cannot decode \(ffmpeg took longer than 0 s\)"):
        decode(song, block_seconds=0.05)


def test_m3u8_entries_are_relative_and_escaped(tmp_path):
    from explorer.export.playlist import write_m3u8

    music = tmp_path / "music"
    (music / "sub dir").mkdir(parents=True)
    names = ["plain.mp3", "sub dir/with space é 🎵.mp3", "#hash.mp3", "http:x.mp3", "line\nbreak.mp3"]
    entries = [str(music / n) for n in names] + [os.fsdecode(os.fsencode(str(music)) + b"/caf\xe9.mp3")]
    for out, expected in [
        (
            tmp_path / "lists" / "mix.m3u8",
            ["../music/plain.mp3", "../music/sub dir/with space é 🎵.mp3", "../music/#hash.mp3", "../music/http:x.mp3"],
        ),
        (music / "here.m3u8", ["plain.mp3", "sub dir/with space é 🎵.mp3", "./#hash.mp3", "./http:x.mp3"]),
    ]:
        out.parent.mkdir(exist_ok=True)
        skipped = write_m3u8(out, [(p, None) for p in entries])
        lines = out.read_text("utf-8").splitlines()
        assert lines[0] == "#EXTM3U"
        assert lines[1:] == expected  # relative; a comment or a URL to a player is escaped with ./
        assert [os.path.normpath(out.parent / e) for e in expected] == entries[:4]  # each names its file
        assert skipped == entries[4:]  # a line break or non-UTF-8 bytes cannot be in an M3U8: left out, and said


def test_m3u8_never_overwrites_without_force(tmp_path):
    from explorer.export.playlist import write_m3u8

    out = tmp_path / "mix.m3u8"
    out.write_text("mine\n")
    with pytest.raises(ExplorerError, match=r"mix\.m3u8: already exists \(use --force to overwrite\)"):
        write_m3u8(out, [(str(tmp_path / "a.mp3"), None)])
    assert out.read_text() == "mine\n"
    write_m3u8(out, [(str(tmp_path / "a.mp3"), None)], overwrite=True)
    assert out.read_text().splitlines() == ["#EXTM3U", "a.mp3"]


def test_analyze_out_never_overwrites_without_force(tmp_path, capsys):
    from explorer.cli.main import main

    song = write_sf(tmp_path / "song.wav", sine(1.0, 8000), 8000)
    out = tmp_path / "result.json"
    out.write_text("mine\n")
    assert main(["analyze", "--no-cache", "--out", str(out), str(song)]) == 2
    assert capsys.readouterr().err == f"music-explorer: error: {out}: already exists (use --force to overwrite)\n"
    assert out.read_text() == "mine\n"
    # the check comes before the analysis: a file that could not even be analysed gets the same answer
    assert main(["analyze", "--out", str(out), str(tmp_path / "missing.wav")]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["analyze", "--no-cache", "--force", "--out", str(out), str(song)]) == 0
    assert '"music-explorer/analysis/1"' in out.read_text()
