"""Train the shipped genre model (resources/models/genre_classifier.npz) on labelled clips.

Usage (from the repository, with the project's environment)::

    .venv/bin/python tools/train_genre.py [--clips ../shared/corpus/gtzan/clips] [--out resources/models]

Each clip named ``GENRE.NNNNN.ext`` (GTZAN's ten genres) is decoded, run through both musicnn networks
(resources/models/*.onnx, made by packaging/convert_musicnn.py) and its windows become training rows
of the logistic regression (see explorer/genre/model.py for the whole model).  The model is written as
an ``.npz`` of plain arrays and its SHA-256 recorded in manifest.json.  When the new model's embedding
statistics are those of the model it replaces (equal up to float rounding: the same clips through the same
networks), the new file keeps the earlier arrays and the manifest keeps naming them by the earlier file's
checksum (``embedding_sha256``): the sound embeddings are unchanged, so the genre models listeners trained
on them stay usable.  benchmarks/eval_genre.py measures what this recipe is worth (leave-one-out).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from explorer.genre import train  # noqa: E402
from explorer.genre.model import CLASSIFIER_FILE, MANIFEST_FILE, GenreModel, Networks  # noqa: E402
from explorer.util.fs import atomic_write_bytes, atomic_write_text  # noqa: E402


def read_model(path: Path) -> GenreModel | None:
    try:
        return GenreModel.from_bytes(path.read_bytes())
    except (OSError, ValueError):
        return None


def same_embedding(previous: GenreModel | None, model: GenreModel) -> bool:
    """Whether ``model`` standardises the embeddings as ``previous`` does, up to float rounding."""
    if previous is None or not np.array_equal(previous.embed_weights, model.embed_weights):
        return False
    return all(
        np.allclose(getattr(previous, k), getattr(model, k), rtol=1e-4, atol=1e-5)
        for k in ("embed_mean", "embed_scale")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=Path, default=ROOT.parent / "shared" / "corpus" / "gtzan" / "clips")
    parser.add_argument("--out", type=Path, default=ROOT / "resources" / "models")
    args = parser.parse_args()
    clips = train.labelled_clips(args.clips)
    if not clips:
        raise SystemExit(f"{args.clips}: no GENRE.NNNNN clips found")
    t0 = time.perf_counter()
    networks = Networks(args.out)
    outputs = train.network_outputs([p for p, _ in clips], networks, log=print)
    model = train.fit_genre_model(outputs, [g for _, g in clips], **train.RECIPE)
    previous = read_model(args.out / CLASSIFIER_FILE)
    kept = same_embedding(previous, model)
    if kept:
        model = dataclasses.replace(model, embed_mean=previous.embed_mean, embed_scale=previous.embed_scale)
    data = model.to_bytes()
    atomic_write_bytes(args.out / CLASSIFIER_FILE, data)
    manifest_path = args.out / MANIFEST_FILE
    manifest = json.loads(manifest_path.read_text())
    entry = manifest["files"].get(CLASSIFIER_FILE) or {}
    embedding = entry.get("embedding_sha256", entry.get("sha256")) if kept else None
    manifest["files"][CLASSIFIER_FILE] = {
        "sha256": hashlib.sha256(data).hexdigest(),
        **({"embedding_sha256": embedding} if embedding else {}),
        "trained_on": f"{len(clips)} clips of {args.clips.name}/ (GTZAN indices "
        f"{min(p.name.split('.')[1] for p, _ in clips)}–{max(p.name.split('.')[1] for p, _ in clips)})",
        "params": {k: list(v) if isinstance(v, tuple) else v for k, v in train.RECIPE.items()},
    }
    atomic_write_text(manifest_path, json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    print(
        f"{args.out / CLASSIFIER_FILE}: {len(data) / 1e3:.0f} kB, trained on {len(clips)} clips "
        f"in {time.perf_counter() - t0:.0f} s"
    )


if __name__ == "__main__":
    main()
