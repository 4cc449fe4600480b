"""``music-explorer genre predict FILE… [--json]``: the genre of each file.

Without ``--json`` one line per file: ``FILE: label (p) · second (p) · third (p)``.  With ``--json`` one
JSON object per line: ``{"file", "label", "probabilities": {genre: p}}``.  A file that cannot be read
gets ``music-explorer: error: FILE: reason`` on stderr and the others are still predicted; the exit
status is then 2.  A song already in the analysis cache (same content, same model) is answered from it
without decoding; only the others load the networks.
"""

from __future__ import annotations

import json
import sys

PROG = "music-explorer"


def add_commands(subparsers) -> None:
    """Register ``genre predict`` on the main parser's subparsers."""
    genre = subparsers.add_parser("genre", help="genre recognition", description="Genre recognition.")
    sub = genre.add_subparsers(dest="genre_command", metavar="COMMAND", required=True,
                               parser_class=type(genre))
    p = sub.add_parser("predict", help="print the genre of each FILE and the probability of every genre",
                       description="Print the most probable genre of each FILE and the probability of every genre.")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--json", action="store_true", help="one JSON object per line: {file, label, probabilities}")
    p.set_defaults(func=cmd_predict)


def format_line(path: str, label: str | None, probabilities: dict[str, float], *, as_json: bool) -> str:
    """One output line for one file."""
    if as_json:
        return json.dumps({"file": path, "label": label,
                           "probabilities": {g: round(float(v), 4) for g, v in probabilities.items()}},
                          ensure_ascii=False)
    from explorer.util.text import printable  # noqa: PLC0415 - the name may hold terminal control characters

    ranked = sorted(probabilities.items(), key=lambda kv: -kv[1])[:3]
    return f"{printable(path)}: " + " · ".join(f"{g} ({v:.2f})" for g, v in ranked)


def cmd_predict(args) -> int:
    from explorer.analysis.features import SR
    from explorer.audio.decode import check_file, decode
    from explorer.errors import Cancelled, ExplorerError
    from explorer.genre.model import describe, verify_models
    from explorer.library.cache import default_cache
    from explorer.util.text import printable

    verify_models()  # a missing or damaged model is one error for the whole command, raised before any file
    cache = default_cache()
    status = 0
    for path in args.files:
        try:
            # a song analysed before (by analyze, scan or the window) already holds its genre
            hit = cache.lookup_file(check_file(path))
            # otherwise decoded as `analyze` does (mono at the analysis rate), so both answers are the same
            genre = hit.genre if hit is not None and hit.genre.label else \
                describe(decode(path, sr=SR, mono=True)).genre
        except Cancelled:
            raise
        except ExplorerError as e:
            print(f"{PROG}: error: {printable(e.message)}", file=sys.stderr, flush=True)
            status = 2
            continue
        print(format_line(path, genre.label, genre.probabilities, as_json=args.json), flush=True)
    return status
