"""How clearly the shipped taggers hear a voice in each song: a study of sung against played renders.

Usage::

    python benchmarks/vocal_scores.py --domains tune-band-human,tune-sung-human,real --out voices.json

A song's vocal score is ``explorer.genre.model.vocal_score``: the mean of the MagnaTagATune network's vocal
tags minus the mean of its no-vocal tags, both averaged over the song's patches as the genre stage computes
them; the structure stage compares longer stretches in a sung song that repeats loosely
(``pipeline.VOICE_REPEAT``).  The table prints each domain's percentiles; ``--out`` writes
``{"FOLDER/STEM": score}`` for ``eval_structure_variants.py``'s ``voice_map``.  Domains are
``eval_structure.DOMAINS`` names, ``real`` or ``debian-music`` (``repetition_strength.domain_files``).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import eval_structure as es  # noqa: E402
from repetition_strength import domain_files  # noqa: E402


def vocal_score(audio: str) -> float:
    """The vocal score of one file, as the product computes it (kept beside the cached features)."""
    return es.vocal_score(audio, es.CORPUS / "features")


def map_key(audio: str | Path) -> str:
    """The key of a file in the ``--out`` map: its folder's name and its stem."""
    return f"{Path(audio).parent.name}/{Path(audio).stem}"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--domains", required=True, help="eval_structure.DOMAINS names, real, debian-music")
    ap.add_argument("--out", help="write {FOLDER/STEM: score} here")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    names = args.domains.split(",")
    files = {name: domain_files(name) for name in names}
    every = [str(f) for name in names for f in files[name]]
    with mp.Pool(args.workers) as pool:
        scores = dict(zip(every, pool.map(vocal_score, every, chunksize=4)))
    print(f"{'domain':18s} songs   min   10 %   25 %  median  75 %   90 %   max")
    for name in names:
        v = np.array([scores[str(f)] for f in files[name]])
        q = np.percentile(v, [0, 10, 25, 50, 75, 90, 100]) if v.size else np.full(7, np.nan)
        print(f"{name:18s} {v.size:5d}  " + "  ".join(f"{x:+.3f}" for x in q))
    if args.out:
        out = {map_key(f): s for f, s in scores.items()}
        Path(args.out).write_text(json.dumps(out, indent=0))


if __name__ == "__main__":
    main()
