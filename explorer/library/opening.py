"""Opening the catalogue's file safely.  :class:`Opening` is a part of :class:`~explorer.library.store.Library`.

- Only a file of ours is ever opened for writing, moved or replaced: an SQLite file with our
  :data:`APPLICATION_ID` (or, written by versions before it, no application id and our tables),
  or a file whose header is gone but whose backup lies beside it.  Anything else (a song given
  as ``--db``, another program's database) is refused with :class:`LibraryError`, untouched.
- A damaged file of ours (not a database, or ``PRAGMA quick_check`` fails when it is opened,
  or a read or write finds damage later: files over :data:`QUICK_CHECK_MAX_BYTES` are not
  checked whole) is moved aside to ``<name>.corrupt-<time>``, a fresh catalogue is started and
  the user's data is restored from the JSON backup; :attr:`Library.notices` says what happened
  (the CLI prints it, the window shows it).  A catalogue that has no tracks while its backup
  exists is restored at opening too, so a restore cut short is finished at the next start.
- SQLite errors reach callers as one-sentence :class:`LibraryError` (read-only file, full disk,
  damaged file, locked by another program), never raw.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from explorer.errors import LibraryError
from explorer.library.schema import (
    _SQLITE_MAGIC,
    APPLICATION_ID,
    MIGRATIONS,
    OUR_TABLES,
    SCHEMA_VERSION,
)
from explorer.util.fs import read_regular_file

#: Opening runs ``PRAGMA quick_check`` (once per process) on files up to this size (~50k tracks,
#: a fraction of a second); bigger ones only get their header and schema read, and damage elsewhere
#: surfaces as a :class:`LibraryError` when it is read.
QUICK_CHECK_MAX_BYTES = 64 * 2**20

_checked: set[str] = set()  # databases already checked by this process
_checked_lock = threading.Lock()


def _is_corruption(e: sqlite3.Error) -> bool:
    name = getattr(e, "sqlite_errorname", "") or ""
    return name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "malformed" in str(e) or "not a database" in str(e)


#: Errors of ours (bad SQL, a constraint our code broke): raised as they are, never dressed up as the user's.
_BUGS = (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InterfaceError, sqlite3.NotSupportedError)


def _explain(e: sqlite3.Error) -> str:
    """What an SQLite error means to a user, with SQLite's own words."""
    name = getattr(e, "sqlite_errorname", "") or ""
    for prefix, meaning in (
        ("SQLITE_READONLY", "the database file or its folder is read-only"),
        ("SQLITE_FULL", "the disk is full"),
        ("SQLITE_IOERR", "the disk could not be written (full or failing?)"),
        ("SQLITE_BUSY", "another program is using it; try again"),
        ("SQLITE_LOCKED", "another program is using it; try again"),
        ("SQLITE_CANTOPEN", "the file cannot be opened"),
        ("SQLITE_PERM", "permission denied"),
    ):
        if name.startswith(prefix):
            return f"{meaning} ({e})"
    return str(e)


def _rollback(conn: sqlite3.Connection) -> None:
    """Undo the open transaction, if SQLite has not already (it does after a full disk or an I/O error)."""
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:  # the error that brought us here is the one to report
            pass


class _Header(NamedTuple):
    """What the first 100 bytes of a database file say."""

    exists: bool
    empty: bool
    sqlite: bool  #: starts with SQLite's magic and holds a whole header
    application_id: int
    user_version: int


