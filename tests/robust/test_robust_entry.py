"""The program's entry points when multiprocessing, not a user, starts them.

In a frozen app (the PyInstaller bundle) ``sys.executable`` is Music Explorer itself, so every process that
multiprocessing starts (pool workers, the analysis helper, the resource tracker) runs our entry point with
multiprocessing's command line.  These tests make the same situation without a bundle: a small program that
runs ``python -m explorer "$@"`` (or ``explorer.cli.main``, the console script) is set as multiprocessing's
executable, and a spawned pool must work through it.  ``make test-bundle`` checks the real bundle.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from explorer.entry import NotAChildCall, child_call

ENTRY_POINTS = {
    "python -m explorer": f'#!/bin/sh\nexec "{sys.executable}" -m explorer "$@"\n',
    "console script": f"#!{sys.executable}\nimport sys\nfrom explorer.__main__ import main\nsys.exit(main())\n",
}

# A parent that uses the entry point as its interpreter: a spawned pool (which also starts the resource
# tracker through it), a queue shared with the child, and a named semaphore the tracker must clean up.
PARENT = textwrap.dedent("""
    import multiprocessing, sys
    from concurrent.futures import ProcessPoolExecutor

    if __name__ == "__main__":
        multiprocessing.set_executable(sys.argv[1])
        ctx = multiprocessing.get_context("spawn")
        queue = ctx.Queue()
        with ProcessPoolExecutor(2, mp_context=ctx) as pool:
            print(sorted(pool.map(pow, [2, 3], [10, 2])))
        queue.put("done")
        print(queue.get(timeout=60))
""")


def run_group(cmd, *, env, timeout=240.0) -> subprocess.CompletedProcess:
    """Run ``cmd`` in its own process group and kill the whole group afterwards, whatever happened
    (a child that opened a window, or a multiplying one, must not outlive the test)."""
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"{cmd} did not finish within {timeout:.0f} s (a child ran the GUI?)\n{err[-3000:]}")
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_multiprocessing_children_through_the_entry_point_do_their_work(entry, tmp_path):
    program = tmp_path / "music-explorer"
    program.write_text(ENTRY_POINTS[entry])
    program.chmod(0o755)
    # Should a child run the GUI, Qt fails at once on this platform instead of opening a window.
    env = {**os.environ, "QT_QPA_PLATFORM": "no-such-platform"}
    proc = run_group([sys.executable, "-c", PARENT, str(program)], env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split("\n")[:2] == ["[9, 1024]", "done"]
    assert "file not found" not in proc.stderr  # "-B: file not found": flags read as a song
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]


@pytest.mark.parametrize(
    "argv",
    [
        ["--multiprocessing-fork", "tracker_fd=5", "pipe_handle=x"],
        ["--multiprocessing-fork", "nonsense"],
        ["-B", "-s", "-c", "from multiprocessing.resource_tracker import main; import os; os.system('true')"],
        ["-c", "from multiprocessing.util import _exit_function; _exit_function()"],
        ["-c", "from multiprocessing.resource_tracker import main; main(__import__('os'))"],
        ["-c", "from multiprocessing import x; x()", "--multiprocessing-fork"],
    ],
)
def test_a_child_command_line_that_cannot_be_run_is_one_error_line(argv, tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "no-such-platform"}
    proc = run_group([sys.executable, "-m", "explorer", *argv], env=env, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.startswith("music-explorer: error: not a multiprocessing child command line: ")
    assert proc.stderr.count("\n") == 1


def test_child_command_lines_are_recognised():
    tracker = "from multiprocessing.resource_tracker import main;main(5)"
    assert child_call(["-B", "-s", "-c", tracker]) == ("multiprocessing.resource_tracker", "main", (5,), {})
    assert child_call(["-X", "dev", "-Wdefault", "-c", tracker]) == (
        "multiprocessing.resource_tracker",
        "main",
        (5,),
        {},
    )
    spawn = "from multiprocessing.spawn import spawn_main; spawn_main(tracker_fd=6, pipe_handle=8)"
    assert child_call(["-c", spawn, "--multiprocessing-fork"]) == (
        "multiprocessing.spawn",
        "spawn_main",
        (),
        {"tracker_fd": 6, "pipe_handle": 8},
    )
    assert child_call(["--multiprocessing-fork", "tracker_fd=5", "pipe_handle=7", "parent_pid=None"]) == (
        "multiprocessing.spawn",
        "spawn_main",
        (),
        {"tracker_fd": 5, "pipe_handle": 7, "parent_pid": None},
    )
    server = "from multiprocessing.forkserver import main; main(7, 8, ['__main__'], **{'sys_path': ['/x']})"
    assert child_call(["-c", server]) == (
        "multiprocessing.forkserver",
        "main",
        (7, 8, ["__main__"]),
        {"sys_path": ["/x"]},
    )
    # a user's command lines, songs called -c or -B included
    for argv in (
        [],
        ["song.mp3"],
        ["-B"],
        ["-c"],
        ["-c", "song.mp3"],
        ["analyze", "-c"],
        ["song.mp3", "-c", tracker],
        ["--", "-c", tracker + "x"],
        ["--", "--multiprocessing-fork"],
    ):
        assert child_call(argv) is None, argv
    with pytest.raises(NotAChildCall):
        child_call(["-c", "from multiprocessing.spawn import spawn_main; spawn_main(open('/etc/passwd'))"])
