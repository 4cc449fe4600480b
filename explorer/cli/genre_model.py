"""``music-explorer genre train`` and ``genre use``: a genre model trained on the library's own tags.

``train [--db PATH] [--out MODEL] [--json] [--no-use]`` trains on the library's tagged, analysed songs,
prints the cross-validated report (accuracy, per-genre precision/recall/F1, the confusion matrix;
``--json``: the report as one JSON object), saves the model (``.npz``, no pickle) and the report
(``MODEL.report.json``) and, unless ``--no-use``, makes the library use it.  Too few songs, genres
or artists: one line naming the rule, exit status 2.

``use MODEL|default [--db PATH]`` switches the model the library uses and relabels its songs.
"""

from __future__ import annotations

import json
import sys

PROG = "music-explorer"


def add_commands(sub) -> None:
    from explorer.genre.own import RULE

    p = sub.add_parser(
        "train",
        help="train a genre model on the library's tagged songs and evaluate it",
        description="Train a genre model on the library's analysed songs that carry a genre tag, "
        "evaluate it with cross-validation that keeps artists apart, save it and the "
        f"report, and use it for the library. It needs {RULE}.",
    )
    p.add_argument("--db", metavar="PATH", default=None, help="the library database (default: the user's)")
    p.add_argument(
        "--out",
        "-o",
        metavar="MODEL",
        default=None,
        help="where to save the model (default: genre-model.npz beside the library database)",
    )
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.add_argument("--no-use", action="store_true", help="save the model without making the library use it")
    p.set_defaults(func=cmd_train)
    p = sub.add_parser(
        "use",
        help="switch the genre model the library uses (MODEL file or 'default')",
        description="Make the library name genres with MODEL (a file saved by 'genre train') or "
        "with the shipped model ('default'), and relabel its songs.",
    )
    p.add_argument("model", metavar="MODEL|default")
    p.add_argument("--db", metavar="PATH", default=None, help="the library database (default: the user's)")
    p.set_defaults(func=cmd_use)


def _progress(fraction: float, stage: str) -> None:
    if sys.stderr.isatty():
        print(f"\r{PROG}: training: {stage:<40}", end="" if fraction < 1 else "\n", file=sys.stderr, flush=True)


def cmd_train(args) -> int:
    from pathlib import Path

    from explorer.cli.library import _open
    from explorer.genre.own import report_path
    from explorer.library.genre_model import default_model_path, train, use
    from explorer.util.fs import check_target
    from explorer.util.text import printable

    with _open(args) as library:
        out = Path(args.out) if args.out else default_model_path(library)
        check_target(out, overwrite=True)
        model, report = train(library, progress=_progress)
        model.save(out, report)
        relabelled = None if args.no_use else use(library, out)
    if args.json:
        doc = report.to_dict()
        doc.update(model=str(out), report=str(report_path(out)), used=not args.no_use)
        print(json.dumps(doc, ensure_ascii=False))
        return 0
    print(report.text())
    print(f"model saved to {printable(str(out))}; report to {printable(str(report_path(out)))}")
    if relabelled is not None:
        print(f"the library now uses it ({relabelled} songs relabelled; back: {PROG} genre use default)")
    return 0


def cmd_use(args) -> int:
    from explorer.cli.library import _open
    from explorer.library.genre_model import use
    from explorer.util.text import printable

    with _open(args) as library:
        path = None if args.model == "default" else args.model
        n = use(library, path)
    name = "the shipped genre model" if path is None else printable(path)
    print(f"the library now uses {name} ({n} songs relabelled)")
    return 0
