"""Score the structure analysis against human annotations (the POP909 corpus convention).

Usage::

    python benchmarks/eval_structure.py [FOLDER] [--per-song] [--workers 2] [--limit N] [--split]

FOLDER holds ``NAME.mp3`` (or another audio format) beside ``NAME.json`` in the format of
``shared/corpus/pop909/segments`` (``annotator1``/``annotator2`` with ``sections``, ``phrases``,
``choruses``, ``chorus_reliable``).  Default: ``~/.cache/music-explorer-corpus/pop909``.
``resources/demo`` works too: the demo songs' truth files (pop, rock, reggae, ballad and waltz with
drums and bass, made with the project) are read as one annotator whose phrases are the sections.

Prints, as the mean over songs and over both annotators (mir_eval):
HR.5F and HR3F (``segment.detection``, trim=False), PWF (``segment.pairwise`` with both sides padded to
[0, duration]), chorus frame F1 (0.1 s frames, songs whose ``chorus_reliable`` is true), and repeat
recall / precision as the corpus README defines them.  ``--split`` also prints the two halves of the
corpus apart: ``tune`` (even positions in name order, the songs parameters were tuned on) and
``held-out`` (odd positions).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

AUDIO_EXT = (".mp3", ".flac", ".wav", ".ogg", ".opus", ".m4a")
FRAME = 0.1


def _intervals(items):
    return np.array([[float(x["start"]), float(x["end"])] for x in items], dtype=float).reshape(-1, 2)


def _overlap(a, b):
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def _frames(intervals, duration):
    n = int(np.ceil(duration / FRAME))
    on = np.zeros(n, dtype=bool)
    t = (np.arange(n) + 0.5) * FRAME
    for s, e in intervals:
        on |= (t >= s) & (t < e)
    return on


def score_song(est: dict, ann: dict, duration: float, reliable: bool) -> dict:
    """All figures of one estimated analysis (``Analysis.to_dict()``) against one annotator."""
    import mir_eval

    ref_i = _intervals(ann["sections"])
    ref_l = [x["label"] for x in ann["sections"]]
    est_i = _intervals(est["sections"])
    est_l = [x["label"] for x in est["sections"]]
    out = {}
    for w, key in ((0.5, "HR.5F"), (3.0, "HR3F")):
        out[key] = mir_eval.segment.detection(ref_i, est_i, window=w, trim=False)[2]
    end = max(duration, float(ref_i[-1, 1]), float(est_i[-1, 1]))
    ri, rl = mir_eval.util.adjust_intervals(ref_i, ref_l, t_min=0.0, t_max=end)
    ei, el = mir_eval.util.adjust_intervals(est_i, est_l, t_min=0.0, t_max=end)
    out["PWF"] = mir_eval.segment.pairwise(ri, rl, ei, el, frame_size=FRAME)[2]
    if reliable:
        r = _frames(_intervals(ann["choruses"]), end)
        e = _frames(_intervals(est["choruses"]), end)
        tp = float(np.sum(r & e))
        p = tp / e.sum() if e.sum() else 0.0
        rc = tp / r.sum() if r.sum() else 0.0
        out["chorusF1"] = 2 * p * rc / (p + rc) if p + rc else 0.0
    groups = _groups(est)
    rec = _repeat_recall(ann["sections"], groups)
    if rec is not None:
        out["repeat_recall"] = rec
    prec = _repeat_precision(ann["phrases"], groups)
    if prec is not None:
        out["repeat_precision"] = prec
    return out


def _groups(est: dict) -> list[list[tuple[float, float]]]:
    """Detected groups: sections sharing a label, the choruses, each motif's occurrences."""
    by_label: dict[str, list] = {}
    for s in est["sections"]:
        by_label.setdefault(s["label"], []).append((s["start"], s["end"]))
    groups = [g for g in by_label.values() if len(g) > 1]
    if len(est["choruses"]) > 1:
        groups.append([(c["start"], c["end"]) for c in est["choruses"]])
    groups += [[(o["start"], o["end"]) for o in m["occurrences"]] for m in est["motifs"]]
    return groups


def _repeat_recall(sections, groups):
    secs = [((s["start"], s["end"]), s["label"]) for s in sections]
    pairs = [(a[0], b[0]) for i, a in enumerate(secs) for b in secs[i + 1:]
             if a[1] == b[1] and a[1] not in ("X", "x")]
    if not pairs:
        return None
    hit = 0
    for s1, s2 in pairs:
        found = False
        for g in groups:
            c1 = [k for k, m in enumerate(g) if _overlap(m, s1) >= 0.5 * (s1[1] - s1[0])]
            c2 = [k for k, m in enumerate(g) if _overlap(m, s2) >= 0.5 * (s2[1] - s2[0])]
            if any(a != b for a in c1 for b in c2):
                found = True
                break
        hit += found
    return hit / len(pairs)


