"""Writing files so that a crash never leaves half of one behind."""

from __future__ import annotations

import os
import tempfile

from explorer.errors import ExplorerError


def atomic_write_bytes(path: str | os.PathLike, data: bytes, *, overwrite: bool = True) -> None:
    """Write ``data`` to ``path`` through a temp file in the same folder, fsync, then rename.

    Raises
    ------
    ExplorerError
        When ``path`` exists and ``overwrite`` is False, or the folder is not writable.
    """
    path = os.fspath(path)
    if not overwrite and os.path.exists(path):
        raise ExplorerError(f"{path}: already exists (use --force to overwrite)", path=path)
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=os.path.basename(path)[-20:], dir=folder)
    except OSError as e:
        raise ExplorerError(f"{path}: cannot write ({e.strerror})", path=path) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise ExplorerError(f"{path}: cannot write ({e.strerror})", path=path) from None
    try:
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def atomic_write_text(path: str | os.PathLike, text: str, *, overwrite: bool = True) -> None:
    # backslashreplace: a non-UTF-8 file name inside the text is written as \udcXX escapes instead of failing
    atomic_write_bytes(path, text.encode("utf-8", "backslashreplace"), overwrite=overwrite)
