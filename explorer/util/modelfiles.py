"""Where the shipped model files live, and reading one only after checking it against the manifest.

One folder holds every model (the musicnn networks, the genre classifier, the boundary network):
``resources/models`` beside the package, or the folder named by ``$MUSIC_EXPLORER_MODEL_DIR``.  Its
``manifest.json`` gives each file's SHA-256; a file is read only after its bytes match it.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from explorer.errors import ExplorerError

MANIFEST_FILE = "manifest.json"
#: Environment variable naming another folder of model files (default: the repository's resources/models).
MODEL_DIR_ENV = "MUSIC_EXPLORER_MODEL_DIR"


def models_dir() -> Path:
    """Folder holding the model files: ``$MUSIC_EXPLORER_MODEL_DIR`` or the repository's resources/models."""
    override = os.environ.get(MODEL_DIR_ENV)
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "resources" / "models"


def read_manifest(folder: Path) -> dict:
    """The parsed ``manifest.json`` of ``folder`` (file name → {"sha256", …}).

    Raises
    ------
    ExplorerError
        The manifest is missing or not a JSON object with a ``files`` object.
    """
    path = folder / MANIFEST_FILE
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        files = manifest["files"]
        if not isinstance(files, dict):
            raise TypeError("files is not an object")
    except FileNotFoundError:
        raise ExplorerError(
            f"{path}: the model manifest is missing; the installation is incomplete", path=path
        ) from None
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ExplorerError(f"{path}: the model manifest cannot be read ({e})", path=path) from None
    return files


def read_verified(folder: Path, name: str, manifest: dict) -> bytes:
    """The bytes of model file ``name`` after checking them against the manifest's SHA-256.

    Raises
    ------
    ExplorerError
        The file is missing, not in the manifest, or its checksum differs (damaged or replaced).
    """
    path = folder / name
    entry = manifest.get(name)
    if not isinstance(entry, dict) or "sha256" not in entry:
        raise ExplorerError(f"{path}: the model manifest has no checksum for this file", path=path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ExplorerError(
            f"{path}: model file is missing; the installation is incomplete (see resources/models/SOURCE.md)", path=path
        ) from None
    except OSError as e:
        raise ExplorerError(f"{path}: model file cannot be read ({e.strerror})", path=path) from None
    if hashlib.sha256(data).hexdigest() != entry["sha256"]:
        raise ExplorerError(f"{path}: model file is damaged (its checksum does not match the manifest)", path=path)
    return data