def _repeat_precision(phrases, groups):
    melodic = [((p["start"], p["end"]), p["label"]) for p in phrases if p["label"].isupper()]

    def home(m):
        best, k = 0.0, None
        for i, (iv, _) in enumerate(melodic):
            o = _overlap(m, iv)
            if o > best:
                best, k = o, i
        return k if k is not None and best >= 0.5 * (m[1] - m[0]) else None

    good = total = 0
    for g in groups:
        homes = [home(m) for m in g]
        for i in range(len(g)):
            for j in range(i + 1, len(g)):
                if homes[i] is None or homes[j] is None:
                    continue
                total += 1
                li, lj = melodic[homes[i]][1], melodic[homes[j]][1]
                good += homes[i] != homes[j] and li == lj and li != "X"
    return good / total if total else None


def _annotations(ref: dict) -> dict:
    """POP909 annotations as they are; a demo song's truth (``resources/demo/*.json``, one plan
    that is exact by construction) as one annotator whose phrases are its sections."""
    if not str(ref.get("schema", "")).startswith("music-explorer/demo-truth"):
        return ref
    ann = {"sections": ref["sections"], "choruses": ref["choruses"],
           "phrases": [dict(s, label=s["label"]) for s in ref["sections"]]}
    return {"annotator1": ann, "chorus_reliable": len(ref["choruses"]) > 1}


def _work(args):
    audio, ref_path = args
    from explorer.analysis.pipeline import analyze
    from explorer.audio.decode import decode

    ref = _annotations(json.loads(Path(ref_path).read_text()))
    t = time.perf_counter()
    buf = decode(str(audio))
    a = analyze(buf)
    elapsed = time.perf_counter() - t
    est = a.to_dict()
    scores = {}
    for name in ("annotator1", "annotator2"):
        if name not in ref:
            continue
        ann = ref[name]
        reliable = bool(ref.get("chorus_reliable", ann.get("chorus_reliable", False)))
        scores[name] = score_song(est, ann, a.duration, reliable)
    return Path(audio).stem, scores, elapsed, est


KEYS = ("HR.5F", "HR3F", "PWF", "chorusF1", "repeat_recall", "repeat_precision")


def summarise(rows):
    """Mean over songs of the mean over annotators, per figure."""
    out = {}
    for k in KEYS:
        per_song = []
        for _, scores, *_ in rows:
            vals = [s[k] for s in scores.values() if k in s]
            if vals:
                per_song.append(float(np.mean(vals)))
        out[k] = (float(np.mean(per_song)) if per_song else float("nan"), len(per_song))
    return out


def _print_summary(title, rows):
    s = summarise(rows)
    cells = "  ".join(f"{k} {v:.3f} (n={n})" for k, (v, n) in s.items())
    print(f"{title:>9} [{len(rows)} songs]  {cells}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?",
                    default=os.path.expanduser("~/.cache/music-explorer-corpus/pop909"))
    ap.add_argument("--per-song", action="store_true", help="print every song's figures")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="only the first N songs")
    ap.add_argument("--split", action="store_true", help="also print the tune and held-out halves")
    ap.add_argument("--only", choices=("tune", "held-out"), help="score one half only")
    ap.add_argument("--dump", metavar="DIR", help="write every analysis as JSON into DIR")
    args = ap.parse_args(argv)

    folder = Path(args.folder)
    pairs = []
    for ref in sorted(folder.glob("*.json")):
        audio = next((ref.with_suffix(e) for e in AUDIO_EXT if ref.with_suffix(e).exists()), None)
        if audio is not None:
            pairs.append((audio, ref))
    halves = {p[0].stem: ("tune" if i % 2 == 0 else "held-out") for i, p in enumerate(pairs)}
    if args.only:
        pairs = [p for p in pairs if halves[p[0].stem] == args.only]
    if args.limit:
        pairs = pairs[: args.limit]
    if not pairs:
        sys.exit(f"no annotated audio in {folder}")
    t0 = time.perf_counter()
    with mp.get_context("spawn").Pool(args.workers) as pool:
        rows = pool.map(_work, pairs, chunksize=1)
    wall = time.perf_counter() - t0
    if args.dump:
        os.makedirs(args.dump, exist_ok=True)
        for name, _, _, est in rows:
            Path(args.dump, name + ".json").write_text(json.dumps(est))
    if args.per_song:
        for name, scores, el, _ in rows:
            cells = "  ".join(f"{k} " + "/".join(f"{s.get(k, float('nan')):.2f}" for s in scores.values())
                              for k in KEYS)
            print(f"{name} [{halves[name]}] {el:5.1f}s  {cells}")
    _print_summary("all", rows)
    if args.split:
        for h in ("tune", "held-out"):
            sub = [r for r in rows if halves[r[0]] == h]
            if sub:
                _print_summary(h, sub)
    print(f"{len(rows)} songs in {wall:.0f} s wall ({args.workers} workers), "
          f"median {np.median([r[2] for r in rows]):.2f} s per song (decode + analyse)")


if __name__ == "__main__":
    main()
