"""Rewrite the converted musicnn ONNX files so that each front-end branch normalises after its max-pool.

Run once after ``packaging/convert_musicnn.py``, in an environment with onnx, onnxruntime and numpy (the
throw-away one of packaging/requirements-convert.txt will do; the program itself never needs onnx) and
ffmpeg on ``PATH``::

    /tmp/tfvenv/bin/python packaging/optimise_musicnn.py [--models resources/models] [--dry-run]
        [--time SONG [--runs 9]]

Each of musicnn's five front-end branches computes ``Conv -> Relu -> BatchNormalization -> MaxPool``,
the pool taking the maximum over the whole frequency axis, so the Relu and the batch normalisation run on
the full-size feature maps.  Per channel, ``Relu`` and the inference-mode normalisation
``x -> s·x + c`` (``s = gamma / sqrt(var + eps)``) are monotone: non-decreasing where ``s >= 0``,
non-increasing where ``s < 0``.  A non-decreasing function commutes with a maximum; a non-increasing
one turns it into a minimum, and ``min(x) = -max(-x)``.  So the branch is rewritten as::

    Conv (weights and bias of the channels with s < 0 negated) -> MaxPool -> Mul(sign) -> Relu
        -> BatchNormalization

which is the same function (negating a weight and a sum is exact in floating point) while ``Mul``,
``Relu`` and the normalisation run on the pooled tensor, a fraction of the size.  A branch is rewritten
only when the pattern is plain: every intermediate tensor has one consumer and is no graph output, the
convolution's weights are initializers used by it alone, the normalisation is in inference mode with
constant parameters, the pool has no padding and one output; anything else is left as it is and said.

Before anything is written, ``onnx.checker`` checks the rewritten graph and onnxruntime runs the original
and the rewritten network on the log-mel patches of the demo songs (``resources/demo``, through
``explorer.genre.features.song_patches``, as the program makes them) and on silence; the tags and the
embedding must agree within :data:`TOLERANCE`.  The files are then replaced and their SHA-256 in
``manifest.json`` updated, with a note saying what was done; the rest of the manifest stays as it is.
A file whose graph has no such branch left (already rewritten) is left alone.

``--time SONG`` then measures the CPU time of both versions on SONG's patches, one patch per call and
one thread as the scan's workers run them, the two versions taking turns call by call, and prints the
medians.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the program's own patch maker, so the check sees what the program feeds

from explorer.audio.decode import decode  # noqa: E402
from explorer.genre import features  # noqa: E402

MODELS = ("MSD_musicnn", "MTT_musicnn")
OUTPUTS = ("tags", "embedding")
#: Largest absolute difference allowed between the original's and the rewritten network's outputs.
TOLERANCE = 1e-5
NOTE = (
    "graph rewritten by packaging/optimise_musicnn.py: in each front-end branch the batch normalisation "
    "runs after the frequency max-pool (weights of channels with a negative scale negated); the same function"
)


@dataclass
class Branch:
    """One ``Conv -> Relu -> BatchNormalization -> MaxPool`` chain of a graph (the nodes themselves)."""

    conv: Any
    relu: Any
    norm: Any
    pool: Any


def attribute(node, name: str, default=None):
    import onnx

    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def find_branches(nodes: list, graph) -> tuple[list[Branch], list[str]]:
    """The chains among ``nodes`` (``graph``'s) that can be rewritten, and why the other candidates cannot."""
    producer = {out: node for node in nodes for out in node.output}
    consumers: dict[str, int] = {}
    for node in nodes:
        for name in node.input:
            consumers[name] = consumers.get(name, 0) + 1
    outputs = {o.name for o in graph.output}
    inputs = {i.name for i in graph.input}
    constants = {i.name for i in graph.initializer} - inputs  # an initializer listed as an input can be fed

    branches, skipped = [], []
    for pool in nodes:
        if pool.op_type != "MaxPool":
            continue
        norm = producer.get(pool.input[0])
        relu = producer.get(norm.input[0]) if norm is not None and norm.op_type == "BatchNormalization" else None
        conv = producer.get(relu.input[0]) if relu is not None and relu.op_type == "Relu" else None
        if conv is None or conv.op_type != "Conv":
            continue
        assert norm is not None and relu is not None
        chain = [conv, relu, norm]
        reason = None
        if any(len(n.output) != 1 for n in chain) or len(pool.output) != 1:
            reason = "a node has more than one output"
        elif any(consumers.get(n.output[0], 0) != 1 or n.output[0] in outputs for n in chain):
            reason = "an intermediate tensor has another consumer"
        elif any(name not in constants or consumers[name] != 1 for name in conv.input[1:] if name):
            reason = "the convolution's weights are not its own constants"
        elif any(name not in constants for name in norm.input[1:5]) or attribute(norm, "training_mode", 0):
            reason = "the normalisation is not a constant, inference-mode one"
        elif any(attribute(pool, "pads", [0])) or attribute(pool, "auto_pad", b"NOTSET") not in (b"NOTSET", b"VALID"):
            reason = "the pool pads"
        if reason is None:
            branches.append(Branch(conv, relu, norm, pool))
        else:
            skipped.append(f"{pool.name}: {reason}")
    return branches, skipped


def rewrite(model) -> tuple[Any, int, list[str]]:
    """A rewritten copy of ``model`` (an onnx ModelProto), the number of branches rewritten, the skipped ones."""
    import onnx
    from onnx import numpy_helper

    out = onnx.ModelProto()
    out.CopyFrom(model)
    graph = out.graph
    nodes = []  # standalone copies, so that a node is the same Python object wherever it is met
    for node in graph.node:
        nodes.append(onnx.NodeProto())
        nodes[-1].CopyFrom(node)
    branches, skipped = find_branches(nodes, graph)
    if not branches:
        return out, 0, skipped
    initializer = {t.name: t for t in graph.initializer}
    taken = {name for node in nodes for name in list(node.input) + list(node.output)}
    taken |= set(initializer) | {node.name for node in nodes}
    after: dict[int, list] = {}  # id(pool) -> the nodes that now follow it
    moved = set()

    for b in branches:
        scale, _bias, _mean, var = (numpy_helper.to_array(initializer[n]) for n in b.norm.input[1:5])
        epsilon = attribute(b.norm, "epsilon", 1e-5)
        s = scale.astype(np.float64) / np.sqrt(var.astype(np.float64) + epsilon)
        sign = np.where(s < 0, -1, 1).astype(np.float32)
        channel_shape = (1, -1) + (1,) * (len(initializer[b.conv.input[1]].dims) - 2)  # [1, C, 1, 1]
        for name in b.conv.input[1:]:  # weights [C_out, …] and bias [C_out]
            if name:
                w = numpy_helper.to_array(initializer[name])
                flipped = (w * sign.reshape((-1,) + (1,) * (w.ndim - 1))).astype(w.dtype)
                initializer[name].CopyFrom(numpy_helper.from_array(flipped, name))

        base = b.pool.name or b.pool.output[0]
        names = {k: f"{base}/{k}" for k in ("max", "sign", "signed", "relu")}
        if taken & set(names.values()):
            raise SystemExit(f"{base}: the names for the new tensors are taken")
        result = b.pool.output[0]
        b.pool.input[0] = b.conv.output[0]
        b.pool.output[0] = names["max"]
        pooled, follow = names["max"], []
        if (sign < 0).any():
            graph.initializer.append(numpy_helper.from_array(sign.reshape(channel_shape), names["sign"]))
            follow.append(onnx.helper.make_node("Mul", [pooled, names["sign"]], [names["signed"]], name=names["sign"]))
            pooled = names["signed"]
        b.relu.input[0] = pooled
        b.relu.output[0] = names["relu"]
        b.norm.input[0] = names["relu"]
        b.norm.output[0] = result
        after[id(b.pool)] = follow + [b.relu, b.norm]
        moved |= {id(b.relu), id(b.norm)}

    order = []
    for node in nodes:
        if id(node) not in moved:
            order.append(node)
            order.extend(after.get(id(node), []))
    del graph.node[:]
    graph.node.extend(order)
    produced = {name for node in graph.node for name in node.output}
    kept = [v for v in graph.value_info if v.name in produced]
    del graph.value_info[:]
    graph.value_info.extend(kept)
    onnx.checker.check_model(out, full_check=True)
    return out, len(branches), skipped


def session(data: bytes, threads: int = 1):
    os.environ["ORT_DISABLE_TELEMETRY"] = "1"  # as the program does (explorer.genre.model.import_onnxruntime)
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])


