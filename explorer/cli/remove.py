"""``music-explorer remove [FILE|TRACK_ID…] [--failed] [--missing] [--db PATH]``: forget songs.

Removes the named songs and, with ``--failed`` / ``--missing``, every song that failed to analyse or
whose file is missing, from the library.  Files are never touched; the songs' likes and history go with
them, and a later scan that finds a file adds it again.  A name that is not in the library is one
error line (exit status 2) and nothing is removed.
"""

from __future__ import annotations

PROG = "music-explorer"


def add_commands(sub) -> None:
    p = sub.add_parser(
        "remove",
        help="remove songs from the library (failed, missing or named ones); files stay",
        description="Remove songs from the library: those named, and with --failed / --missing "
        "every failed or missing one. Files are not deleted; likes and history of the "
        "removed songs are.",
    )
    p.add_argument("refs", nargs="*", metavar="FILE|TRACK_ID")
    p.add_argument("--failed", action="store_true", help="every song that could not be analysed")
    p.add_argument("--missing", action="store_true", help="every song whose file is missing")
    p.add_argument("--db", metavar="PATH", default=None, help="the library database (default: the user's)")
    p.set_defaults(func=cmd_remove)


def cmd_remove(args) -> int:
    from explorer.cli.library import _open
    from explorer.errors import ExplorerError

    states = {s for s, on in (("failed", args.failed), ("missing", args.missing)) if on}
    if not args.refs and not states:
        raise ExplorerError("nothing to remove: name songs (FILE or TRACK_ID), or give --failed or --missing")
    with _open(args) as library:
        ids = {library.resolve(ref).id for ref in args.refs}
        ids |= {t.id for t in library.tracks() if t.state in states}
        n = library.remove_tracks(sorted(ids))
    print(f"removed {n} song{'s' if n != 1 else ''} from the library (the files are left alone)")
    return 0
