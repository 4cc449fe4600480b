"""Convert the pretrained musicnn taggers (MSD_musicnn, MTT_musicnn) into ONNX files for resources/models/.

Run once, in a throw-away environment that has TensorFlow (see packaging/requirements-convert.txt)::

    /tmp/tfvenv/bin/python packaging/convert_musicnn.py [--out resources/models]

The checkpoints come from the ``musicnn`` wheel on PyPI (Pons & Serra, ISC licence; see
resources/models/SOURCE.md).  They are TF1 graphs; TensorFlow 2 imports them once every node's stale
``_output_shapes`` attribute is removed from the MetaGraph.  The training switch ``model/Placeholder_2``
is fed a constant ``False`` (batch norm in inference mode, no dropout), the variables are restored,
frozen into constants, and the sub-graph from ``model/Placeholder`` ([N, 187, 96] log-mel patches)
to two outputs is converted with tf2onnx (opset 17):

- ``tags``: ``model/Sigmoid`` [N, 50], the tag probabilities;
- ``embedding``: ``model/batch_normalization_10/batchnorm/add_1`` [N, 200], the penultimate layer.

The result is checked against TensorFlow on random input and the files' SHA-256 sums are written into
``manifest.json`` beside them (the program verifies them on load).  The shipped files are these
conversions rewritten by ``packaging/optimise_musicnn.py`` (the same function, faster): run it next.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
from pathlib import Path

import numpy as np

MODELS = ("MSD_musicnn", "MTT_musicnn")
INPUT = "model/Placeholder:0"
TRAINING_SWITCH = "model/Placeholder_2:0"
OUTPUTS = {"tags": "model/Sigmoid:0", "embedding": "model/batch_normalization_10/batchnorm/add_1:0"}
N_FRAMES, N_MELS = 187, 96
OPSET = 17


def musicnn_dir() -> Path:
    spec = importlib.util.find_spec("musicnn")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the musicnn package is not installed (pip install --no-deps musicnn==0.1.0)")
    return Path(list(spec.submodule_search_locations)[0])


def labels() -> dict[str, list[str]]:
    """Tag names as the musicnn package lists them (read from its configuration module's source)."""
    import ast

    tree = ast.parse((musicnn_dir() / "configuration.py").read_text())
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name.endswith("_LABELS"):
                found[name[: -len("_LABELS")]] = ast.literal_eval(node.value)
    return found


def freeze(model_dir: Path):
    """Import the checkpoint of ``model_dir`` and return (frozen GraphDef, TF outputs on a test batch, batch)."""
    import tensorflow as tf
    from tensorflow.core.protobuf import meta_graph_pb2

    v1 = tf.compat.v1
    meta = meta_graph_pb2.MetaGraphDef()
    meta.ParseFromString((model_dir / ".meta").read_bytes())
    for node in meta.graph_def.node:
        if "_output_shapes" in node.attr:
            del node.attr["_output_shapes"]
    graph = tf.Graph()
    with graph.as_default():
        switch = tf.constant(False, name="inference_mode")
        saver = v1.train.import_meta_graph(meta, input_map={TRAINING_SWITCH: switch}, clear_devices=True)
        with v1.Session(graph=graph) as sess:
            saver.restore(sess, str(model_dir) + os.sep)  # the weight files have empty base names
            rng = np.random.default_rng(0)
            batch = np.log10(10000 * rng.gamma(0.5, 0.02, (3, N_FRAMES, N_MELS)).astype(np.float32) + 1)
            reference = sess.run(list(OUTPUTS.values()), {INPUT: batch})
            frozen = v1.graph_util.convert_variables_to_constants(
                sess, graph.as_graph_def(), [name.split(":")[0] for name in OUTPUTS.values()]
            )
    return frozen, reference, batch


def convert(model_dir: Path, out: Path) -> None:
    import onnx
    import onnxruntime as ort
    import tensorflow as tf
    import tf2onnx

    frozen, reference, batch = freeze(model_dir)
    with tf.Graph().as_default():
        proto, _ = tf2onnx.convert.from_graph_def(
            frozen, input_names=[INPUT], output_names=list(OUTPUTS.values()), opset=OPSET
        )
    # Stable, short names for the runtime.
    renames = {INPUT: "mel", **{v: k for k, v in OUTPUTS.items()}}
    for node in proto.graph.node:
        node.input[:] = [renames.get(i, i) for i in node.input]
        node.output[:] = [renames.get(o, o) for o in node.output]
    for value in list(proto.graph.input) + list(proto.graph.output):
        value.name = renames.get(value.name, value.name)
    proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param = "N"
    onnx.checker.check_model(proto)
    out.write_bytes(proto.SerializeToString())

    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    got = session.run(list(OUTPUTS), {"mel": batch})
    for name, a, b in zip(OUTPUTS, got, reference):
        err = float(np.max(np.abs(a - b)))
        print(f"{out.name}: {name} {a.shape} max |onnx - tf| = {err:.2e}")
        if err > 1e-4:
            raise SystemExit(f"{out.name}: ONNX output {name} differs from TensorFlow by {err}")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def update_manifest(out_dir: Path, entries: dict[str, dict]) -> None:
    path = out_dir / "manifest.json"
    manifest = json.loads(path.read_text()) if path.exists() else {"files": {}}
    manifest["files"].update(entries)
    path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=Path(__file__).resolve().parents[1] / "resources" / "models", type=Path)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    names = labels()
    entries = {}
    for model in MODELS:
        target = args.out / f"{model}.onnx"
        convert(musicnn_dir() / model, target)
        print(f"{target}: {target.stat().st_size / 1e6:.1f} MB")
        entries[target.name] = {
            "sha256": sha256(target),
            "tags": names[model.split("_")[0]],
            "input": {"name": "mel", "shape": ["N", N_FRAMES, N_MELS]},
            "outputs": {"tags": 50, "embedding": 200},
        }
    update_manifest(args.out, entries)


if __name__ == "__main__":
    main()