def song_patches(path: Path) -> np.ndarray:
    """The log-mel patches the program makes of ``path`` [shape=(n, 187, 96), float32]."""
    buffer = decode(path, sr=features.MUSICNN_SR, mono=True)
    patches, _ = features.song_patches(buffer.mono(), sr=buffer.sr)
    return np.ascontiguousarray(patches, dtype=np.float32)


def check_patches() -> np.ndarray:
    """The demo songs' patches and one patch of silence."""
    songs = sorted(p for p in (ROOT / "resources" / "demo").iterdir() if p.suffix in (".opus", ".ogg"))
    if not songs:
        raise SystemExit("resources/demo: no demo songs to check the networks on")
    silence = np.zeros((1, features.PATCH_FRAMES, features.MUSICNN_N_MELS), np.float32)
    return np.concatenate([song_patches(p) for p in songs] + [silence])


def run(sess, patches: np.ndarray) -> list[np.ndarray]:
    """Both outputs for every patch, one patch per call as the program runs them."""
    parts = [sess.run(list(OUTPUTS), {"mel": patches[i : i + 1]}) for i in range(len(patches))]
    return [np.concatenate([p[k] for p in parts]) for k in range(len(OUTPUTS))]


def compare(name: str, original: bytes, rewritten: bytes, patches: np.ndarray) -> None:
    """Exit unless both networks give the same outputs on ``patches``."""
    a, b = run(session(original), patches), run(session(rewritten), patches)
    for output, x, y in zip(OUTPUTS, a, b):
        err = float(np.max(np.abs(x - y)))
        largest = float(np.abs(x).max())
        print(f"{name}: {output} differ by ≤ {err:.1e} on {len(patches)} patches (largest |value| {largest:.2f})")
        if not err <= TOLERANCE:
            raise SystemExit(f"{name}: the rewritten network's {output} differ by {err:.1e}; nothing written")


