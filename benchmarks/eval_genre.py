"""How well does genre recognition work on music by artists the model never saw?  Prints the figures.

    .venv/bin/python benchmarks/eval_genre.py [--clips ../shared/corpus/gtzan/clips]
        [--csv ../shared/corpus/gtzan/features/features_30_sec.csv] [--no-baseline]

On the 50 GTZAN dev clips (indices 00000–00004 of each genre; GTZAN is ordered by artist, so they are
mostly by artists absent from the rest of the table):

1. the shipped recipe (explorer/genre/train.py RECIPE), leave-one-out: each clip judged by a model
   trained on the 49 others — accuracy, precision and recall per genre;
2. zero-shot (the networks' genre tags only, nothing trained on the clips) — the accuracy when we
   do not train on them;
3. the "sounds like" embedding: genre precision@5 of cosine nearest neighbours, leave-one-out;
4. the hand-feature baseline: an RBF SVM on the CSV's 57 librosa columns trained on the CSV rows of
   indices ≥ 00010 (never the rows whose audio is scored), tested on the columns computed by
   explorer.genre.features.hand_features from the clips' audio (and, for comparison, on the CSV's own
   rows of those clips);
5. timings: loading the models, describe() on a 4-minute song.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from explorer.audio.buffer import AudioBuffer  # noqa: E402
from explorer.audio.decode import decode  # noqa: E402
from explorer.genre import features, train  # noqa: E402
from explorer.genre.model import GENRES, Models, describe, load_models, models_dir  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "gtzan"


def section(title: str) -> None:
    print(f"\n== {title}")


def hand_feature_baseline(clips, table: Path) -> None:
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    with table.open(newline="") as f:
        rows = list(csv.DictReader(f))
    X, y, dev_rows = [], [], {}
    for r in rows:
        genre, index = r["filename"].split(".")[:2]
        values = [float(r[c]) for c in features.TABLE_COLUMNS]
        if int(index) < 10:
            dev_rows[f"{genre}.{index}"] = values  # never trained on: these clips' audio is scored
        else:
            X.append(values)
            y.append(r["label"])
    model = make_pipeline(StandardScaler(), SVC(C=10, gamma="scale")).fit(np.array(X), y)
    t0 = time.perf_counter()
    computed = []
    for path, _ in clips:
        buffer = decode(path)
        computed.append(features.hand_features(buffer.mono(), sr=buffer.sr))
    seconds = (time.perf_counter() - t0) / len(clips)
    truth = [g for _, g in clips]
    keys = [".".join(p.name.split(".")[:2]) for p, _ in clips]
    print(f"SVM trained on {len(X)} CSV rows (indices 00010–00099), features computed from the clips' audio "
          f"({seconds:.1f} s per clip):")
    print(train.classification_report(truth, model.predict(np.array(computed))))
    if all(k in dev_rows for k in keys):
        same = model.predict(np.array([dev_rows[k] for k in keys]))
        print(f"the same SVM on the CSV's own rows of these clips: accuracy {np.mean(same == np.array(truth)):.3f}")
    r = [np.corrcoef(np.array(computed)[:, i], [dev_rows[k][i] for k in keys])[0, 1]
         for i in range(len(features.TABLE_COLUMNS))] if all(k in dev_rows for k in keys) else []
    if r:
        low = [f"{c} {v:.2f}" for c, v in zip(features.TABLE_COLUMNS, r) if v < 0.9]
        print(f"extractor vs CSV: median r {np.median(r):.3f}; columns with r < .9: {', '.join(low) or 'none'}")


def timing() -> None:
    t0 = time.perf_counter()
    Models(models_dir())
    print(f"loading and verifying the models: {time.perf_counter() - t0:.2f} s (once per process)")
    sr = 44100
    rng = np.random.default_rng(0)
    t = np.arange(240 * sr) / sr
    # a 4-minute stereo "song": a chord progression over noise bursts on the beat
    roots = 110 * 2 ** (np.array([0, 5, 7, 3]) / 12)
    root = roots[(t // 8).astype(int) % 4]
    y = 0.2 * np.sin(2 * np.pi * root * t) + 0.1 * np.sin(2 * np.pi * 1.5 * root * t)
    y += 0.1 * rng.standard_normal(t.size) * (np.mod(t, 0.5) < 0.05)
    buffer = AudioBuffer(np.stack([y, y], axis=1).astype(np.float32), sr)
    runs, cpu = [], []
    for _ in range(3):
        t0, c0 = time.perf_counter(), time.process_time()
        describe(buffer)
        runs.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    print(f"describe() on a 4-minute 44.1 kHz stereo song: median {np.median(runs):.2f} s wall, "
          f"{np.median(cpu):.2f} s CPU (runs: {', '.join(f'{r:.2f}' for r in runs)} s; includes resampling "
          f"and the mel spectrogram; load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=Path, default=CORPUS / "clips")
    parser.add_argument("--csv", type=Path, default=CORPUS / "features" / "features_30_sec.csv")
    parser.add_argument("--no-baseline", action="store_true", help="skip the (slow) hand-feature baseline")
    args = parser.parse_args()
    clips = train.labelled_clips(args.clips)
    if not clips:
        raise SystemExit(f"{args.clips}: no GENRE.NNNNN clips")
    truth = [g for _, g in clips]
    models = load_models()
    print(f"{len(clips)} clips in {args.clips}; recipe {train.RECIPE}")
    t0 = time.perf_counter()
    outputs = train.network_outputs([p for p, _ in clips], models.networks)
    print(f"network outputs: {(time.perf_counter() - t0) / len(clips):.2f} s per clip (decode included)")

    section("1. musicnn embeddings + logistic regression (+ zero-shot blend), leave-one-out")
    P = train.leave_one_out(outputs, truth, models.networks.tag_names, **train.RECIPE)
    print(train.classification_report(truth, [GENRES[i] for i in P.argmax(axis=1)]))
    without = {**train.RECIPE, "zero_shot_weight": 0.0}
    P0 = train.leave_one_out(outputs, truth, models.networks.tag_names, **without)
    print(f"(classifier alone, no zero-shot blend: accuracy {np.mean(np.array(GENRES)[P0.argmax(1)] == truth):.3f})")

    section("2. zero-shot: genre tags only, nothing trained on the clips")
    Z = np.array([models.genre.zero_shot_probabilities(o.mean_tags(), models.networks.tag_names) for o in outputs])
    print(train.classification_report(truth, [GENRES[i] for i in Z.argmax(axis=1)]))

    section("3. 'sounds like' embedding (describe().embedding), genre precision@5, leave-one-out")
    E = np.array([models.genre.embedding(o) for o in outputs])
    print(f"P@5 = {train.precision_at_k(E, truth, k=5):.3f} (embedding statistics of the shipped model)")
    shipped = [GENRES[int(np.argmax(models.genre.probabilities(o, models.networks.tag_names)))] for o in outputs]
    print(f"(the shipped model on its own training clips: accuracy {np.mean(np.array(shipped) == truth):.3f} "
          "— not a test figure)")

    if not args.no_baseline:
        section("4. baseline: hand-made features (the CSV's librosa columns) + SVM")
        hand_feature_baseline(clips, args.csv)

    section("5. timings")
    timing()


if __name__ == "__main__":
    main()
