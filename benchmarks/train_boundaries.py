"""Train the boundary network (:mod:`explorer.analysis.boundaries`) on rendered training songs.

Usage::

    python benchmarks/train_boundaries.py [--train model-band,model-piano] \\
        [--test train-piano,train-band,train-band-b] [--hidden 32] [--seeds 1] [--write]

Runs the analysis on every annotated song of the ``--train`` domains (folders of
``benchmarks/eval_structure.py``'s corpus cache, rendered by ``benchmarks/render_corpus.py`` from
songs of ``pop909-train`` that the ``--test`` domains do not hold), records the inputs of the
network at every position between structure units and whether an annotated section starts there
(the position nearest each section start of either annotator, the song's first section left out),
and fits a small multilayer perceptron (scikit-learn) on them.  It prints the average precision of
the network and of the hand-made boundary strength (what ``structure.segment`` receives today) on
every ``--test`` domain, songs the network never saw.  The dev songs are refused.

The shipped network was trained on four renderings of training songs that no ``--test`` domain
holds (positions 3 mod 6 of ``pop909-train``; ``T`` is ``../shared/corpus/pop909-train``, ``C``
``~/.cache/music-explorer-corpus``)::

    python benchmarks/render_corpus.py T C/model-band --every 6 --offset 3 --seed 2 --limit 60
    python benchmarks/render_corpus.py T C/model-piano --style piano --every 12 --offset 9 --seed 2 --limit 30
    python benchmarks/render_corpus.py T C/model-band2 --every 6 --offset 363 --seed 3 --limit 60
    python benchmarks/render_corpus.py T C/model-piano2 --style piano --every 12 --offset 369 --seed 3 --limit 30
    python benchmarks/train_boundaries.py --train model-band,model-piano,model-band2,model-piano2 \\
        --hidden 64 --alpha 1.0 --write

``--write`` stores the network as ``resources/models/boundaries.npz`` (plain arrays: ``mean``,
``scale``, ``W0``, ``b0``, ``W1``, ``b1``; no pickle) and its SHA-256 in
``resources/models/manifest.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing as mp
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import benchmarks.eval_structure as ev  # noqa: E402

MODELS = Path(__file__).resolve().parents[1] / "resources" / "models"
#: Collected inputs, per version of the code that makes them and per domain (a rerun only fits); each
#: song's file is also keyed by its audio file and the feature code (a song rendered again is collected again).
INPUTS = ev.CORPUS / "boundary-inputs"


def _code_key() -> str:
    from explorer.analysis import beats, beatsync, boundaries, metre, pipeline, structure

    h = hashlib.sha1()
    for mod in (beats, beatsync, boundaries, metre, pipeline, structure):
        h.update(Path(mod.__file__).read_bytes())
    return h.hexdigest()[:12]


def collect(args):
    """Network inputs, targets and the hand-made strength at every position of one song."""
    from explorer.analysis import beatsync, pipeline

    audio, ref_path, cache = args
    seen: dict = {}
    orig_sync, orig_learned, orig_segment = beatsync.beat_sync, pipeline._learned_strength, pipeline.structure.segment

    def sync_spy(feats, unit_frames):
        seen["frames"] = np.asarray(unit_frames)
        seen["fps"] = feats.sr / feats.hop_length
        return orig_sync(feats, unit_frames)

    def learned_spy(R, R_path, sync, unit_down, units_per_bar, onsets=None):
        seen["F"] = pipeline._learned_inputs(R, R_path, sync, unit_down, units_per_bar, onsets)
        return None

    def segment_spy(nov, downbeat, **kw):
        seen.setdefault("nov", np.asarray(nov, dtype=float))
        seen.setdefault("t0", float(np.asarray(kw["times"])[0]))
        return orig_segment(nov, downbeat, **kw)

    pipeline.beatsync.beat_sync = sync_spy
    pipeline._learned_strength = learned_spy
    pipeline.structure.segment = segment_spy
    try:
        est, _ = ev.analyse_file(audio, cache)
    finally:
        pipeline.beatsync.beat_sync = orig_sync
        pipeline._learned_strength = orig_learned
        pipeline.structure.segment = orig_segment
    if "F" not in seen:
        return None
    F = seen["F"]
    n = F.shape[0] - 1
    edges = np.concatenate([seen["frames"] / seen["fps"], [float(est["duration"])]])
    edges[0] = 0.0
    y = np.zeros(n + 1)
    ref = ev._annotations(json.loads(Path(ref_path).read_text()))
    for name in ("annotator1", "annotator2"):
        if name not in ref:
            continue
        for s in ev._valid(ref[name])["sections"][1:]:
            t = float(s["start"])
            if edges[1] < t < edges[-1]:
                y[int(np.argmin(np.abs(edges - t)))] = 1.0
    # the hand-made strength covers the sounding stretch only (silent head and tail cut off)
    nov = np.zeros(n + 1)
    if "nov" in seen:
        m = len(seen["nov"])
        start = int(np.argmin(np.abs(edges - seen["t0"])))
        nov[start : start + m] = seen["nov"][: n + 1 - start]
    return {"F": F, "y": y, "nov": nov, "t": edges, "song": audio.stem}


def gather(domains: list[str], pool, cache) -> list[dict]:
    out = []
    for name in domains:
        if name.startswith("dev"):
            sys.exit("the dev songs are for validation only")
        folder = ev.DOMAINS.get(name, ev.CORPUS / name)
        pairs = ev._pairs(folder)
        if not pairs:
            sys.exit(f"{name}: no annotated audio in {folder}")
        t = time.perf_counter()
        store = INPUTS / _code_key() / name
        songs = []
        todo = []
        file_of = {a.stem: store / f"{a.stem}-{ev.features_key(a)[:12]}.npz" for a, _ in pairs}
        for a, r in pairs:
            path = file_of[a.stem]
            if path.exists():
                with np.load(path, allow_pickle=False) as z:
                    songs.append({k: z[k] for k in z.files} | {"song": a.stem})
            else:
                todo.append((a, r, cache))
        for s in pool.map(collect, todo, chunksize=1):
            if s:
                store.mkdir(parents=True, exist_ok=True)
                np.savez(file_of[s["song"]], F=s["F"], y=s["y"], nov=s["nov"], t=s["t"])
                songs.append(s)
        for s in songs:
            s["domain"] = name
        print(
            f"{name}: {len(songs)} songs, {sum(len(s['y']) for s in songs)} positions "
            f"({time.perf_counter() - t:.0f} s)",
            flush=True,
        )
        out.extend(songs)
    return out


def to_arrays(model) -> dict[str, np.ndarray]:
    scaler, mlp = model
    arrays = {"mean": scaler.mean_.astype(np.float64), "scale": scaler.scale_.astype(np.float64)}
    for k, (W, b) in enumerate(zip(mlp.coefs_, mlp.intercepts_)):
        arrays[f"W{k}"] = W.astype(np.float64)
        arrays[f"b{k}"] = b.astype(np.float64)
    return arrays


def ensemble(members: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """One network's arrays as they are; several (same standardisation) with their layers prefixed m0_, m1_, …"""
    if len(members) == 1:
        return members[0]
    out = {"mean": members[0]["mean"], "scale": members[0]["scale"]}
    for i, m in enumerate(members):
        out.update({f"m{i}_{k}": v for k, v in m.items() if k not in ("mean", "scale")})
    return out


