"""Processes as Linux's /proc shows them, for tests that check nothing is left running."""

from __future__ import annotations

import os


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state, ppid, …), or None when gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def children(pid: int, *, zombies: bool = True) -> list[int]:
    """Processes whose parent is ``pid`` (zombies too unless ``zombies`` is False)."""
    out = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        fields = _stat(int(entry))
        if fields is not None and int(fields[1]) == pid and (zombies or fields[0] != "Z"):
            out.append(int(entry))
    return out


def alive(pids) -> set[int]:
    """Those of ``pids`` that still run (not gone, not zombies)."""
    return {p for p in pids if (fields := _stat(p)) is not None and fields[0] != "Z"}


def read(pid: int, name: str) -> bytes:
    """/proc/PID/NAME (``comm``, ``cmdline`` …), empty when the process is gone."""
    try:
        with open(f"/proc/{pid}/{name}", "rb") as f:
            return f.read()
    except OSError:
        return b""


def is_spawned_worker(pid: int) -> bool:
    """Whether ``pid`` is a ``multiprocessing`` "spawn" child that has started its own interpreter.

    Looks for the ``--multiprocessing-fork`` argument rather than for text in the command line: between
    its fork and its exec a child still shows its parent's command line, which may be a script that
    names ``spawn_main``; a test that stopped such a child would stop the parent's ``fork_exec`` too."""
    return b"--multiprocessing-fork" in read(pid, "cmdline").split(b"\0")


def group(pgid: int) -> set[int]:
    """Live processes (not zombies) of process group ``pgid``: what a process started in a session of its
    own (``start_new_session=True``) and everything it started are, unless they left the group."""
    out = set()
    for entry in filter(str.isdigit, os.listdir("/proc")):
        fields = _stat(int(entry))
        if fields is not None and fields[0] != "Z" and int(fields[2]) == pgid:
            out.add(int(entry))
    return out


def descendants(pid: int) -> set[int]:
    """Live processes started by ``pid``, by its children, and so on."""
    parents: dict[int, list[int]] = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        fields = _stat(int(entry))
        if fields is not None and fields[0] != "Z":
            parents.setdefault(int(fields[1]), []).append(int(entry))
    out, todo = set(), [pid]
    while todo:
        for child in parents.get(todo.pop(), ()):
            if child not in out:
                out.add(child)
                todo.append(child)
    return out
