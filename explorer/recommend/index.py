"""The in-memory index recommendations are computed from: one matrix per kind of similarity.

Built from the catalogue's analysed tracks and kept per database until the catalogue's
``index_generation`` changes, so a query costs a few matrix-vector products (< 10 ms at 100k tracks).

- ``sound`` (n, d): each track's embedding standardised with the library's own mean and standard
  deviation per dimension (so no dimension dominates by scale), then scaled to unit length: a dot
  product is the cosine similarity of standardised embeddings.
- ``genre`` (n, g): square roots of the genre probabilities over the union of labels: a dot product
  is the Bhattacharyya coefficient of two distributions, 1 for identical ones, 0 for disjoint ones.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from explorer.errors import ExplorerError

#: Below this many tracks the library's statistics are too noisy to standardise with.
MIN_TRACKS_TO_STANDARDISE = 8
_EPS = 1e-8


@dataclass(frozen=True, eq=False)
class Index:
    generation: int
    ids: np.ndarray  #: (n,) int64 track ids
    hashes: dict  #: content hash -> index rows with that content
    artists: list[str]  #: normalised (lower case, stripped); '' when unknown
    tags: np.ndarray  #: (n,) normalised genre tags (object); '' when none
    tempo: np.ndarray  #: (n,) BPM, NaN when unknown
    labels: list[str]  #: genre labels, the columns of ``genre``
    genre: np.ndarray  #: (n, g) float32, rows of sqrt(probabilities)
    sound: np.ndarray  #: (n, d) float32, unit rows of standardised embeddings
    mean: np.ndarray  #: (d,) what was subtracted from raw embeddings
    scale: np.ndarray  #: (d,) what they were divided by

    def __len__(self) -> int:
        return len(self.ids)

    def row_of(self, track_id: int) -> int | None:
        i = int(np.searchsorted(self.ids, track_id))
        return i if i < len(self.ids) and self.ids[i] == track_id else None

    def sound_vector(self, embedding: np.ndarray | None) -> np.ndarray | None:
        """A raw embedding made comparable with the rows of ``sound`` (None when it cannot be)."""
        if embedding is None or self.sound.shape[1] == 0 or np.asarray(embedding).size != self.sound.shape[1]:
            return None
        return _unit((np.asarray(embedding, np.float32).ravel() - self.mean) / self.scale)

    def genre_vector(self, probabilities: dict[str, float]) -> np.ndarray:
        v = np.array([max(0.0, float(probabilities.get(lab, 0.0))) for lab in self.labels], np.float32)
        return _unit(np.sqrt(v))


def _unit(x: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(x, axis=-1, keepdims=True)
    return (x / np.maximum(n, _EPS)).astype(np.float32)


def normalise_name(s: str | None) -> str:
    """Artist and tag names as compared: lower case, single spaces."""
    return " ".join((s or "").lower().split())


def _genre_matrix(rows: list[tuple]) -> tuple[list[str], np.ndarray]:
    """Labels and (n, g) probabilities from the rows' (genre_labels JSON, float32 bytes) columns."""
    groups = {r[5] for r in rows if r[6] is not None}
    labels = sorted({lab for g in groups for lab in json.loads(g)})
    n = len(rows)
    if len(groups) == 1 and all(r[6] is not None for r in rows):  # the usual case: one model, one label list
        order = np.argsort(json.loads(next(iter(groups))))
        return labels, np.frombuffer(b"".join(r[6] for r in rows), np.float32).reshape(n, len(labels))[:, order]
    col = {lab: j for j, lab in enumerate(labels)}
    out = np.zeros((n, len(labels)), np.float32)
    for i, r in enumerate(rows):
        if r[6] is not None:
            out[i, [col[lab] for lab in json.loads(r[5])]] = np.frombuffer(r[6], np.float32)
    return labels, out


