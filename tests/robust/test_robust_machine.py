"""When the machine, not the input, stops a command — standard output full or closed, out of memory, too many open
files, no sound device, a number too large for anything — the command says so in one line, never a traceback."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from badfiles import sine, write_sf

from explorer.analysis.types import Analysis, Genre
from explorer.cli.main import main
from explorer.library.store import Library

pytestmark = pytest.mark.timeout(600)


def run_cli(*args, stdout=subprocess.PIPE, limits=(), **kw) -> subprocess.CompletedProcess:
    """``music-explorer ARGS`` in a fresh interpreter, with resource ``limits`` ((RLIMIT_x, soft), …) set in it."""

    def set_limits():
        for which, soft in limits:
            resource.setrlimit(which, (soft, resource.getrlimit(which)[1]))

    return subprocess.run(
        [sys.executable, "-m", "explorer", *map(str, args)],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=300,
        preexec_fn=set_limits,
        **kw,
    )


def one_line(err: str) -> str:
    assert "Traceback" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1, lines
    return lines[0]


@pytest.fixture
def song(tmp_path):
    return write_sf(tmp_path / "song.wav", sine(4.0, 22050), 22050)


@pytest.fixture
def library(tmp_path):
    lib = Library(tmp_path / "lib.sqlite")
    rng = np.random.default_rng(2)
    entries = [(str(tmp_path / f"s{i}.mp3"), 1000 + i, 1.0, {"title": f"song {i}"}, f"h{i}") for i in range(30)]
    for tid, (path, *_, h) in zip(lib.upsert_files(entries), entries):
        lib.record_analysis(
            tid,
            Analysis(
                file=path,
                duration=100.0,
                sample_rate=22050,
                channels=1,
                tempo=100.0,
                genre=Genre("pop", {"pop": 1.0}),
                embedding=rng.normal(0, 1, 24).astype(np.float32),
            ),
            h,
        )
        lib.like(tid)
    yield lib
    lib.close()


# -- standard output ------------------------------------------------------------------------------
@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_full_standard_output_is_one_line(song, library):
    with open("/dev/full", "w") as full:
        for args in (
            ["analyze", song],
            ["recommend", "1", "--db", library.path, "--json"],
            ["history", "--db", library.path],
        ):
            r = run_cli(*args, stdout=full)
            assert r.returncode == 1, (args, r.stderr)
            assert one_line(r.stderr) == "music-explorer: error: standard output: No space left on device"


def test_closed_standard_output_ends_quietly(library):
    read, write = os.pipe()
    os.close(read)  # the reader went away (as `| head` does once it has its lines)
    try:
        r = run_cli("history", "--db", library.path, "--json", stdout=write)
    finally:
        os.close(write)
    assert (r.returncode, r.stderr) == (0, "")


# -- numbers beyond any library ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "args",
    [
        ["history", "-n", "100000000000000000000"],
        ["history", "-n", "0"],
        ["recommend", "99999999999999999999"],
        ["recommend", "1", "-k", "-5"],
        ["playlist", "1", "-k", "99999999999999999999", "--out", "x.m3u8"],
        ["like", "99999999999999999999"],
        ["dislike", "9" * 40],
        ["unlike", "9" * 19],
        ["play", "x.wav", "--start", "nan"],
        ["play", "x.wav", "--end", "inf"],
    ],
)
def test_out_of_range_numbers_are_refused_by_the_parser(args, library, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # where a playlist would land if the numbers were taken
    with pytest.raises(SystemExit) as e:
        main([*args, *(["--db", str(library.path)] if args[0] != "play" else [])])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "Overflow" not in err
    assert err.splitlines()[-1].startswith(f"music-explorer {args[0]}: error: argument ") or err.splitlines()[
        -1
    ].startswith("music-explorer: error: argument ")


# -- limits of the machine ---------------------------------------------------------------------------
def test_too_many_open_files_is_one_line(tmp_path):
    folder = tmp_path / "music"
    folder.mkdir()
    for i in range(2):
        write_sf(folder / f"s{i}.wav", sine(2.0, 22050, freq=300.0 + 100 * i), 22050)
    r = run_cli(
        "scan", folder, "--db", tmp_path / "lib.sqlite", "--workers", "2", limits=[(resource.RLIMIT_NOFILE, 16)]
    )
    assert r.returncode == 1, r.stderr
    last = r.stderr.splitlines()[-1]
    assert "Traceback" not in r.stderr
    assert last == "music-explorer: error: too many open files (this process may open 16; raise the limit: ulimit -n)"


def test_out_of_memory_in_the_analysis_is_one_line(tmp_path):
    """The models are loaded (as in any session); then the process may grow by 16 MB only, and the song
    is too much for onnxruntime or numpy: one line, exit 1."""
    song = write_sf(tmp_path / "song.wav", sine(20.0, 22050, channels=2), 22050)
    script = textwrap.dedent(f"""
        import resource, sys
        from explorer.cli.main import main
        from explorer.genre.model import load_models
        load_models()
        size = next(int(line.split()[1]) * 1024 for line in open("/proc/self/status") if line.startswith("VmSize"))
        resource.setrlimit(resource.RLIMIT_AS, (size + 16 * 2**20, resource.RLIM_INFINITY))
        sys.exit(main(["genre", "predict", {str(song)!r}]))
    """)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert r.returncode == 1, r.stderr
    line = one_line(r.stderr)
    # numpy, onnxruntime or the thread that watches ffmpeg is refused first, by chance of timing
    assert line.startswith(
        (
            "music-explorer: error: out of memory; this process may use ",
            "music-explorer: error: cannot start a thread: ",
        )
    ), line
    assert line.endswith("(close other programs, or raise the limit: ulimit -v)") or line.endswith("ulimit -u)")


def test_onnxruntime_out_of_memory_is_a_memory_error(tmp_path):
    """onnxruntime's own failure types (a bad_alloc, its arena's 'Failed to allocate memory') become MemoryError."""
    script = textwrap.dedent("""
        import resource
        import numpy as np
        from explorer.genre.model import load_models
        networks = load_models().networks
        x = np.zeros((18, 187, 96), np.float32)
        size = next(int(line.split()[1]) * 1024 for line in open("/proc/self/status") if line.startswith("VmSize"))
        resource.setrlimit(resource.RLIMIT_AS, (size + 8 * 2**20, resource.RLIM_INFINITY))
        try:
            networks.run(x, np.zeros(18))
        except MemoryError as e:
            print("MemoryError:", e)
    """)
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("MemoryError: onnxruntime could not allocate memory"), (r.stdout, r.stderr)
    assert "onnxruntime" not in r.stderr  # its own error lines are not printed


# -- the sound device ----------------------------------------------------------------------------------
@pytest.mark.parametrize("config", ["pcm.!default { type hw card 99 }\n", None], ids=["no-such-card", "no-config"])
def test_play_without_a_sound_device_is_one_line_and_fails(config, song, tmp_path):
    conf = tmp_path / "asound.conf"
    if config is not None:
        conf.write_text(config)
    # a fresh process: ALSA's own diagnostics go to the file descriptor, where capsys does not look
    r = run_cli("play", song, "--end", "0.3", env={**os.environ, "ALSA_CONFIG_PATH": str(conf)})
    assert r.returncode == 1, r.stderr
    assert one_line(r.stderr).startswith(
        "music-explorer: error: No sound output: the audio device could not be opened ("
    )
