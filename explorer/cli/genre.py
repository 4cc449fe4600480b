"""``music-explorer genre predict|train|use``: genre recognition and a model trained on the user's tags.

``predict FILE… [--json] [--db PATH]``: without ``--json`` one line per file:
``FILE: label (p) · second (p) · third (p)``, where ``label`` is ``uncertain`` when the calibrated
confidence is below the model's threshold.  With ``--json`` one JSON object per line:
``{"file", "label", "probabilities": {genre: p}, "uncertain", "confidence", "model"}`` (``label`` stays
the most probable genre).  A file that cannot be read gets ``music-explorer: error: FILE: reason``
on stderr and the others are still predicted; the exit status is then 2.  A song already in the
analysis cache (same content, same model) is answered from it without decoding; only the others
load the networks.  The library's own model (``genre use``) names the genre when it has one.

``train`` and ``use``: see :mod:`explorer.cli.genre_model`.
"""

from __future__ import annotations

import json
import sys

PROG = "music-explorer"


def add_commands(subparsers) -> None:
    """Register ``genre predict``, ``genre train`` and ``genre use`` on the main parser's subparsers."""
    from explorer.cli import genre_model as cli_genre

    genre = subparsers.add_parser("genre", help="genre recognition", description="Genre recognition.")
    sub = genre.add_subparsers(dest="genre_command", metavar="COMMAND", required=True, parser_class=type(genre))
    p = sub.add_parser(
        "predict",
        help="print the genre of each FILE and the probability of every genre",
        description='Print the most probable genre of each FILE ("uncertain" when the model is '
        "not confident enough) and the probability of every genre.",
    )
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument(
        "--json",
        action="store_true",
        help="one JSON object per line: {file, label, probabilities, uncertain, confidence, model}",
    )
    p.add_argument(
        "--db", metavar="PATH", default=None, help="the library whose genre model to use (default: the user's)"
    )
    p.set_defaults(func=cmd_predict)
    cli_genre.add_commands(sub)


def format_line(
    path: str,
    label: str | None,
    probabilities: dict[str, float],
    *,
    as_json: bool,
    verdict=None,
    model: str = "default",
) -> str:
    """One output line for one file (``verdict``: its :class:`~explorer.genre.calibration.Verdict`)."""
    if as_json:
        doc = {"file": path, "label": label, "probabilities": {g: round(float(v), 4) for g, v in probabilities.items()}}
        if verdict is not None:
            doc.update(uncertain=verdict.uncertain, confidence=round(verdict.confidence, 4), model=model)
        return json.dumps(doc, ensure_ascii=False)
    from explorer.util.text import printable  # noqa: PLC0415 - the name may hold terminal control characters

    ranked = sorted(probabilities.items(), key=lambda kv: -kv[1])[:3]
    text = " · ".join(f"{g} ({v:.2f})" for g, v in ranked)
    if verdict is not None and verdict.uncertain:
        return f"{printable(path)}: uncertain · {text}"
    return f"{printable(path)}: {text}"


def cmd_predict(args) -> int:
    from explorer.analysis.features import SR
    from explorer.audio.decode import check_file, decode
    from explorer.errors import Cancelled, ExplorerError
    from explorer.genre.calibration import assess
    from explorer.genre.model import describe, verify_models
    from explorer.library.cache import default_cache
    from explorer.library.genre_model import active_model, check_compatible, chosen_path
    from explorer.library.store import Library, default_db_path
    from explorer.util.text import printable

    verify_models()  # a missing or damaged model is one error for the whole command, raised before any file
    own, model_name = None, "default"
    if args.db is not None or default_db_path().exists():
        with Library(args.db) as library:
            own = active_model(library)
            if own is not None:
                check_compatible(own)
                model_name = str(chosen_path(library))
    cache = default_cache()
    status = 0
    for path in args.files:
        try:
            # a song analysed before (by analyze, scan or the window) already holds its genre
            hit = cache.lookup_file(check_file(path))
            # otherwise decoded as `analyze` does (mono at the analysis rate), so both answers are the same
            if hit is not None and hit.genre.label:
                genre, embedding = hit.genre, hit.embedding
            else:
                desc = describe(decode(path, sr=SR, mono=True))
                genre, embedding = desc.genre, desc.embedding
            if own is not None and embedding is not None:
                genre = own.genre(embedding)
        except Cancelled:
            raise
        except ExplorerError as e:
            print(f"{PROG}: error: {printable(e.message)}", file=sys.stderr, flush=True)
            status = 2
            continue
        verdict = assess(genre.probabilities, own_model=own)
        print(
            format_line(path, genre.label, verdict.probabilities, as_json=args.json, verdict=verdict, model=model_name),
            flush=True,
        )
    return status
