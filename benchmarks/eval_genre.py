"""How well does genre recognition work on music by artists the model never saw?  Prints the figures.

    .venv/bin/python benchmarks/eval_genre.py [--clips ../shared/corpus/gtzan/clips]
        [--csv ../shared/corpus/gtzan/features/features_30_sec.csv] [--no-baseline]
        [--artists ARTISTS.csv] [--write-calibration]

On the 50 GTZAN dev clips (indices 00000–00004 of each genre; GTZAN is ordered by artist, so they are
mostly by artists absent from the rest of the table):

1. the shipped recipe (explorer/genre/train.py RECIPE), leave-one-out: each clip judged by a model
   trained on the 49 others — accuracy, precision and recall per genre;
1b. the same recipe with artists kept apart: 5-fold ``StratifiedGroupKFold`` over groups of clips that
   share an artist.  The clips carry no artist names; ``--artists`` reads a CSV (``clip,artist``),
   otherwise the groups are presumed from the sound (:func:`explorer.genre.train.likely_same_artist`:
   two clips of one genre more alike than any two clips of different genres) and listed, so the
   reader sees which clips are taken to share an artist.  Its out-of-fold probabilities fit the
   shipped model's calibration (a temperature, and the confidence below which a song is
   "uncertain"), written into resources/models/manifest.json by ``--write-calibration``;
2. zero-shot (the networks' genre tags only, nothing trained on the clips) — the accuracy when we
   do not train on them;
3. the "sounds like" embedding: genre precision@5 of cosine nearest neighbours, leave-one-out;
4. the hand-feature baseline: an RBF SVM on the CSV's 57 librosa columns trained on the CSV rows of
   indices ≥ 00010 (never the rows whose audio is scored), tested on the columns computed by
   explorer.genre.features.hand_features from the clips' audio (and, for comparison, on the CSV's own
   rows of those clips);
5. timings: loading the models, describe() on a 4-minute song;
6. with ``--sweep W,W,…``: the recipe at each zero-shot weight — leave-one-out and grouped accuracy (mean of
   10 shuffles of the folds), grouped log-loss, and, when ``--library`` holds the game-soundtrack tracks of
   ``shared/corpus/debian-music/fetch.sh``, how many of each package's tracks the model fitted on all the clips
   names by the package's genre (Wesnoth classical, Singularity and Warzone 2100 electronic).  The shipped
   weight was chosen on these figures.
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
from explorer.genre.model import Models, describe, load_models, models_dir  # noqa: E402
from explorer.genre.train import VOCABULARY as GENRES  # noqa: E402 - the ten and the members of their families

CORPUS = ROOT.parent / "shared" / "corpus" / "gtzan"
#: Game-soundtrack tracks of Debian's packages (``shared/corpus/debian-music/fetch.sh``).
LIBRARY = Path.home() / ".cache" / "music-explorer-corpus" / "debian-music"
#: The genre each package's tracks are (the packages' descriptions); ASC's mixed tracks are left out.
PACKAGE_GENRES = {
    "wesnoth-1.16-music": "classical",
    "singularity-music": "electronic",
    "warzone2100-music": "electronic",
}


def artist_groups(clips, embeddings, table: Path | None) -> tuple[list, str]:
    """Group of each clip, and a line saying where the groups come from."""
    names = [p.name.split(".")[0] + "." + p.name.split(".")[1] for p, _ in clips]
    if table is not None:
        with table.open(newline="") as f:
            artist = {row[0].strip(): row[1].strip() for row in csv.reader(f) if len(row) >= 2}
        missing = [n for n in names if n not in artist]
        if missing:
            raise SystemExit(f"{table}: no artist for {', '.join(missing[:5])}")
        return [artist[n] for n in names], f"artists from {table}"
    groups, threshold = train.likely_same_artist(embeddings, [g for _, g in clips])
    shared = {}
    for n, g in zip(names, groups):
        shared.setdefault(g, []).append(n)
    lines = [" ".join(v) for v in shared.values() if len(v) > 1]
    note = (
        f"no artist names: clips presumed to share an artist (same genre, cosine similarity above "
        f"{threshold:.2f}, the most any two clips of different genres reach): {len(shared)} groups\n  "
        + "\n  ".join(lines)
    )
    return groups, note


def cached_outputs(clips, networks, cache: Path | None):
    """Network outputs of the clips, read from / written to ``cache`` (an npz keyed by the model version)."""
    from explorer.genre.model import MODEL_VERSION, NETWORKS, NetworkOutputs

    names = [p.name for p, _ in clips]
    if cache is not None and cache.exists():
        with np.load(cache, allow_pickle=False) as z:
            if str(z["version"]) == MODEL_VERSION and list(z["names"]) == names:
                return [
                    NetworkOutputs(
                        {n: z[f"{i}_tags_{n}"] for n in NETWORKS},
                        {n: z[f"{i}_emb_{n}"] for n in NETWORKS},
                        z[f"{i}_window"],
                    )
                    for i in range(len(names))
                ]
    outputs = train.network_outputs([p for p, _ in clips], networks)
    if cache is not None:
        arrays = {}
        for i, o in enumerate(outputs):
            for n in NETWORKS:
                arrays[f"{i}_tags_{n}"], arrays[f"{i}_emb_{n}"] = o.tags[n], o.embeddings[n]
            arrays[f"{i}_window"] = o.window
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, names=np.array(names), version=np.array(MODEL_VERSION), **arrays)
    return outputs


def write_calibration(P: np.ndarray, truth, note: str) -> None:
    """Fit the temperature (never below 1: see :func:`explorer.genre.own.fit_temperature`) and the "uncertain"
    threshold on out-of-fold probabilities ``P`` of clips ``truth`` (repeated per shuffle); store them in the
    manifest."""
    import json

    from explorer.genre.model import MANIFEST_FILE
    from explorer.genre.own import fit_temperature, fit_threshold, temperature_scale
    from explorer.util.fs import atomic_write_text

    y = np.array([GENRES.index(g) for g in truth])
    temperature = fit_temperature(P, y, lowest=1.0)
    Q = temperature_scale(P, temperature)
    threshold = fit_threshold(Q.max(axis=1), Q.argmax(axis=1) == y, floor=1.0 / len(GENRES) + 0.1)
    path = models_dir() / MANIFEST_FILE
    manifest = json.loads(path.read_text())
    manifest["calibration"] = {
        "temperature": round(temperature, 4),
        "threshold": round(threshold, 4),
        "fitted_on": note,
    }
    atomic_write_text(path, json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    print(f"calibration written to {path}: temperature {temperature:.3f}, threshold {threshold:.3f}")


def log_loss(P: np.ndarray, truth) -> float:
    """Mean negative log-probability of the true genre [P: shape=(n_clips, len(GENRES))]."""
    y = [GENRES.index(g) for g in truth]
    return float(-np.mean(np.log(np.clip(P[np.arange(len(y)), y], 1e-12, 1))))


def calibration_figures(P: np.ndarray, truth, temperature: float, threshold: float) -> str:
    from explorer.genre.own import temperature_scale

    y = np.array([GENRES.index(g) for g in truth])
    Q = temperature_scale(P, temperature)
    top, right = Q.max(axis=1), Q.argmax(axis=1) == y
    sure = top >= threshold
    nll, raw = log_loss(Q, truth), log_loss(P, truth)
    return (
        f"temperature {temperature:.2f}, threshold {threshold:.2f}: log-loss {raw:.3f} -> {nll:.3f}; "
        f"{np.mean(~sure):.0%} of clips 'uncertain'; accuracy of the others "
        f"{np.mean(right[sure]) if sure.any() else float('nan'):.3f} (of the uncertain ones "
        f"{np.mean(right[~sure]) if (~sure).any() else float('nan'):.3f})"
    )


def library_tracks(folder: Path) -> list[tuple[Path, str]]:
    """(path, package genre) of the tracks listed in ``folder/manifest.csv`` whose package has a genre."""
    manifest = folder / "manifest.csv"
    if not manifest.exists():
        return []
    with open(manifest, newline="") as f:
        rows = list(csv.DictReader(f))
    return [
        (folder / r["file"], PACKAGE_GENRES[r["debian_package"]]) for r in rows if r["debian_package"] in PACKAGE_GENRES
    ]


def weight_sweep(weights, outputs, truth, groups, networks, library: Path) -> None:
    """Print the recipe's figures at each zero-shot weight (see the module docstring, 6.)."""
    tag_names = networks.tag_names
    tracks = library_tracks(library)
    track_outputs = cached_outputs(tracks, networks, library / "genre_outputs.npz") if tracks else []
    packages = [p.parent.name for p, _ in tracks]  # fetch.sh puts each package's tracks in a folder of its name
    names = sorted(set(packages))
    print(
        "weight  leave-one-out  grouped (10 shuffles)  grouped log-loss  "
        + "  ".join(f"{n.split('-')[0]} ({PACKAGE_GENRES[n]})" for n in names)
    )
    for w in weights:
        recipe = {**train.RECIPE, "zero_shot_weight": w}
        loo = train.leave_one_out(outputs, truth, tag_names, **recipe)
        runs = [train.grouped_cross_validation(outputs, truth, groups, tag_names, seed=s, **recipe) for s in range(10)]
        acc = np.mean([np.mean(np.array(GENRES)[P.argmax(1)] == truth) for P in runs])
        loss = np.mean([log_loss(P, truth) for P in runs])
        cells = []
        if tracks:
            model = train.fit_genre_model(outputs, truth, **recipe)
            right = [
                model.genres[int(np.argmax(model.probabilities(o, tag_names)))] == g
                for o, (_, g) in zip(track_outputs, tracks)
            ]
            for n in names:
                mine = [r for r, pkg in zip(right, packages) if pkg == n]
                cells.append(f"{sum(mine)}/{len(mine)}")
        print(
            f"{w:6.2f}  {np.mean(np.array(GENRES)[loo.argmax(1)] == truth):13.3f}  {acc:21.3f}  {loss:16.3f}  "
            + "  ".join(cells)
        )
    if not tracks:
        print(f"(no game-soundtrack tracks in {library}: shared/corpus/debian-music/fetch.sh makes them)")


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
    print(
        f"SVM trained on {len(X)} CSV rows (indices 00010–00099), features computed from the clips' audio "
        f"({seconds:.1f} s per clip):"
    )
    print(train.classification_report(truth, model.predict(np.array(computed))))
    if all(k in dev_rows for k in keys):
        same = model.predict(np.array([dev_rows[k] for k in keys]))
        print(f"the same SVM on the CSV's own rows of these clips: accuracy {np.mean(same == np.array(truth)):.3f}")
    r = (
        [
            np.corrcoef(np.array(computed)[:, i], [dev_rows[k][i] for k in keys])[0, 1]
            for i in range(len(features.TABLE_COLUMNS))
        ]
        if all(k in dev_rows for k in keys)
        else []
    )
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
    print(
        f"describe() on a 4-minute 44.1 kHz stereo song: median {np.median(runs):.2f} s wall, "
        f"{np.median(cpu):.2f} s CPU (runs: {', '.join(f'{r:.2f}' for r in runs)} s; includes resampling "
        f"and the mel spectrogram; load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=Path, default=CORPUS / "clips")
    parser.add_argument("--csv", type=Path, default=CORPUS / "features" / "features_30_sec.csv")
    parser.add_argument("--no-baseline", action="store_true", help="skip the (slow) hand-feature baseline")
    parser.add_argument("--sweep", help="comma-separated zero-shot weights to compare (section 6)")
    parser.add_argument("--library", type=Path, default=LIBRARY, help="the game-soundtrack tracks (section 6)")
    parser.add_argument("--artists", type=Path, default=None, help="CSV of clip,artist (e.g. blues.00000,Name)")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path.home() / ".cache" / "music-explorer-corpus" / "gtzan_outputs.npz",
        help="where the clips' network outputs are kept between runs",
    )
    parser.add_argument(
        "--write-calibration",
        action="store_true",
        help="store the grouped fit's calibration in resources/models/manifest.json",
    )
    args = parser.parse_args()
    clips = train.labelled_clips(args.clips)
    if not clips:
        raise SystemExit(f"{args.clips}: no GENRE.NNNNN clips")
    truth = [g for _, g in clips]
    models = load_models()
    print(f"{len(clips)} clips in {args.clips}; recipe {train.RECIPE}")
    t0 = time.perf_counter()
    outputs = cached_outputs(clips, models.networks, args.cache)
    print(f"network outputs: {(time.perf_counter() - t0) / len(clips):.2f} s per clip (decode included)")

    section("1. musicnn embeddings + logistic regression (+ zero-shot blend), leave-one-out")
    P = train.leave_one_out(outputs, truth, models.networks.tag_names, **train.RECIPE)
    print(train.classification_report(truth, [GENRES[i] for i in P.argmax(axis=1)]))
    without = {**train.RECIPE, "zero_shot_weight": 0.0}
    P0 = train.leave_one_out(outputs, truth, models.networks.tag_names, **without)
    print(f"(classifier alone, no zero-shot blend: accuracy {np.mean(np.array(GENRES)[P0.argmax(1)] == truth):.3f})")

    section("1b. the same recipe, artists kept apart (grouped 5-fold cross-validation)")
    E = np.array([models.genre.embedding(o) for o in outputs])
    groups, note = artist_groups(clips, E, args.artists)
    print(note)
    PG = train.grouped_cross_validation(outputs, truth, groups, models.networks.tag_names, **train.RECIPE)
    print(train.classification_report(truth, [GENRES[i] for i in PG.argmax(axis=1)]))
    top3 = np.mean([t in [GENRES[k] for k in np.argsort(-p)[:3]] for t, p in zip(truth, PG)])
    print(f"(top-3 accuracy {top3:.3f})")
    from explorer.genre.calibration import shipped_calibration

    temperature, threshold = shipped_calibration()
    print(
        "shipped calibration on these out-of-fold probabilities: "
        + calibration_figures(PG, truth, temperature, threshold)
    )
    if args.write_calibration:  # pooled over 5 shuffles of the folds: 50 clips alone make a noisy threshold
        pooled = np.vstack(
            [PG]
            + [
                train.grouped_cross_validation(
                    outputs, truth, groups, models.networks.tag_names, seed=s, **train.RECIPE
                )
                for s in range(1, 5)
            ]
        )
        write_calibration(
            pooled,
            truth * 5,
            f"{len(clips)} clips of {args.clips.name}/, grouped 5-fold cross-validation, 5 shuffles "
            f"({'artists from ' + args.artists.name if args.artists else 'presumed artists'})",
        )

    section("2. zero-shot: genre tags only, nothing trained on the clips")
    Z = np.array([models.genre.zero_shot_probabilities(o.mean_tags(), models.networks.tag_names) for o in outputs])
    print(train.classification_report(truth, [GENRES[i] for i in Z.argmax(axis=1)]))

    section("3. 'sounds like' embedding (describe().embedding), genre precision@5, leave-one-out")
    print(f"P@5 = {train.precision_at_k(E, truth, k=5):.3f} (embedding statistics of the shipped model)")
    shipped = [GENRES[int(np.argmax(models.genre.probabilities(o, models.networks.tag_names)))] for o in outputs]
    print(
        f"(the shipped model on its own training clips: accuracy {np.mean(np.array(shipped) == truth):.3f} "
        "— not a test figure)"
    )

    if not args.no_baseline:
        section("4. baseline: hand-made features (the CSV's librosa columns) + SVM")
        hand_feature_baseline(clips, args.csv)

    section("5. timings")
    timing()

    if args.sweep:
        section("6. the zero-shot weight")
        weight_sweep([float(w) for w in args.sweep.split(",")], outputs, truth, groups, models.networks, args.library)


if __name__ == "__main__":
    main()
