"""Library subcommands of ``music-explorer``: scan, recommend, like, dislike, unlike, history, playlist.

Every command takes ``--db PATH`` (default: the catalogue in the user's data folder).  Names, titles and
tags go to the terminal through :func:`explorer.util.text.printable` (control characters escaped); the
``--json`` output keeps them exact.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import TYPE_CHECKING

from explorer.cli.args import count
from explorer.errors import ExplorerError
from explorer.util.text import printable

if TYPE_CHECKING:
    from explorer.library.tracks import Track

PROG = "music-explorer"
#: Largest track id SQLite can hold; a larger number names no track (and would overflow SQLite's integer).
MAX_TRACK_ID = 2**63 - 1


def _ref(text: str) -> str:
    """FILE or TRACK_ID: a number (that is not the name of a file) must be a possible track id."""
    if text.isdigit() and not os.path.exists(text) and int(text) > MAX_TRACK_ID:
        raise argparse.ArgumentTypeError(f"{text}: no such track id (ids go up to {MAX_TRACK_ID})")
    return text


def _add_seed(p) -> None:
    """The optional song ``recommend`` and ``playlist`` start from (without it: "for you")."""
    p.add_argument(
        "seed",
        metavar="FILE|TRACK_ID",
        type=_ref,
        nargs="?",
        help="the song to start from (left out: 'for you', with --mode blend or personal)",
    )


def _check_seed(command: str, args) -> None:
    """Without a song only Blend and For you can rank ("for you"): the other modes say so, before any work."""
    if args.seed is None and args.mode not in ("blend", "personal"):
        raise ExplorerError(f"{command} --mode {args.mode} needs a song to start from (FILE or TRACK_ID)")


def _empty_note(why: str) -> str:
    """What ``recommend`` and ``playlist`` say for :func:`~explorer.recommend.why_nothing`'s reason."""
    from explorer.recommend import rank

    return {rank.ALL_DISLIKED: ALL_DISLIKED, rank.NO_TASTE: NO_TASTE}.get(why, NO_RECOMMENDATIONS)


#: Exit status of a scan that finished but could not analyse some files (they are listed on stderr).
SCAN_FAILED_STATUS = 3
#: What ``recommend`` says when there is nothing to recommend (text and JSON "note") …
NO_RECOMMENDATIONS = "no recommendations: the library has no other analysed songs (run `music-explorer scan FOLDER`)"
#: … and when every other analysed song is one the listener disliked.
ALL_DISLIKED = (
    "no recommendations: you disliked every other analysed song "
    "(`music-explorer unlike TRACK_ID` forgets a dislike; --mode sound or genre ignore them)"
)
#: … and when there is no song to start from and nothing liked, disliked or played yet.
NO_TASTE = (
    "no recommendations for you yet: like, dislike or play some songs first "
    "(or start from one: `music-explorer recommend FILE`)"
)


def _open(args):
    from explorer.library.store import Library

    lib = Library(args.db)
    for notice in lib.notices:
        print(f"{PROG}: warning: {printable(notice)}", file=sys.stderr)
    return lib


def _add_db(p) -> None:
    p.add_argument("--db", metavar="PATH", default=None, help="the library database (default: the user's)")


