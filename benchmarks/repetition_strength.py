"""How exactly each domain's songs repeat themselves, as the structure analysis sees it.

Usage::

    python benchmarks/repetition_strength.py [--domains a,b] [--limit 30] [--workers 2]

For every song: the analysis's beat-level recurrence (``structure.recurrence``, the raw kNN affinity)
is averaged along every diagonal over 4 bars (:func:`explorer.analysis.filters.diagonal_mean`), and each
unit keeps its best value at a lag of 4 bars or more: how well the next 4 bars are heard again somewhere
else in the song.  The song's figure is the median over its units; the table prints the median and the
quartiles over songs, and the median of each song's 90th percentile (its clearest repeats).

A rendering of a MIDI file repeats a section note for note, and its figure is near 1; a recording does
not (the singer, the player and the mix vary).  The figure shows which of the evaluation's domains look
like recorded music in this respect: ``render_corpus.py --humanize 2`` was chosen because it brings the
POP909 renders to the real recordings' and the game-soundtrack library's level.  Features come from
``eval_structure.py``'s cache.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import eval_structure as es  # noqa: E402

#: Bars over which two places must match, and the least lag between them (bars).
BARS = 4


def song_strength(audio: str, cache: str | None) -> tuple[float, float]:
    """(median, 90th percentile) over one song's units of the best 4-bar repetition elsewhere."""
    from explorer.analysis import pipeline, structure

    seen: dict = {}
    sections = pipeline._sections

    def spy(R, R_path, nov, sync, unit_down, units_per_bar, *args, **kw):
        best = structure.repeat_strength(R, span=BARS * units_per_bar)
        if best is not None:
            seen["fig"] = (float(np.median(best)), float(np.percentile(best, 90)))
        return sections(R, R_path, nov, sync, unit_down, units_per_bar, *args, **kw)

    pipeline._sections = spy
    try:
        es.analyse_file(audio, Path(cache) if cache else None)
    finally:
        pipeline._sections = sections
    return seen.get("fig", (float("nan"), float("nan")))


def domain_files(name: str, limit: int = 0) -> list[Path]:
    """The audio files of a domain: an ``eval_structure.DOMAINS`` name, ``real`` or ``debian-music``."""
    if name == "real":
        files = sorted(p for p in es.REAL.glob("*") if p.suffix in es.AUDIO_EXT)
    elif name == "debian-music":
        files = sorted(p for p in es.LIBRARY.glob("*/*") if p.suffix in es.AUDIO_EXT)
    else:
        files = [a for a, _ in es._pairs(es.DOMAINS[name])]
    return files[:limit] if limit else files


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--domains", help="comma-separated names of eval_structure.DOMAINS, real, debian-music")
    ap.add_argument("--limit", type=int, default=30, help="songs per domain (0: all)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--cache", default=str(es.CORPUS / "features"))
    args = ap.parse_args(argv)
    names = args.domains.split(",") if args.domains else [*es.DOMAINS, "real", "debian-music"]
    print(f"{'domain':<18} {'songs':>5}  {'median':>6}  {'quartiles':>11}  {'90th pct':>8}")
    with mp.get_context("spawn").Pool(args.workers) as pool:
        for name in names:
            if name in es.DOMAINS and not es.DOMAINS[name].is_dir():
                continue
            files = domain_files(name, args.limit)
            if not files:
                continue
            figs = np.array(pool.starmap(song_strength, [(str(f), args.cache) for f in files]))
            med, p90 = figs[:, 0], figs[:, 1]
            q1, q3 = np.nanpercentile(med, [25, 75])
            print(
                f"{name:<18} {len(files):>5}  {np.nanmedian(med):6.2f}  {q1:5.2f}-{q3:<5.2f}  {np.nanmedian(p90):8.2f}"
            )


if __name__ == "__main__":
    main()