class Opening:
    """How :class:`~explorer.library.store.Library` opens, checks, migrates and replaces its file."""

    if TYPE_CHECKING:
        path: Path
        backup_path: Path
        legacy_backup_path: Path
        notices: list[str]
        _timeout: float
        _inode: tuple[int, int] | None
        _conn: sqlite3.Connection

        def _restore_if_empty(self) -> None: ...

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
        except BaseException:
            conn.close()
            raise
        try:
            st = os.stat(self.path)
            self._inode = (st.st_dev, st.st_ino)
        except OSError:
            self._inode = None
        return conn

    def _header(self) -> _Header:
        """The file's SQLite header, read without SQLite (which would write into any file it is given)."""
        try:
            head = read_regular_file(self.path, 100, follow_symlinks=True)
        except FileNotFoundError:
            return _Header(False, True, False, 0, 0)
        except PermissionError:
            raise LibraryError(f"{self.path}: cannot open the library (permission denied)", path=self.path) from None
        except OSError as e:
            if e.errno == errno.EINVAL:
                raise self._not_ours("not a regular file") from None
            raise LibraryError(f"{self.path}: cannot open the library ({e.strerror})", path=self.path) from None
        sqlite = len(head) == 100 and head.startswith(_SQLITE_MAGIC)
        return _Header(
            True,
            not head,
            sqlite,
            int.from_bytes(head[68:72], "big") if sqlite else 0,
            int.from_bytes(head[60:64], "big") if sqlite else 0,
        )

    def _not_ours(self, what: str) -> LibraryError:
        return LibraryError(
            f"{self.path}: is not a Music Explorer library ({what}); it was left as it is", path=self.path
        )

    def _backup_exists(self) -> bool:
        return self.backup_path.is_file() or self.legacy_backup_path.is_file()

    def _check_ours(self, h: _Header) -> None:
        """Refuse, before SQLite opens it, a file that is not ours (see the module's notes)."""
        if not h.exists or h.empty:
            return  # SQLite makes a new database of nothing: nothing to lose
        if h.sqlite:
            if h.application_id not in (0, APPLICATION_ID):
                raise self._not_ours("an SQLite database of another program")
            return  # without an application id, its tables tell (_check_tables)
        if not self._backup_exists():  # no header, and no backup of ours beside it: a file of someone else's
            raise self._not_ours("not an SQLite database")

    def _check_tables(self, h: _Header) -> None:
        """An SQLite file without our application id is ours when it has our tables (or none yet).

        Read through a read-only connection: ours sets the WAL journal, which writes into the file.
        """
        if not h.sqlite or h.application_id == APPLICATION_ID:
            return
        conn = sqlite3.connect(self.path.resolve().as_uri() + "?mode=ro", uri=True, timeout=self._timeout)
        try:
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            conn.close()
        if not names and h.user_version == 0:
            return  # an empty database: ours to fill
        if not OUR_TABLES <= names:
            raise self._not_ours("an SQLite database of another program")

    def _was_ours(self, h: _Header) -> bool:
        """Whether a file SQLite found damaged may be moved aside: it bears our marks, or our backup lies beside it."""
        return (
            h.application_id == APPLICATION_ID
            or self._backup_exists()
            or (h.sqlite and h.application_id == 0 and 1 <= h.user_version <= SCHEMA_VERSION)
        )

    def _open(self) -> sqlite3.Connection:
        key = str(self.path.resolve())
        header = self._header()
        self._check_ours(header)
        conn = None
        try:
            self._check_tables(header)
            conn = self._connect()
            with _checked_lock:
                if key not in _checked:
                    small = not self.path.exists() or self.path.stat().st_size <= QUICK_CHECK_MAX_BYTES
                    row = conn.execute("PRAGMA quick_check" if small else "PRAGMA schema_version").fetchone()
                    row = row if small else ("ok",)
                    if row is None or row[0] != "ok":
                        raise sqlite3.DatabaseError(f"database disk image is malformed ({row and row[0]})")
                    _checked.add(key)
            self._migrate(conn)
        except (sqlite3.Error, LibraryError) as e:
            if conn is not None:
                conn.close()
            if isinstance(e, LibraryError):
                raise
            if not _is_corruption(e):
                raise LibraryError(f"{self.path}: cannot open the library ({_explain(e)})", path=self.path) from None
            if not self._was_ours(header):
                raise self._not_ours(f"a damaged SQLite database of another program: {e}") from None
            moved = self._move_aside(e)
            self.notices.append(
                f"{self.path}: the library database was damaged ({e}); it was moved to "
                f"{moved.name} and a new one was started"
            )
            conn = self._start_fresh(key)
        self._conn = conn
        try:
            self._restore_if_empty()
        except BaseException:  # the library never opens: its connection must not outlive the attempt
            conn.close()
            raise
        return conn

    def _start_fresh(self, key: str) -> sqlite3.Connection:
        """A new, empty catalogue where the damaged one was."""
        try:
            conn = self._connect()
            self._migrate(conn)
        except sqlite3.Error as e:
            raise LibraryError(f"{self.path}: cannot start a new library ({_explain(e)})", path=self.path) from None
        with _checked_lock:
            _checked.add(key)
        return conn

    def _move_aside(self, damage: Exception) -> Path:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        n = 1
        while target.exists():
            target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
            n += 1
        try:
            os.replace(self.path, target)
        except OSError as e:
            raise LibraryError(
                f"{self.path}: the library database is damaged ({damage}) and cannot be moved aside "
                f"({e.strerror}): move it away, or make its folder writable, and start again",
                path=self.path,
            ) from None
        for suffix in ("-wal", "-shm"):
            side = self.path.with_name(self.path.name + suffix)
            if side.exists():
                os.replace(side, target.with_name(target.name + suffix))
        return target

    def _migrate(self, conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise LibraryError(
                f"{self.path}: the library was written by a newer Music Explorer "
                f"(schema {version}, this one knows {SCHEMA_VERSION})",
                path=self.path,
            )
        while version < SCHEMA_VERSION:
            conn.execute("BEGIN IMMEDIATE")
            try:
                if conn.execute("PRAGMA user_version").fetchone()[0] == version:  # nobody migrated meanwhile
                    sql, step = MIGRATIONS[version]
                    for statement in sql.split(";\n"):
                        if statement.strip():
                            conn.execute(statement)
                    if step is not None:
                        step(conn)
                    conn.execute(f"PRAGMA user_version={version + 1}")
                    conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
                conn.execute("COMMIT")
            except BaseException:
                _rollback(conn)
                raise
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        if conn.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
            try:  # a file of a version before the application id: marked ours from now on
                conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
            except sqlite3.Error:  # read-only: it stays known by its tables
                pass

    def _failure(self, e: sqlite3.Error, doing: str) -> LibraryError:
        """The error to raise for ``e``; damage found now is dealt with as at opening (the file is moved aside)."""
        if not _is_corruption(e):
            return LibraryError(f"{self.path}: cannot {doing} the library: {_explain(e)}", path=self.path)
        return self._damaged_in_use(e)

    def _damaged_in_use(self, e: sqlite3.Error) -> LibraryError:
        """Damage that the check at opening did not see (a file too big to check whole): the file is moved
        aside, a new catalogue is started and restored from the backup, and the caller is told to try again."""
        key = str(self.path.resolve())
        with _checked_lock:
            _checked.discard(key)
        try:
            st = os.stat(self.path)
            same = (st.st_dev, st.st_ino) == self._inode
        except OSError:
            same = False
        self._conn.close()
        try:
            if same:  # (another connection may have moved it aside and started a new one already)
                moved = self._move_aside(e)
                what = f"it was moved to {moved.name} and a new one was started"
                self.notices.append(f"{self.path}: the library database was damaged ({e}); {what}")
            else:
                what = "it was replaced by a new one meanwhile"
            self._conn = self._start_fresh(key)
        except LibraryError as failure:
            try:  # keep this object usable (its calls keep failing with this error) and closable
                self._conn = self._connect()
            except sqlite3.Error:
                self._conn = sqlite3.connect(":memory:", check_same_thread=False)
            return failure
        before = len(self.notices)
        self._restore_if_empty()
        restored = "; ".join(n.removeprefix(f"{self.path}: ") for n in self.notices[before:])
        return LibraryError(
            f"{self.path}: the library database is damaged ({e}); {what}"
            + (f"; {restored}" if restored else "")
            + ": try again",
            path=self.path,
        )
