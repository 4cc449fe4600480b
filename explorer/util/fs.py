"""Writing files so that a crash never leaves half of one behind, and only where a file belongs.

Rules of every write through :func:`atomic_write_bytes`:

- only a regular file (or nothing) is replaced: a device node, a FIFO, a folder or a symbolic link
  (even one to a regular file, even a dangling one) at the target is refused, never replaced;
- a new file gets the permissions the user's umask allows (``0666 & ~umask``); a replaced file
  keeps its mode (and, when this process may, its owner and group);
- the bytes go to a temp file in the same folder, named ``.tmp-<name>.<random>.mxpart`` (see
  :func:`is_temp_name`), which is fsynced and renamed over the target; a temp file left by a
  killed process is removed by :func:`remove_stale_temps`.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import stat
import tempfile
import time

from explorer.errors import ExplorerError

#: Every temp file of ours starts with this …
TEMP_PREFIX = ".tmp-"
#: … and ends with this (no audio or export format does).
TEMP_SUFFIX = ".mxpart"
#: A temp file older than this, that no process holds locked, was left by a killed writer.
STALE_TEMP_SECONDS = 60.0
#: Characters of the target's name kept in its temp file's name (file names are at most 255 bytes).
_NAME_CHARS = 100

_KINDS = {
    stat.S_IFLNK: "a symbolic link",
    stat.S_IFDIR: "a folder",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a device",
    stat.S_IFBLK: "a device",
    stat.S_IFSOCK: "a socket",
}


def is_temp_name(name: str) -> bool:
    """True when ``name`` (a file name, no folder) is one of our temp files."""
    return name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX)


def current_umask() -> int:
    """The process's umask, read without changing it (``os.umask`` would, for every thread, for a moment)."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # no /proc (not Linux): the classic read, restored at once
    os.umask(mask)
    return mask


def check_target(path: str | os.PathLike, *, overwrite: bool) -> None:
    """Refuse, before any work, what :func:`atomic_write_bytes` would refuse after it.

    Raises
    ------
    ExplorerError
        When ``path`` exists and is not a regular file, exists and ``overwrite`` is False, or its
        folder does not exist or cannot be written.
    """
    path = os.fspath(path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise ExplorerError(f"{path}: cannot write ({e.strerror})", path=path) from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        kind = _KINDS.get(stat.S_IFMT(st.st_mode), "a special file")
        raise ExplorerError(f"{path}: is not a regular file ({kind}); refusing to replace it", path=path)
    if st is not None and not overwrite:
        raise ExplorerError(f"{path}: already exists (use --force to overwrite)", path=path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ExplorerError(f"{path}: cannot write (the folder {folder} does not exist)", path=path)
    if not os.access(folder, os.W_OK | os.X_OK, effective_ids=os.access in os.supports_effective_ids):
        raise ExplorerError(f"{path}: cannot write into the folder {folder} (permission denied)", path=path)


def atomic_write_bytes(path: str | os.PathLike, data: bytes, *, overwrite: bool = True) -> None:
    """Write ``data`` to ``path`` through a temp file in the same folder, fsync, then rename.

    Raises
    ------
    ExplorerError
        When ``path`` is not a regular file, exists and ``overwrite`` is False, or the folder is
        not writable.
    """
    path = os.fspath(path)
    try:
        old = os.lstat(path)
    except OSError:
        old = None
    if old is not None and not stat.S_ISREG(old.st_mode):
        check_target(path, overwrite=overwrite)  # raises with the kind of file it is
    if not overwrite and old is not None:
        raise ExplorerError(f"{path}: already exists (use --force to overwrite)", path=path)
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=TEMP_PREFIX + os.path.basename(path)[:_NAME_CHARS] + ".", suffix=TEMP_SUFFIX, dir=folder
        )
    except OSError as e:
        raise ExplorerError(f"{path}: cannot write ({e.strerror})", path=path) from None
    try:
        with os.fdopen(fd, "wb") as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)  # held until closed: tells remove_stale_temps we are alive
            if old is not None:
                os.fchmod(f.fileno(), stat.S_IMODE(old.st_mode))
                try:
                    os.fchown(f.fileno(), old.st_uid, old.st_gid)
                except OSError:  # not ours to give away (not root): the new owner is whoever writes
                    pass
            else:  # mkstemp makes 0600; a file of the user's gets what the umask allows
                os.fchmod(f.fileno(), 0o666 & ~current_umask())
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
            # the target may have changed into something else since it was looked at: check again
            now = _lstat_or_none(path)
            if now is not None and not stat.S_ISREG(now.st_mode):
                check_target(path, overwrite=overwrite)
            os.replace(tmp, path)
    except (OSError, ExplorerError) as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, ExplorerError):
            raise
        raise ExplorerError(f"{path}: cannot write ({e.strerror})", path=path) from None
    try:
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def read_regular_file(path: str | os.PathLike, size: int = -1, *, follow_symlinks: bool = False) -> bytes:
    """The first ``size`` bytes (all when -1) of ``path`` if it is a regular file (by default not through a
    symbolic link).

    Opened without blocking and checked before reading: a FIFO (whose plain open blocks until a
    writer comes, maybe forever), a device or a link is never read.

    Raises
    ------
    OSError
        FileNotFoundError when ``path`` is missing, PermissionError when it cannot be read, another
        OSError when it is not a regular file.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (0 if follow_symlinks else os.O_NOFOLLOW)
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", os.fspath(path))
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read(size)
    finally:
        os.close(fd)


def _lstat_or_none(path: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except OSError:
        return None


def atomic_write_text(path: str | os.PathLike, text: str, *, overwrite: bool = True) -> None:
    # backslashreplace: a non-UTF-8 file name inside the text is written as \udcXX escapes instead of failing
    atomic_write_bytes(path, text.encode("utf-8", "backslashreplace"), overwrite=overwrite)


def remove_stale_temps(path: str | os.PathLike, *, older_than: float = STALE_TEMP_SECONDS) -> list[str]:
    """Remove the temp files that writes of ``path`` left behind when their process was killed.

    Ours are named after their target (``.tmp-<name>.<random>.mxpart``; before, ``.tmp-<random 8>``
    and the last 20 characters of the name); one is stale when it is a regular file older than
    ``older_than`` seconds that no live writer holds locked.  Returns the paths removed.
    """
    path = os.fspath(path)
    folder, name = os.path.split(os.path.abspath(path))
    ours = re.compile(
        re.escape(TEMP_PREFIX + name[:_NAME_CHARS] + ".")
        + r"[A-Za-z0-9_]{8}"
        + re.escape(TEMP_SUFFIX)
        + "|"
        + re.escape(TEMP_PREFIX)
        + r"[A-Za-z0-9_]{8}"
        + re.escape(name[-20:])
    )
    removed: list[str] = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    now = time.time()
    for entry in names:
        if not ours.fullmatch(entry):
            continue
        tmp = os.path.join(folder, entry)
        try:
            fd = os.open(tmp, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or now - st.st_mtime < older_than:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # a live writer holds it (or locks cannot be had here: then leave it)
            os.unlink(tmp)
            removed.append(tmp)
        except OSError:
            pass
        finally:
            os.close(fd)
    return removed