def add_commands(sub) -> None:
    from explorer.recommend.rank import MODES

    p = sub.add_parser(
        "scan",
        help="add the songs of folders to the library and analyse them",
        description="Find audio files under FOLDERs, read their tags and analyse new or changed "
        "ones on all cores. Interrupt at any time: the next scan goes on from there. "
        f"Exit status {SCAN_FAILED_STATUS} when some files could not be analysed "
        "(each is listed on stderr).",
    )
    p.add_argument("folders", nargs="+", metavar="FOLDER")
    _add_db(p)
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="analysis processes (default: one per core; 0: in this process)",
    )
    p.add_argument(
        "--retry-failed",
        action="store_true",
        help="analyse again the songs that failed before (those that failed because of the computer, "
        "not the file, are retried anyway)",
    )
    p.set_defaults(func=cmd_scan)

    p = sub.add_parser(
        "recommend",
        help="songs of the library to hear after FILE (or TRACK_ID), with reasons; without one, songs "
        "for you, from what you liked, disliked and played",
    )
    _add_seed(p)
    _add_db(p)
    p.add_argument("-k", type=count, default=10, metavar="K", help="how many (default 10)")
    p.add_argument("--mode", choices=MODES, default="blend", help="what 'similar' means (default: blend)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_recommend)

    for name, verb in (("like", "like"), ("dislike", "dislike"), ("unlike", "forget the like or dislike of")):
        p = sub.add_parser(name, help=f"{verb} a song (FILE or TRACK_ID)")
        p.add_argument("ref", metavar="FILE|TRACK_ID", type=_ref)
        _add_db(p)
        p.set_defaults(func=cmd_rate, action=name)

    p = sub.add_parser("history", help="the latest likes, dislikes, plays and skips")
    _add_db(p)
    p.add_argument("-n", "--limit", type=count, default=50, metavar="N", help="how many entries (default 50)")
    p.add_argument("--json", action="store_true", help="print JSON lines")
    p.set_defaults(func=cmd_history)

    p = sub.add_parser(
        "playlist",
        help="write an M3U8 playlist: FILE followed by its recommendations; without FILE, songs for you",
    )
    _add_seed(p)
    _add_db(p)
    p.add_argument("-k", type=count, default=20, metavar="K", help="how many recommendations (default 20)")
    p.add_argument("--mode", choices=MODES, default="blend")
    p.add_argument("--out", "-o", required=True, metavar="OUT", help="the .m3u8 file to write (-: standard output)")
    p.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    p.set_defaults(func=cmd_playlist)


# -- scan ------------------------------------------------------------------------------------
class ProgressBar:
    """``[#####-----] 12/50  3.4 songs/min  ETA 11:10  name`` on stderr, at most ~4 times a second
    (every 5 s when stderr is not a terminal); the last line says how long it took instead of an ETA.
    A scan with nothing to analyse draws no bar: its summary line says so."""

    def __init__(self, stream=None, width: int = 24):
        # sys.stderr looked up now, not at import: it may have been replaced since (tests, redirection)
        self.stream, self.width = stream if stream is not None else sys.stderr, width
        self.tty = self.stream.isatty()
        self.t0 = time.monotonic()
        self.last = 0.0
        self.start_done: int | None = None

    def __call__(self, done: int, total: int, path: str | None) -> None:
        now = time.monotonic()
        if total == 0:
            return
        if self.start_done is None:
            self.start_done, self.t0 = done, now
        if done < total and now - self.last < (0.25 if self.tty else 5.0):
            return
        self.last = now
        frac = done / total if total else 1.0
        fill = int(round(frac * self.width))
        elapsed = now - self.t0
        rate = (done - self.start_done) / elapsed * 60 if elapsed > 0 else 0.0
        eta = (total - done) / (rate / 60) if rate > 0 else None
        if done >= total:
            when = f"in {int(elapsed // 60):d}:{int(elapsed % 60):02d}"
        else:
            when = "ETA --:--" if eta is None else f"ETA {int(eta // 60):d}:{int(eta % 60):02d}"
        name = printable(os.path.basename(path)) if path and done < total else ""
        line = f"[{'#' * fill}{'-' * (self.width - fill)}] {done}/{total}  {rate:.1f} songs/min  {when}  {name[:40]}"
        if self.tty:
            self.stream.write("\r" + line.ljust(100)[:100] + ("\n" if done >= total else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def _check_folders(folders) -> None:
    """Every FOLDER of ``scan`` is a folder or an audio file, before any work (a typo is one usage error,
    not an empty scan that exits 0)."""
    from explorer.errors import FileMissing
    from explorer.services.scan import unscannable

    for folder in folders:
        reason = unscannable(folder)
        if reason is not None:
            raise FileMissing(f"{folder}: {reason}", path=folder)


def cmd_scan(args) -> int:
    from explorer.services.scan import scan

    _check_folders(args.folders)
    lib = _open(args)
    try:
        report = scan(
            args.folders, library=lib, workers=args.workers, progress=ProgressBar(), retry_failed=args.retry_failed
        )
    finally:
        lib.close()
    for path, reason in report.failures:
        print(f"{PROG}: failed: {printable(reason if path in reason else f'{path}: {reason}')}", file=sys.stderr)
    print(
        f"{report.found} audio files: {report.added} new, {report.changed} changed, {report.moved} moved, "
        f"{report.missing} missing, {report.unchanged} unchanged, {report.outdated} outdated, "
        f"{report.returned} back, {report.retried} retried; "
        f"{report.analysed} analysed, "
        f"{report.failed} failed in {report.elapsed:.1f} s"
    )
    if report.failed:  # the scan itself went through: a status of its own, not the bad-input 2
        print(
            f"{PROG}: {report.failed} file{'s' if report.failed != 1 else ''} could not be analysed "
            f"(listed above); exit status {SCAN_FAILED_STATUS}",
            file=sys.stderr,
        )
        return SCAN_FAILED_STATUS
    return 0


# -- recommendations -------------------------------------------------------------------------
def _genre_of(track) -> str | None:
    return track.genre_label or track.genre_tag or None


def _analyze_seed(path: str):
    """A seed outside the library: analysed through the user's analysis cache, as ``analyze`` does."""
    from explorer.library.cache import default_cache
    from explorer.services.analyze import analyze_path

    return analyze_path(path, cache=default_cache())


def cmd_recommend(args) -> int:
    from explorer.recommend import recommend, why_nothing

    _check_seed("recommend", args)
    lib = _open(args)
    try:
        recs = recommend(lib, args.seed, k=args.k, mode=args.mode, analyze=_analyze_seed)
        note = ""
        if not recs:
            why = why_nothing(lib, args.seed, mode=args.mode, analyze=_analyze_seed)
            note = _empty_note(why)
        by_id = args.seed is not None and args.seed.isdigit() and not os.path.exists(args.seed)
        seed_track = lib.track(int(args.seed)) if by_id else None
    finally:
        lib.close()
    if args.seed is None:
        seed_path = None  # "for you"
    else:
        seed_path = seed_track.path if seed_track is not None else os.path.abspath(args.seed)
    if args.json:
        doc = {
            "seed": seed_path,
            "mode": args.mode,
            "recommendations": [
                {
                    "path": r.track.path,
                    "title": r.track.title,
                    "artist": r.track.artist,
                    "score": r.score,
                    "genre": _genre_of(r.track),
                    "reasons": list(r.reasons),
                }
                for r in recs
            ],
        }
        if note:
            doc["note"] = note
        print(json.dumps(doc, ensure_ascii=False, indent=1))
        return 0
    if note:
        print(note)
    for n, r in enumerate(recs, 1):
        print(
            printable(f"{n:2d}. {r.score:6.3f}  {r.track.display_name}  [{_genre_of(r.track) or '?'}]  {r.track.path}")
        )
        if r.reasons:
            print(f"      {printable('; '.join(r.reasons))}")
    return 0


def cmd_playlist(args) -> int:
    from explorer.export.playlist import STDOUT, write_m3u8
    from explorer.recommend import recommend, why_nothing
    from explorer.util.fs import check_target

    _check_seed("playlist", args)
    if args.out != STDOUT:  # refused before the work, as analyze does
        check_target(args.out, overwrite=args.force)
    lib = _open(args)
    try:
        recs = recommend(lib, args.seed, k=args.k, mode=args.mode, analyze=_analyze_seed)
        if args.seed is None:
            seed = None
            if not recs:  # a playlist of nothing is no use: say why instead, and write no file
                why = why_nothing(lib, None, mode=args.mode)
                raise ExplorerError(_empty_note(why))
        elif args.seed.isdigit() and not os.path.exists(args.seed):
            seed = lib.resolve(args.seed)
        else:
            seed = lib.track_by_path(args.seed)
    finally:
        lib.close()
    entries: list[tuple[str, Track | None]] = [(r.track.path, r.track) for r in recs]
    if args.seed is not None:
        entries.insert(0, (seed.path if seed else os.path.abspath(args.seed), seed))
    skipped = write_m3u8(args.out, entries, overwrite=args.force)
    for path in skipped:
        print(
            f"{PROG}: warning: {printable(path)}: left out (a file name with a line break cannot be in a playlist)",
            file=sys.stderr,
        )
    if args.out != STDOUT:
        n = len(entries) - len(skipped)
        print(f"{printable(args.out)}: {n} song{'' if n == 1 else 's'}")
    return 0


# -- ratings and history ---------------------------------------------------------------------
#: The first line of ``history``: what its columns are.
HISTORY_HEADER = f"{'when':<19}  {'kind':<8} {'track id':>8}  song"


def cmd_rate(args) -> int:
    lib = _open(args)
    try:
        ref = args.ref
        if not (ref.isdigit() and not os.path.exists(ref)) and lib.track_by_path(ref) is None:
            track = lib.add_or_update_file(ref)  # not scanned yet: remember it (and the rating) anyway
        else:
            track = lib.resolve(ref)
        already = track.rating == {"like": 1, "dislike": -1, "unlike": 0}[args.action]
        if not already:  # the same rating again is not a new entry in the history
            getattr(lib, args.action)(track.id)
    finally:
        lib.close()
    done = f"{args.action}d" if args.action != "unlike" else "cleared"
    print(f"{'already ' if already else ''}{done}: {printable(track.display_name)}")
    return 0


def cmd_history(args) -> int:
    lib = _open(args)
    try:
        entries = lib.history(args.limit)
    finally:
        lib.close()
    if not args.json:
        print(HISTORY_HEADER if entries else "no history yet: like, dislike or play songs first")
    for e in entries:
        if args.json:
            print(
                json.dumps(
                    {
                        "at": e.at,
                        "kind": e.kind,
                        "track_id": e.track_id,
                        "path": e.path,
                        "title": e.title,
                        "artist": e.artist,
                        "heard": e.heard,
                    },
                    ensure_ascii=False,
                )
            )
        else:
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(e.at))
            who = f"{e.artist} – {e.title}" if e.artist else e.title
            heard = f"  ({e.heard:.0f} s heard)" if e.heard is not None else ""
            print(f"{when:<19}  {e.kind:<8} {e.track_id:>8}  {printable(who)}{heard}")
    return 0
