"""The ``music-explorer`` command: the GUI when given no subcommand, headless tools otherwise.

Every failure caused by input (a missing, empty, corrupt or unsupported file …) ends
with exit status 2 and one line on stderr: ``music-explorer: error: <file>: <reason>``.
A failure of the machine (standard output full, out of memory, too many open files, no
sound output) is one such line too, with exit status 1.  Names and tags are printed with
their control characters escaped (:func:`explorer.util.text.printable`); JSON keeps them exact.
"""

from __future__ import annotations

import argparse
import difflib
import errno
import os
import resource
import sys
from collections.abc import Callable

from explorer import __version__
from explorer.cli.args import seconds
from explorer.errors import Cancelled, ExplorerError, NoSoundOutput
from explorer.util.text import printable

PROG = "music-explorer"
EXIT_USAGE = 2
#: Exit status when the machine, not the input, stopped the command (see :func:`main`).
EXIT_FAILURE = 1


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, the same shape as our own errors
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{PROG}: error: {printable(message)}\n")


def _add_analyze(sub):
    from explorer.export.formats import FORMATS

    p = sub.add_parser(
        "analyze",
        help="analyse a song and print its structure (JSON by default)",
        description="Decode FILE, analyse its structure and print the result.",
    )
    p.add_argument("file", metavar="FILE")
    p.add_argument("--out", "-o", metavar="OUT", help="write into OUT (- or none: standard output)")
    p.add_argument("--format", "-f", choices=FORMATS, default="json", help="output format (default: json)")
    p.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    p.add_argument("--no-cache", action="store_true", help="ignore and do not write the analysis cache")
    p.set_defaults(func=cmd_analyze)


def _add_play(sub):
    p = sub.add_parser("play", help="play a region of a song and return when it has finished")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--start", type=seconds, default=0.0, metavar="S", help="start, seconds (default 0)")
    p.add_argument("--end", type=seconds, default=None, metavar="E", help="end, seconds (default: end of file)")
    p.set_defaults(func=cmd_play)


def analyze_file(path: str, *, use_cache: bool = True, progress=None, cancel=None):
    """Decode and analyse ``path`` — structure, genre, embedding — through the on-disk cache when ``use_cache``.

    The user's edited sections (kept in the library) replace the automatic ones.
    """
    from explorer.library.cache import default_cache
    from explorer.library.store import Library, default_db_path
    from explorer.services.analyze import analyze_path

    cache = default_cache() if use_cache else None
    library = Library() if default_db_path().exists() else None
    try:
        return analyze_path(path, cache=cache, library=library, progress=progress, cancel=cancel)
    finally:
        if library is not None:
            library.close()


def cmd_analyze(args) -> int:
    from explorer.export.formats import render
    from explorer.util.fs import atomic_write_text, check_target

    if args.out and args.out != "-":  # "-" is standard output; anything else is checked before the work
        check_target(args.out, overwrite=args.force)
    result = analyze_file(args.file, use_cache=not args.no_cache)
    text = render(result, args.format)
    if args.format != "json":  # JSON carries them in "warnings"; the label formats have no place for them
        for w in result.warnings:
            print(f"{PROG}: warning: {printable(os.fspath(args.file))}: {printable(w)}", file=sys.stderr)
    if args.out and args.out != "-":
        atomic_write_text(args.out, text, overwrite=args.force)
    else:
        sys.stdout.write(text)
    return 0


def cmd_play(args) -> int:
    from explorer.audio.decode import decode
    from explorer.audio.playback import Player

    buffer = decode(args.file)
    end = buffer.duration if args.end is None else args.end
    if args.start < 0 or end <= args.start or args.start >= buffer.duration:
        raise ExplorerError(
            f"{args.file}: empty region {args.start:g}–{end:g} s (the file is {buffer.duration:.3f} s long)",
            path=args.file,
        )
    player = Player()
    player.play(buffer, args.start, end)
    try:
        player.wait()
    finally:
        player.stop()
    error = player.take_error()
    if error is not None:
        raise error
    return 0


def one_line(text: str) -> str:
    """``text`` on one line, safe for a terminal: line breaks and other control characters (possible in file
    names) written as ``\\n``, ``\\x1b`` … (see :func:`explorer.util.text.printable`)."""
    return printable(text)


