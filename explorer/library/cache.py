"""Analysis results on disk, keyed by what the file *contains*, never half-written.

An entry is one file ``<folder>/<k[:2]>/<k>.mxa`` where ``k`` is the blake2b digest of the
file's content hash, :data:`~explorer.analysis.version.ANALYSIS_VERSION`, the genre model's
version and the analysis parameters.  So a renamed or copied song is a hit, and a new analysis
version or model is a miss without anyone having to clear anything.

Entry format: the line ``MXA1 <blake2b-256 hex of the payload>\\n`` then the payload, an
``.npz`` (written and read with ``allow_pickle=False``) holding ``analysis`` (the UTF-8 bytes of
the ``music-explorer/analysis/1`` JSON, plus a ``cache`` object naming the key's ingredients)
and, when present, ``recurrence``, ``recurrence_times`` and ``embedding``.  Entries are written
to a temp file, fsynced and renamed into place.  A missing, truncated, corrupt or mismatched
entry is a miss (a corrupt one is deleted so that it is recomputed).
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from explorer.analysis.types import Analysis
from explorer.errors import ExplorerError, FileMissing
from explorer.util.fs import atomic_write_bytes, read_regular_file, remove_stale_temps

MAGIC = b"MXA1"
_ARRAYS = ("recurrence", "recurrence_times", "embedding")
_CHUNK = 1 << 20


def content_hash(path: str | os.PathLike) -> str:
    """blake2b (128-bit, hex) of the bytes of ``path``.

    Raises
    ------
    FileMissing
        When the file cannot be read.
    """
    h = hashlib.blake2b(digest_size=16)
    try:
        with open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                h.update(chunk)
    except FileNotFoundError:
        raise FileMissing(f"{os.fspath(path)}: file not found", path=path) from None
    except OSError as e:
        raise FileMissing(f"{os.fspath(path)}: cannot read the file ({e.strerror})", path=path) from None
    return h.hexdigest()


@functools.lru_cache(maxsize=1)
def analysis_version() -> str:
    """The version of everything that shapes a cached result: the analysis and the genre model.

    The genre model's ``MODEL_VERSION`` when it declares one; otherwise a digest of the genre
    package's source and of the model files' names, sizes and times, so that a new model never
    serves results cached by an old one.
    """
    from explorer.analysis.version import ANALYSIS_VERSION
    from explorer.genre import model

    genre = getattr(model, "MODEL_VERSION", None)
    if genre is None:
        h = hashlib.blake2b(digest_size=8)
        for src in sorted(Path(model.__file__).parent.glob("*.py")):
            h.update(src.read_bytes())
        models = Path(model.__file__).resolve().parents[2] / "resources" / "models"
        for f in sorted(models.glob("*")) if models.is_dir() else ():
            st = f.stat()
            h.update(f"{f.name}:{st.st_size}:{st.st_mtime_ns}".encode())
        genre = h.hexdigest()
    return f"{ANALYSIS_VERSION}+genre-{genre}"


def default_folder() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("music-explorer")) / "analysis"


class AnalysisCache:
    """Analysis results on disk, keyed by content hash + analysis version + parameters.

    Parameters
    ----------
    folder : path or None
        Where entries live; default ``platformdirs.user_cache_dir('music-explorer')/analysis``.
    params : dict or None
        Analysis parameters that change results; they are part of every key.
    """

    def __init__(self, folder: str | os.PathLike | None = None, *, params: dict | None = None):
        self.folder = Path(folder) if folder is not None else default_folder()
        self.params = dict(params or {})
        self.version = analysis_version()

    # -- keys ----------------------------------------------------------------------------
    def key(self, content_hash: str) -> str:
        ingredients = json.dumps([content_hash, self.version, self.params], sort_keys=True)
        return hashlib.blake2b(ingredients.encode(), digest_size=20).hexdigest()

    def entry_path(self, content_hash: str) -> Path:
        k = self.key(content_hash)
        return self.folder / k[:2] / f"{k}.mxa"

    # -- by content hash -------------------------------------------------------------------
    def lookup(self, content_hash: str) -> Analysis | None:
        """The cached analysis of content ``content_hash``, or None (miss, corrupt or stale)."""
        path = self.entry_path(content_hash)
        try:
            blob = read_regular_file(path)
        except (FileNotFoundError, PermissionError):
            return None
        except OSError:
            blob = b""  # not a regular file (a FIFO would block a plain open forever): dropped below
        result = self._decode(blob, content_hash) if blob else None
        if result is None:  # corrupt or foreign: drop it so the next store rewrites it
            try:
                path.unlink()
            except OSError:
                pass
        return result

    def store(self, content_hash: str, analysis: Analysis) -> None:
        """Write ``analysis`` as the result for ``content_hash`` (atomically; errors are not fatal).

        A cache that cannot be written (full disk, read-only folder) only costs time later,
        so failures to write are swallowed.
        """
        path = self.entry_path(content_hash)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(path, self._encode(content_hash, analysis))
        except (OSError, ExplorerError):
            pass
        remove_stale_temps(path)  # a worker killed while it wrote this entry left its part-file here

    # -- by file -------------------------------------------------------------------------
    def lookup_file(self, path: str | os.PathLike) -> Analysis | None:
        """Cached analysis of the file at ``path`` (hashing its bytes), with ``file`` set to ``path``."""
        hit = self.lookup(content_hash(path))
        return None if hit is None else hit.replace(file=os.fspath(path))

    def store_file(self, path: str | os.PathLike, analysis: Analysis) -> None:
        self.store(content_hash(path), analysis)

    # -- format --------------------------------------------------------------------------
    def _encode(self, content_hash: str, analysis: Analysis) -> bytes:
        doc = {
            "analysis": analysis.to_dict(),
            "cache": {"content_hash": content_hash, "version": self.version, "params": self.params},
        }
        arrays: dict[str, Any] = {"analysis": np.frombuffer(json.dumps(doc).encode("utf-8"), dtype=np.uint8)}
        for name in _ARRAYS:
            value = getattr(analysis, name)
            if value is not None:
                arrays[name] = np.ascontiguousarray(value)
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        payload = buf.getvalue()
        return MAGIC + b" " + hashlib.blake2b(payload, digest_size=32).hexdigest().encode() + b"\n" + payload

    def _decode(self, blob: bytes, content_hash: str) -> Analysis | None:
        head, sep, payload = blob.partition(b"\n")
        if not sep or not head.startswith(MAGIC + b" "):
            return None
        if head[len(MAGIC) + 1 :].decode("ascii", "replace") != hashlib.blake2b(payload, digest_size=32).hexdigest():
            return None
        try:
            with np.load(io.BytesIO(payload), allow_pickle=False) as z:
                doc = json.loads(bytes(z["analysis"]).decode("utf-8"))
                arrays = {name: z[name] for name in _ARRAYS if name in z.files}
            meta = doc["cache"]
            if (meta.get("content_hash"), meta.get("version"), meta.get("params")) != (
                content_hash,
                self.version,
                self.params,
            ):
                return None
            return Analysis.from_dict(doc["analysis"], **arrays)
        except (ValueError, KeyError, TypeError, OSError, EOFError):
            return None


def default_cache() -> AnalysisCache:
    """The cache in the user's cache folder."""
    return AnalysisCache()