def cpu_times(name: str, original: bytes, rewritten: bytes, song: Path, runs: int) -> None:
    """CPU seconds of both versions on ``song``'s patches, one thread, medians of ``runs`` runs over all patches.

    The versions take turns call by call (which goes first alternates), so that what else the machine
    does weighs on both alike.
    """
    patches = song_patches(song)
    sessions = [session(original), session(rewritten)]
    for sess in sessions:
        run(sess, patches[:2])  # warm up
    seconds = np.zeros((runs, 2))
    for r in range(runs):
        for i in range(len(patches)):
            for k in (0, 1) if (r + i) % 2 == 0 else (1, 0):
                t0 = time.process_time()
                sessions[k].run(list(OUTPUTS), {"mel": patches[i : i + 1]})
                seconds[r, k] += time.process_time() - t0
    before, after = np.median(seconds, axis=0)
    ratios = seconds[:, 1] / seconds[:, 0]
    print(
        f"{name}: {len(patches)} patches of {song.name}, 1 thread, medians of {runs} runs: {before:.3f} s CPU -> "
        f"{after:.3f} s ({after / before:.3f}; run by run {ratios.min():.3f}–{ratios.max():.3f})"
    )


def update_manifest(folder: Path, written: dict[str, str]) -> None:
    """Put the new SHA-256 sums and the note into ``manifest.json``, keeping its order and everything else.

    ``function_sha256`` keeps the checksum of the graph the rewrite was checked against (the converted
    file, or what an earlier rewrite kept): the program's model version is made of these, so cached
    results and the genre models a listener trained stay valid for a file that computes the same function.
    """
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    for name, digest in written.items():
        entry = manifest["files"][name]
        function = entry.get("function_sha256", entry["sha256"])
        manifest["files"][name] = dict(
            sorted({**entry, "sha256": digest, "function_sha256": function, "note": NOTE}.items())
        )
    replace(path, (json.dumps(manifest, indent=1) + "\n").encode())


def replace(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def main() -> None:
    import onnx

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=ROOT / "resources" / "models", type=Path)
    parser.add_argument("--dry-run", action="store_true", help="rewrite and check, but write nothing")
    parser.add_argument("--time", type=Path, metavar="SONG", help="then time both versions on SONG's patches")
    parser.add_argument("--runs", type=int, default=9, help="timed runs of each version (default 9)")
    args = parser.parse_args()

    manifest = json.loads((args.models / "manifest.json").read_text(encoding="utf-8"))["files"]
    patches = check_patches()
    written = {}
    for model in MODELS:
        path = args.models / f"{model}.onnx"
        original = path.read_bytes()
        if hashlib.sha256(original).hexdigest() != manifest.get(path.name, {}).get("sha256"):
            raise SystemExit(f"{path}: not the file manifest.json names (its checksum differs)")
        proto, n, skipped = rewrite(onnx.load_from_string(original))
        for line in skipped:
            print(f"{path.name}: left as it is: {line}")
        if n == 0:
            print(f"{path.name}: no Conv -> Relu -> BatchNormalization -> MaxPool branch to rewrite; unchanged")
            continue
        rewritten = proto.SerializeToString()
        print(f"{path.name}: {n} branches rewritten")
        compare(path.name, original, rewritten, patches)
        if args.time is not None:
            cpu_times(path.name, original, rewritten, args.time, args.runs)
        if not args.dry_run:
            replace(path, rewritten)
            written[path.name] = hashlib.sha256(rewritten).hexdigest()
            print(f"{path}: written, sha256 {written[path.name]}")
    if written:
        update_manifest(args.models, written)
        print(f"{args.models / 'manifest.json'}: updated")


if __name__ == "__main__":
    main()
