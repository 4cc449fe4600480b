"""Train the chorus scorer: logistic regression on section-group features, from rendered training songs.

Usage::

    python benchmarks/train_chorus.py [--domains train-piano,train-band] [--write]
    python benchmarks/train_chorus.py --domains model-band3,model-produced --model NET.npz --out S.json

Runs the analysis on every annotated song of the domains (``benchmarks/eval_structure.py``'s
``DOMAINS``; never the dev songs), records the repeated labels it had to choose the chorus from
(:func:`explorer.analysis.chorus.label_features`) and which of them is the reference chorus (the
label whose sections overlap the annotated choruses best, F1 over 0.1 s frames averaged over both
annotators, on songs with a reliable chorus), fits a logistic regression on standardised
features and prints, by five-fold cross-validation over songs, how often the best-scoring label is
the right one, beside the hand-set weights.  ``--write`` stores the model as
``resources/models/chorus_scorer.json`` (plain JSON: features, mean, scale, coef, intercept) and
its SHA-256 in ``resources/models/manifest.json``.  ``--model`` analyses with another boundary network
(an ``.npz`` of ``train_boundaries.py``) instead of the shipped one, so that a scorer can be fitted to
that network's sections; ``--out`` writes the scorer to another file, for
``eval_structure_variants.py``'s ``chorus`` key, and leaves the shipped files alone.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing as mp
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import benchmarks.eval_structure as ev  # noqa: E402
from explorer.analysis import chorus as chorus_mod  # noqa: E402

MODELS = Path(__file__).resolve().parents[1] / "resources" / "models"


def _frames(iv, end):
    return ev._frames(np.asarray(iv, dtype=float).reshape(-1, 2), end)


def collect(args):
    """Label features of one song and the index of the reference chorus among them (or None)."""
    audio, ref_path, cache = args
    seen = []
    orig = chorus_mod.pick_chorus

    def spy(labels, durations, loudness, **kw):
        seen.append((list(labels), np.asarray(durations, float), np.asarray(loudness, float), kw))
        return orig(labels, durations, loudness, **kw)

    chorus_mod.pick_chorus = spy
    try:
        ev.analyse_file(audio, cache)
    finally:
        chorus_mod.pick_chorus = orig
    ref = ev._annotations(json.loads(Path(ref_path).read_text()))
    if not seen or not ref.get("chorus_reliable"):
        return None
    labels, durs, loud, kw = seen[0]
    feats = chorus_mod.label_features(labels, durs, loud, **kw)
    if len(feats) < 2:
        return None
    ends = np.cumsum(durs)
    starts = ends - durs
    end = float(ends[-1])
    f1 = {}
    for lab in feats:
        est = _frames([(starts[i], ends[i]) for i, x in enumerate(labels) if x == lab], end)
        vals = []
        for name in ("annotator1", "annotator2"):
            if name in ref:
                r = _frames([(c["start"], c["end"]) for c in ref[name]["choruses"]], end)
                tp = float(np.sum(r & est))
                p, rc = tp / max(est.sum(), 1), tp / max(r.sum(), 1)
                vals.append(2 * p * rc / (p + rc) if p + rc else 0.0)
        f1[lab] = float(np.mean(vals))
    best = max(f1, key=f1.get)
    if f1[best] < 0.3:
        return None
    labs = sorted(feats)
    return Path(audio).stem, np.stack([feats[x] for x in labs]), labs.index(best), [f1[x] for x in labs]


def _top1(X_songs, y_songs, w, b):
    return float(np.mean([int(np.argmax(X @ w + b) == y) for X, y in zip(X_songs, y_songs)]))


def _regret(X_songs, f1_songs, w, b):
    """Mean chorus F1 (of the label picked) over songs."""
    return float(np.mean([f[int(np.argmax(X @ w + b))] for X, f in zip(X_songs, f1_songs)]))


def fit(X_songs, y_songs, C=1.0):
    from sklearn.linear_model import LogisticRegression

    X = np.vstack(X_songs)
    y = np.concatenate([np.eye(len(Xs))[yy] for Xs, yy in zip(X_songs, y_songs)])
    mean, scale = X.mean(axis=0), X.std(axis=0) + 1e-9
    lr = LogisticRegression(C=C, class_weight="balanced", max_iter=2000).fit((X - mean) / scale, y)
    coef = lr.coef_[0]
    return mean, scale, coef, float(lr.intercept_[0])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--domains", default="train-piano,train-band")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--C", type=float, default=0.3)
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--model", help="boundary network (.npz) to analyse with (default: the shipped one)")
    ap.add_argument("--out", help="write the scorer to this JSON file instead of resources/models")
    args = ap.parse_args(argv)
    cache = ev.CORPUS / "features"
    work = []
    for d in args.domains.split(","):
        if d.startswith("dev"):
            sys.exit("the dev songs are for validation only")
        work += [(a, r, cache) for a, r in ev._pairs(ev.DOMAINS.get(d, ev.CORPUS / d))]
    with mp.get_context("spawn").Pool(args.workers, ev.use_boundary_network, (args.model,)) as pool:
        rows = [r for r in pool.map(collect, work, chunksize=1) if r is not None]
    names = [r[0] for r in rows]
    Xs, ys, fs = [r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows]
    hand = (np.array([chorus_mod.HAND_WEIGHTS[f] for f in chorus_mod.FEATURES]), 0.0)
    print(f"{len(rows)} songs with a reliable chorus and >= 2 repeated labels (of {len(work)})")
    print(f"hand weights: top-1 {_top1(Xs, ys, *hand):.3f}, chorus F1 of the pick {_regret(Xs, fs, *hand):.3f}")
    # five-fold cross-validation over songs (a song's two renderings stay in one fold)
    ids = sorted({n for n in names})
    fold_of = {n: i % 5 for i, n in enumerate(ids)}
    top, reg = [], []
    for k in range(5):
        tr = [i for i, n in enumerate(names) if fold_of[n] != k]
        te = [i for i, n in enumerate(names) if fold_of[n] == k]
        if not te or not tr:
            continue
        mean, scale, coef, b = fit([Xs[i] for i in tr], [ys[i] for i in tr], C=args.C)
        w = coef / scale
        b = b - float(np.dot(w, mean))
        top += [int(np.argmax(Xs[i] @ w + b) == ys[i]) for i in te]
        reg += [fs[i][int(np.argmax(Xs[i] @ w + b))] for i in te]
    print(
        f"logistic regression (C={args.C}), 5-fold CV: top-1 {np.mean(top):.3f}, "
        f"chorus F1 of the pick {np.mean(reg):.3f}"
    )
    mean, scale, coef, b = fit(Xs, ys, C=args.C)
    print("weights (standardised):", {f: round(float(c), 3) for f, c in zip(chorus_mod.FEATURES, coef)})
    if args.write or args.out:
        model = {
            "schema": "music-explorer/chorus-scorer/1",
            "features": list(chorus_mod.FEATURES),
            "mean": mean.round(6).tolist(),
            "scale": scale.round(6).tolist(),
            "coef": coef.round(6).tolist(),
            "intercept": round(b, 6),
            "C": args.C,
            "trained_on": f"{len(rows)} songs of {args.domains}",
            "cv_top1": round(float(np.mean(top)), 3),
        }
        if args.model:
            model["boundary_network"] = hashlib.sha256(Path(args.model).read_bytes()).hexdigest()
        if args.out:
            Path(args.out).write_text(json.dumps(model, indent=1) + "\n")
            print(f"written {args.out}")
            return
        path = MODELS / "chorus_scorer.json"
        path.write_text(json.dumps(model, indent=1) + "\n")
        man_path = MODELS / "manifest.json"
        man = json.loads(man_path.read_text())
        man["files"]["chorus_scorer.json"] = {
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "trained_on": model["trained_on"],
            "made_by": "benchmarks/train_chorus.py",
        }
        man_path.write_text(json.dumps(man, indent=1) + "\n")
        print(f"written {path} and its manifest entry")


if __name__ == "__main__":
    main()
