"""What every entry point runs first: a process that ``multiprocessing`` started does its child's
work and exits, and never becomes the window or the command line.

``multiprocessing`` starts its children (spawned pool workers, the analysis helper, the resource
tracker, a fork server) by running ``sys.executable`` again.  In a frozen app (the PyInstaller
bundle) that program is Music Explorer itself, so each child arrives at our entry point with one of
multiprocessing's command lines instead of a user's arguments:

- ``--multiprocessing-fork tracker_fd=5 pipe_handle=7`` (a spawned child of a frozen app);
- ``[interpreter flags] -c 'from multiprocessing.spawn import spawn_main; spawn_main(…)'
  --multiprocessing-fork`` (a spawned child of an interpreter);
- ``[interpreter flags] -c 'from multiprocessing.resource_tracker import main;main(5)'`` (the
  resource tracker; likewise ``multiprocessing.forkserver``).

Read as a user's arguments, ``-B`` became a song to open and every child opened another window whose
helper started another child.  :func:`run_multiprocessing_child` recognises all three forms and runs
the child's function (with the literal arguments parsed, never ``exec``-ed); an entry point calls it
before anything else.
"""

from __future__ import annotations

import ast
import importlib
import multiprocessing
import sys
from collections.abc import Sequence

#: The functions a multiprocessing child command line may call, by module.
CHILD_MAINS = {
    "multiprocessing.spawn": "spawn_main",
    "multiprocessing.resource_tracker": "main",
    "multiprocessing.forkserver": "main",
}
#: The option multiprocessing's spawned children carry.
FORK_FLAG = "--multiprocessing-fork"


class NotAChildCall(ValueError):
    """A command line that looks like a multiprocessing child's but names no known child function."""


def _literal_call(code: str) -> tuple[str, str, tuple, dict]:
    """``from M import F; F(literal, …, key=literal, **{literal dict})`` → (M, F, args, kwargs)."""
    try:
        body = ast.parse(code, mode="exec").body
    except SyntaxError as e:
        raise NotAChildCall(f"not Python: {e.msg}") from None
    if (
        len(body) != 2
        or not isinstance(body[0], ast.ImportFrom)
        or len(body[0].names) != 1
        or not isinstance(body[1], ast.Expr)
        or not isinstance(body[1].value, ast.Call)
    ):
        raise NotAChildCall("not an import followed by one call")
    module, alias, call = body[0].module or "", body[0].names[0], body[1].value
    name = alias.asname or alias.name
    if CHILD_MAINS.get(module) != alias.name or not isinstance(call.func, ast.Name) or call.func.id != name:
        raise NotAChildCall(f"{module}.{alias.name} is not a multiprocessing child's main function")
    try:
        args = tuple(ast.literal_eval(a) for a in call.args)
        kwargs: dict = {}
        for kw in call.keywords:
            value = ast.literal_eval(kw.value)
            if kw.arg is None:  # **{...}
                kwargs.update(value)
            else:
                kwargs[kw.arg] = value
    except (ValueError, TypeError, SyntaxError) as e:
        raise NotAChildCall(f"arguments are not literals ({e})") from None
    return module, alias.name, args, kwargs


def child_call(argv: Sequence[str]) -> tuple[str, str, tuple, dict] | None:
    """The child function ``argv`` (the arguments after the program's name) asks for, if it is one of
    multiprocessing's child command lines: ``(module, function, args, kwargs)``; None for anything else.

    Raises
    ------
    NotAChildCall
        When ``argv`` carries ``--multiprocessing-fork`` or ``-c 'from multiprocessing…'`` but does
        not name one of :data:`CHILD_MAINS` with literal arguments.
    """
    argv = list(argv)
    if argv[:1] == [FORK_FLAG]:  # a frozen app's spawned child: key=value pairs follow
        kwargs = {}
        for item in argv[1:]:
            key, sep, value = item.partition("=")
            if not sep or not key.isidentifier():
                raise NotAChildCall(f"{item!r} is not a key=value pair")
            try:
                kwargs[key] = None if value == "None" else int(value)
            except ValueError:
                raise NotAChildCall(f"{item!r} has no integer value") from None
        return "multiprocessing.spawn", "spawn_main", (), kwargs
    # An interpreter's command line: its flags (-B, -s, -E, -X dev, -W…) then -c CODE [--multiprocessing-fork].
    # Only the shape "options, then -c CODE" counts; the flags cannot be applied to a running process.
    for i, arg in enumerate(argv[:-1]):
        if arg == "--":
            break
        if arg == "-c":
            code = argv[i + 1]
            if code.lstrip().startswith("from multiprocessing") and all(a == FORK_FLAG for a in argv[i + 2 :]):
                return _literal_call(code)
            break
        if not arg.startswith("-") and argv[i - 1 : i] != ["-X"] and argv[i - 1 : i] != ["-W"]:
            break  # a positional argument (a song) before any -c: a user's command line
    if FORK_FLAG in (argv[: argv.index("--")] if "--" in argv else argv):
        raise NotAChildCall(f"{FORK_FLAG} without a child function to run")
    return None


def run_multiprocessing_child(argv: Sequence[str] | None = None) -> None:
    """If this process is a child that ``multiprocessing`` started, run the child's work and exit;
    otherwise return at once.  ``argv`` defaults to ``sys.argv[1:]``.

    :func:`multiprocessing.freeze_support` runs first: in a frozen app PyInstaller's version of it
    handles these children itself (and exits).  A command line that looks like a child's but cannot
    be run exits with status 2 and one line, never opening a window.
    """
    multiprocessing.freeze_support()
    try:
        call = child_call(sys.argv[1:] if argv is None else argv)
    except NotAChildCall as e:
        print(f"music-explorer: error: not a multiprocessing child command line: {e}", file=sys.stderr)
        sys.exit(2)
    if call is None:
        return
    module, function, args, kwargs = call
    # What the interpreter would have left in sys.argv; spawn_main checks for its flag as sys.argv[1].
    sys.argv = [sys.argv[0], FORK_FLAG] if module == "multiprocessing.spawn" else sys.argv[:1]
    result = getattr(importlib.import_module(module), function)(*args, **kwargs)
    sys.exit(result if isinstance(result, int) else 0)