def build_index(library) -> Index:
    """Read every analysed track's embedding and genre probabilities into an :class:`Index`."""
    gen = library.index_generation()
    rows = library.index_rows()
    sizes = [len(r[7]) for r in rows]
    d_bytes = max(set(sizes), key=sizes.count) if sizes else 0
    rows = [r for r in rows if len(r[7]) == d_bytes and d_bytes > 0]  # an older model's embeddings: left out
    n, d = len(rows), d_bytes // 4
    ids = np.fromiter((r[0] for r in rows), np.int64, n)
    raw = np.frombuffer(b"".join(r[7] for r in rows), np.float32).reshape(n, d) if n else np.zeros((0, 0), np.float32)
    if not np.isfinite(raw).all():
        raw = np.nan_to_num(raw)
    if n >= MIN_TRACKS_TO_STANDARDISE:
        mean = raw.mean(axis=0)
        scale = raw.std(axis=0) + 1e-6
    else:
        mean, scale = np.zeros(d, np.float32), np.ones(d, np.float32)
    sound = _unit((raw - mean) / scale) if n else raw
    labels, probs = _genre_matrix(rows)
    genre = _unit(np.sqrt(np.maximum(probs, 0.0))) if labels else probs
    hashes: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        hashes.setdefault(r[1], []).append(i)
    return Index(
        generation=gen,
        ids=ids,
        hashes=hashes,
        artists=[normalise_name(r[2]) for r in rows],
        tags=np.array([normalise_name(r[4]) for r in rows], dtype=object),
        tempo=np.array([np.nan if r[3] is None else r[3] for r in rows], np.float64),
        labels=labels,
        genre=genre,
        sound=sound.astype(np.float32),
        mean=mean.astype(np.float32),
        scale=scale.astype(np.float32),
    )


# -- a copy on disk for big libraries ----------------------------------------------------------
#: Libraries with at least this many analysed tracks keep a copy of their index in the user's cache
#: folder, so that the first query of a new process loads arrays instead of reading every row.
PERSIST_MIN_TRACKS = 20_000
_ARRAYS = ("ids", "tempo", "genre", "sound", "mean", "scale")


def _index_file(library) -> tuple[Path, str]:
    """Where the copy of ``library``'s index lives, and the stamp that says which catalogue it is of."""
    import platformdirs

    resolved = library.path.resolve()
    name = hashlib.blake2b(str(resolved).encode(), digest_size=10).hexdigest()
    folder = Path(platformdirs.user_cache_dir("music-explorer")) / "index"
    return folder / f"{name}.npz", f"{resolved}|{os.stat(resolved).st_ino}"


def _save(idx: Index, path: Path, stamp: str) -> None:
    from explorer.util.fs import atomic_write_bytes

    rows_of_hash = np.array([i for h in idx.hashes for i in idx.hashes[h]], np.int64)
    hash_names = np.array([h for h in idx.hashes for _ in idx.hashes[h]], dtype=str)
    meta = json.dumps({"stamp": stamp, "generation": idx.generation, "labels": idx.labels})
    buf = io.BytesIO()
    np.savez(
        buf,
        meta=np.array(meta),
        artists=np.array(idx.artists, dtype=str),
        tags=np.array(list(idx.tags), dtype=str),
        hash_rows=rows_of_hash,
        hash_names=hash_names,
        **{k: getattr(idx, k) for k in _ARRAYS},
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, buf.getvalue())
    except (OSError, ExplorerError):
        pass  # only a speed-up


def _load(path: Path, stamp: str, generation: int) -> Index | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            if meta["stamp"] != stamp or meta["generation"] != generation:
                return None
            arrays = {k: z[k] for k in _ARRAYS}
            hashes: dict[str, list[int]] = {}
            for h, i in zip(z["hash_names"].tolist(), z["hash_rows"].tolist()):
                hashes.setdefault(h, []).append(i)
            return Index(
                generation=generation,
                hashes=hashes,
                artists=z["artists"].tolist(),
                tags=np.array(z["tags"].tolist(), dtype=object),
                labels=list(meta["labels"]),
                **arrays,
            )
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None


_indexes: dict[str, Index] = {}
_lock = threading.Lock()


def get_index(library) -> Index:
    """The index of ``library``, rebuilt only when the catalogue changed since it was built."""
    key = str(library.path.resolve())
    gen = library.index_generation()
    with _lock:
        idx = _indexes.get(key)
        if idx is not None and idx.generation == gen:
            return idx
    path, stamp = _index_file(library)
    idx = _load(path, stamp, gen) if path.exists() else None
    if idx is None:
        idx = build_index(library)
        if len(idx) >= PERSIST_MIN_TRACKS:
            _save(idx, path, stamp)
    with _lock:
        _indexes[key] = idx
    return idx
