"""Where the structure's boundaries and chorus starts land against the annotations, in bars.

Usage::

    python benchmarks/diag_boundaries.py [--domains train-piano,train-band,train-band-b] [--workers 2]

For every domain (``benchmarks/eval_structure.py``'s ``DOMAINS``; the dev songs are refused, they are
for validation only) it prints, over the songs and both annotators:

- boundary recall and precision within 0.5 s and 3 s of the sections' boundaries, and within 3 s of the
  *candidate* boundaries (the segments the sections were merged from, the last cut
  ``pipeline._sections`` made): what labelling can at best recover and what it discards;
- the signed offset, in bars, of the nearest section boundary to every annotated section start (within
  8 s): a systematic early or late placement shows as an asymmetric histogram;
- for the annotated choruses (songs whose ``chorus_reliable`` is true), how many no detected chorus
  overlaps, and the offsets in bars of the start and end of the detected chorus that overlaps each most.

The first annotated section start (0 s) and the song's own start are left out.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import benchmarks.eval_structure as ev  # noqa: E402

ev.DOMAINS.setdefault("train-band-b", ev.CORPUS / "train-band-b")
#: Histogram bins of the offsets, in bars.
BINS = np.arange(-8.75, 9.0, 0.5)


def song(args) -> dict:
    """The section and candidate boundaries (s), the bar (s), and per annotator the annotated section
    starts (s) and the detected choruses' offsets (bars) of one song."""
    from explorer.analysis import pipeline

    audio, ref_path, cache = args
    cut = []  # the boundary times of every cut the sections stage tries, coarse to fine
    segment = pipeline.structure.segment

    def record(nov, downbeat, **kw):
        bounds = segment(nov, downbeat, **kw)
        cut.append(np.asarray(kw["times"])[bounds])
        return bounds

    pipeline.structure.segment = record
    try:
        est, _ = ev.analyse_file(audio, cache)
    finally:
        pipeline.structure.segment = segment
    downbeats = np.asarray(est["downbeats"])
    bar = float(np.median(np.diff(downbeats))) if downbeats.size > 2 else 2.0
    ref = ev._annotations(json.loads(Path(ref_path).read_text()))
    out = {
        "bar": bar,
        "est": [float(s["start"]) for s in est["sections"]][1:],
        "cand": [float(t) for t in cut[-1][1:-1]] if cut else [],
        "ann": [],
    }
    for name in ("annotator1", "annotator2"):
        if name not in ref:
            continue
        ann = ev._valid(ref[name])
        reliable = bool(ref.get("chorus_reliable", ann.get("chorus_reliable", False)))
        chorus = []
        if reliable:
            for c in ann["choruses"]:
                r0, r1 = float(c["start"]), float(c["end"])
                over = [(min(r1, e["end"]) - max(r0, e["start"]), e) for e in est["choruses"]]
                over = [x for x in over if x[0] > 0]
                if not over:
                    chorus.append(None)
                    continue
                e = max(over, key=lambda x: x[0])[1]
                chorus.append(((e["start"] - r0) / bar, (e["end"] - r1) / bar))
        out["ann"].append({"ref": [float(s["start"]) for s in ann["sections"]][1:], "chorus": chorus})
    return out


def _recall_precision(ref: list[float], est: list[float], window: float) -> tuple[float, float]:
    if not ref or not est:
        return 0.0, 0.0
    r, e = np.asarray(ref), np.asarray(est)
    recall = float(np.mean([np.min(np.abs(e - x)) <= window for x in r]))
    precision = float(np.mean([np.min(np.abs(r - x)) <= window for x in e]))
    return recall, precision


def _histogram(values) -> str:
    counts, edges = np.histogram(np.clip(values, -8.5, 8.5), bins=BINS)
    return " ".join(f"{x + 0.25:+.1f}:{c}" for x, c in zip(edges[:-1], counts) if c) or "-"


def report(name: str, songs: list[dict]) -> None:
    rows = {"final .5 s": [], "final 3 s": [], "candidates 3 s": []}
    offsets, starts, ends, missed, total = [], [], [], 0, 0
    for s in songs:
        for a in s["ann"]:
            rows["final .5 s"].append(_recall_precision(a["ref"], s["est"], 0.5))
            rows["final 3 s"].append(_recall_precision(a["ref"], s["est"], 3.0))
            rows["candidates 3 s"].append(_recall_precision(a["ref"], s["cand"], 3.0))
            if s["est"]:
                e = np.asarray(s["est"])
                for r in a["ref"]:
                    d = e - r
                    j = int(np.argmin(np.abs(d)))
                    if abs(d[j]) <= 8.0:
                        offsets.append(d[j] / s["bar"])
            for c in a["chorus"]:
                total += 1
                if c is None:
                    missed += 1
                else:
                    starts.append(c[0])
                    ends.append(c[1])
    n_est = np.mean([len(s["est"]) for s in songs])
    n_cand = np.mean([len(s["cand"]) for s in songs])
    n_ref = np.mean([len(a["ref"]) for s in songs for a in s["ann"]])
    print(
        f"== {name} ({len(songs)} songs): boundaries per song: annotated {n_ref:.1f}, sections {n_est:.1f}, "
        f"candidates {n_cand:.1f}"
    )
    for label, vals in rows.items():
        r, p = np.mean(vals, axis=0)
        print(f"  {label:<15} recall {r:.2f}  precision {p:.2f}")
    print(f"  nearest section boundary to each annotated start, bars (within 8 s): {_histogram(offsets)}")
    print(f"  annotated choruses {total}, no detected chorus overlapping {missed}")
    print(f"  chorus start offset, bars: {_histogram(starts)}")
    print(f"  chorus end offset, bars:   {_histogram(ends)}")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--domains", default="train-piano,train-band,train-band-b")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--cache", default=str(ev.CORPUS / "features"))
    args = ap.parse_args(argv)
    cache = Path(args.cache) if args.cache else None
    with mp.get_context("spawn").Pool(args.workers) as pool:
        for name in args.domains.split(","):
            if name.startswith("dev"):
                sys.exit("the dev songs are for validation only")
            folder = ev.DOMAINS.get(name, ev.CORPUS / name)
            pairs = ev._pairs(folder)
            if not pairs:
                print(f"== {name}: no annotated audio in {folder}")
                continue
            report(name, pool.map(song, [(a, r, cache) for a, r in pairs], chunksize=1))


if __name__ == "__main__":
    main()
