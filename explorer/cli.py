"""The ``music-explorer`` command: the GUI when given no subcommand, headless tools otherwise.

Every failure caused by input (a missing, empty, corrupt or unsupported file …) ends
with exit status 2 and one line on stderr: ``music-explorer: error: <file>: <reason>``.
"""

from __future__ import annotations

import argparse
import os
import sys

from explorer import __version__
from explorer.errors import Cancelled, ExplorerError

PROG = "music-explorer"
EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, the same shape as our own errors
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{PROG}: error: {message}\n")


def _add_analyze(sub):
    from explorer.export.formats import FORMATS

    p = sub.add_parser("analyze", help="analyse a song and print its structure (JSON by default)",
                       description="Decode FILE, analyse its structure and print the result.")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--out", "-o", metavar="OUT", help="write into OUT (- or none: standard output)")
    p.add_argument("--format", "-f", choices=FORMATS, default="json", help="output format (default: json)")
    p.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    p.add_argument("--no-cache", action="store_true", help="ignore and do not write the analysis cache")
    p.set_defaults(func=cmd_analyze)


def _add_play(sub):
    p = sub.add_parser("play", help="play a region of a song and return when it has finished")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--start", type=float, default=0.0, metavar="S", help="start, seconds (default 0)")
    p.add_argument("--end", type=float, default=None, metavar="E", help="end, seconds (default: end of file)")
    p.set_defaults(func=cmd_play)


def analyze_file(path: str, *, use_cache: bool = True, progress=None, cancel=None):
    """Decode and analyse ``path`` — structure, genre, embedding — through the on-disk cache when ``use_cache``.

    The user's edited sections (kept in the library) replace the automatic ones.
    """
    from explorer.library.analyze import analyze_path
    from explorer.library.cache import default_cache
    from explorer.library.store import Library, default_db_path

    cache = default_cache() if use_cache else None
    library = Library() if default_db_path().exists() else None
    try:
        return analyze_path(path, cache=cache, library=library, progress=progress, cancel=cancel)
    finally:
        if library is not None:
            library.close()


def cmd_analyze(args) -> int:
    from explorer.export.formats import render
    from explorer.fsutil import atomic_write_text, check_target

    if args.out and args.out != "-":  # "-" is standard output; anything else is checked before the work
        check_target(args.out, overwrite=args.force)
    result = analyze_file(args.file, use_cache=not args.no_cache)
    text = render(result, args.format)
    if args.format != "json":  # JSON carries them in "warnings"; the label formats have no place for them
        for w in result.warnings:
            print(f"{PROG}: warning: {one_line(os.fspath(args.file))}: {one_line(w)}", file=sys.stderr)
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
        raise ExplorerError(f"{args.file}: empty region {args.start:g}–{end:g} s "
                            f"(the file is {buffer.duration:.3f} s long)", path=args.file)
    player = Player()
    player.play(buffer, args.start, end)
    try:
        player.wait()
    finally:
        player.stop()
    return 0


def one_line(text: str) -> str:
    """``text`` with line breaks (possible in file names) written as ``\\n`` / ``\\r``."""
    return text.replace("\r", "\\r").replace("\n", "\\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Music Explorer: see and hear the structure of your songs. "
                     "Without a command, opens the window (on PATHs if given).")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    _add_analyze(sub)
    _add_play(sub)
    import importlib

    # Each headless area adds its own subcommands: explorer/cli_library.py (scan, recommend, like …)
    # and explorer/genre/cli.py (genre predict).
    for name in ("explorer.cli_library", "explorer.genre.cli"):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name != name:
                raise
            continue
        module.add_commands(sub)
    return parser


def _gui(paths: list[str]) -> int:
    import importlib

    # Reached by name: the headless CLI itself must not depend on Qt (the import-linter contract).
    return importlib.import_module("explorer.app").main(paths)


def main(argv: list[str] | None = None) -> int:
    from explorer.entry import run_multiprocessing_child

    run_multiprocessing_child(argv)  # a child that multiprocessing started never becomes the GUI or the CLI
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    commands = set(parser._subparsers._group_actions[0].choices)  # noqa: SLF001 - argparse has no public API
    first = next((a for a in argv if a != "--"), None)
    if not argv or (first not in commands and first not in ("-h", "--help", "--version")):
        paths = [a for a in argv if a != "--"]
        return _gui(paths)
    args = parser.parse_args(argv)
    # A file name that is not UTF-8 (Linux allows any bytes) must print, not crash: its odd bytes come out
    # as \udcXX escapes, which JSON reads back as the same name.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    try:
        return int(args.func(args) or 0)
    except Cancelled:
        print(f"{PROG}: cancelled", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except ExplorerError as e:
        # one line, whatever the file is called: a line break in a name is shown as \n
        print(f"{PROG}: error: {one_line(e.message)}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # stdout closed early (e.g. piped into head): not an error of ours
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        except OSError:
            pass
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