class _Output:
    """``sys.stdout`` while a command runs: a write or flush that fails (a full disk, a closed terminal) is raised
    as :class:`_OutputFailed`, so that it is told apart from the command's own file errors; a closed pipe stays
    a ``BrokenPipeError``."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            raise
        except OSError as e:
            raise _OutputFailed(e.errno, e.strerror) from None

    def flush(self):
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as e:
            raise _OutputFailed(e.errno, e.strerror) from None

    def __getattr__(self, name):
        return getattr(self._stream, name)


class _OutputFailed(OSError):
    """Standard output could not be written."""


def _machine_failure(e: BaseException) -> str | None:
    """One line for a failure of the machine rather than of the input, or None for anything else."""
    if isinstance(e, _OutputFailed):
        return f"standard output: {e.strerror}"
    # a library that cannot be mapped into memory is out of memory too (seen under ulimit -v)
    unmappable = isinstance(e, ImportError) and "failed to map segment" in str(e)
    if isinstance(e, MemoryError) or (isinstance(e, OSError) and e.errno == errno.ENOMEM) or unmappable:
        limit = resource.getrlimit(resource.RLIMIT_AS)[0]
        if limit == resource.RLIM_INFINITY:
            return "out of memory (close other programs and try again)"
        return (
            f"out of memory; this process may use {limit / 2**30:.1f} GiB (close other programs, or raise the "
            "limit: ulimit -v)"
        )
    if isinstance(e, OSError) and e.errno in (errno.EMFILE, errno.ENFILE):
        limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        return f"too many open files (this process may open {limit}; raise the limit: ulimit -n)"
    # threading raises a bare RuntimeError when the system refuses a thread (its stack is memory too)
    if isinstance(e, RuntimeError) and "can't start new thread" in str(e):
        return (
            "cannot start a thread: the system's limit on memory or threads is reached "
            "(close other programs, or raise the limit: ulimit -v, ulimit -u)"
        )
    return None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Music Explorer: see and hear the structure of your songs. "
        "Without a command, opens the window (on PATHs if given).",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    _add_analyze(sub)
    _add_play(sub)
    from explorer.cli import genre, library, remove

    # Each headless area adds its own subcommands: library (scan, recommend, like …), genre (genre predict,
    # train, use) and remove.
    for module in (library, genre, remove):
        module.add_commands(sub)
    return parser


def _looks_like_command(arg: str) -> bool:
    """Whether a first argument that is no command reads as a mistyped one rather than a song or folder
    to open: an option, or a bare word (no path separator, no extension) that names nothing here."""
    if arg.startswith("-"):
        return True
    return arg.replace("-", "").replace("_", "").isalpha() and not os.path.lexists(arg)


def main(argv: list[str] | None = None, *, gui: Callable[[list[str]], int] | None = None) -> int:
    """Run the command ``argv`` (default ``sys.argv[1:]``); the exit status.

    Without a subcommand the arguments are songs or folders for the window, which ``gui(paths)`` opens:
    the entry module (:mod:`explorer.__main__`) passes it, so that this package never imports Qt.
    Without ``gui`` such a command line is a usage error.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    commands = set(parser._subparsers._group_actions[0].choices)  # type: ignore[union-attr,arg-type]  # no public API
    first = next((a for a in argv if a != "--"), None)
    if not argv or (first not in commands and first not in ("-h", "--help", "--version")):
        paths = [a for a in argv if a != "--"]
        if argv[0] != "--" and _looks_like_command(argv[0]):
            # a mistyped command ("analyse", "export") would open the window on a song of that name
            word = printable(argv[0])
            if argv[0].startswith("-"):
                parser.error(f"unknown option '{word}'; to open a file of that name in the window, put -- before it")
            hint = difflib.get_close_matches(argv[0], sorted(commands), n=1)
            parser.error(
                f"unknown command '{word}'"
                + (f" (did you mean '{hint[0]}'?)" if hint else f" (choose from {', '.join(sorted(commands))})")
                + f"; to open a file of that name in the window, give its path (./{word})"
            )
        if gui is None:
            parser.error("this entry point opens no window: give a COMMAND")
        return gui(paths)
    args = parser.parse_args(argv)
    # A file name that is not UTF-8 (Linux allows any bytes) must print, not crash: its odd bytes come out
    # as \udcXX escapes, which JSON reads back as the same name.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    stdout = sys.stdout
    sys.stdout = _Output(stdout)
    try:
        status = int(args.func(args) or 0)
        sys.stdout.flush()  # here, where a full disk is reported, not at exit
        return status
    except Cancelled:
        print(f"{PROG}: cancelled", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except ExplorerError as e:
        # one line, whatever the file is called: a line break in a name is shown as \n
        print(f"{PROG}: error: {printable(e.message)}", file=sys.stderr)
        return EXIT_FAILURE if isinstance(e, NoSoundOutput) else EXIT_USAGE
    except BrokenPipeError:
        # stdout closed early (e.g. piped into head): not an error of ours.  What is still buffered would
        # fail again when Python flushes at exit: point the descriptor at /dev/null instead.
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), stdout.fileno())
        except (OSError, ValueError):
            pass
        return 0
    except (MemoryError, OSError, ImportError, RuntimeError) as e:
        line = _machine_failure(e)
        if line is None:
            raise
        if isinstance(e, _OutputFailed):  # what is still buffered fails again at exit: drop it
            try:
                os.dup2(os.open(os.devnull, os.O_WRONLY), stdout.fileno())
            except (OSError, ValueError):
                pass
        print(f"{PROG}: error: {line}", file=sys.stderr)
        return EXIT_FAILURE
    finally:
        sys.stdout = stdout