def fit(songs: list[dict], *, hidden: int, alpha: float, seed: int = 0):
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import StandardScaler

    X = np.vstack([s["F"] for s in songs])
    y = np.concatenate([s["y"] for s in songs])
    scaler = StandardScaler().fit(X)
    scaler.scale_[scaler.scale_ < 1e-6] = 1.0
    mlp = MLPClassifier(
        hidden_layer_sizes=(hidden,),
        alpha=alpha,
        max_iter=300,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=15,
        random_state=seed,
    )
    mlp.fit(scaler.transform(X), y)
    return scaler, mlp


def average_precision(songs: list[dict], score) -> float:
    from sklearn.metrics import average_precision_score

    return float(np.mean([average_precision_score(s["y"], score(s)) for s in songs if s["y"].any()]))


def main(argv=None) -> None:
    from explorer.analysis import boundaries

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", default="model-band,model-piano")
    ap.add_argument("--test", default="train-piano,train-band,train-band-b")
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--alpha", type=float, default=1e-3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--cache", default=str(ev.CORPUS / "features"))
    ap.add_argument("--seeds", type=int, default=1, help="train this many networks (seeds 0 …) and average them")
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--out", help="also save the network's arrays to this .npz (to score it as a variant)")
    args = ap.parse_args(argv)
    cache = Path(args.cache) if args.cache else None
    with mp.get_context("spawn").Pool(args.workers) as pool:
        train = gather(args.train.split(","), pool, cache)
        test = gather([d for d in args.test.split(",") if d], pool, cache)
    members = [to_arrays(fit(train, hidden=args.hidden, alpha=args.alpha, seed=seed)) for seed in range(args.seeds)]
    arrays = ensemble(members)
    inputs = members[0]["W0"].shape[0]
    print(f"network: {inputs} inputs, {args.hidden} hidden, alpha {args.alpha}, {args.seeds} seed(s)")
    print(f"{'domain':<14} {'songs':>5}  AP hand-made  AP network")
    for name in dict.fromkeys(s["domain"] for s in train + test):
        group = [s for s in train + test if s["domain"] == name]
        hand = average_precision(group, lambda s: s["nov"])
        net = average_precision(group, lambda s: boundaries.probability(s["F"], arrays))
        tag = " (training)" if name in args.train.split(",") else ""
        print(f"{name:<14} {len(group):>5}  {hand:>11.3f}  {net:>10.3f}{tag}")
    if args.out:
        np.savez(args.out, **arrays)
    if args.write:
        path = MODELS / "boundaries.npz"
        np.savez(path, **arrays)
        manifest_path = MODELS / "manifest.json"
        manifest = json.loads(manifest_path.read_text())
        manifest["files"]["boundaries.npz"] = {
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "trained_on": (
                f"{args.train} (benchmarks/train_boundaries.py, hidden {args.hidden}, alpha {args.alpha}, "
                f"seeds {args.seeds})"
            ),
        }
        manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
