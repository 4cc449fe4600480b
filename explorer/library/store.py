"""The catalogue: one SQLite file with the user's tracks, likes, listening history and edits.

Durability
----------
- WAL journal, ``synchronous=FULL``: a committed like, play or edit is on disk when the call
  returns, and survives a crash or a ``kill -9`` at any moment.
- Every change runs in one ``BEGIN IMMEDIATE`` transaction; SQLite lets one writer at a time
  in (others wait up to ``timeout`` seconds), so a scan in another process and the window can
  share the file.  Inside a process one connection is shared under a lock: every call is short.
- Schema version in ``PRAGMA user_version``; :data:`MIGRATIONS` bring older files up to date.
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
- The user's own data (ratings, play counts, the latest :data:`BACKUP_EVENTS` entries of the
  listening history, edited structures) is also exported to a plain JSON file,
  ``<database file name>-backup.json`` beside the database, after every change of it.  A restore
  checks every entry, skips (and reports) the damaged ones and restores the rest; a backup that
  could not be restored whole is first copied to ``<backup>.unrestored-<time>``, so that the
  next backup never overwrites the only copy of what was skipped.
- SQLite errors reach callers as one-sentence :class:`LibraryError` (read-only file, full disk,
  damaged file, locked by another program), never raw.
"""

from __future__ import annotations

import errno
import json
import math
import os
import shutil
import sqlite3
import stat
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NamedTuple
from pathlib import Path

import numpy as np

from explorer.analysis.types import Analysis, Chorus, Section
from explorer.errors import ExplorerError, FileMissing, LibraryError
from explorer.fsutil import atomic_write_text, read_regular_file, remove_stale_temps

STATES = ("pending", "analysing", "analysed", "failed", "missing")
BACKUP_SCHEMA = "music-explorer/user-data/1"
#: ``PRAGMA application_id`` of our databases ("MXLB"): how a file is known to be ours.
APPLICATION_ID = 0x4D584C42
#: The tables every catalogue of ours has had since schema 1 (how a file of an older version, written
#: before the application id, is known).
OUR_TABLES = frozenset({"meta", "tracks", "events", "edits"})
_SQLITE_MAGIC = b"SQLite format 3\x00"
#: What an entry of the listening history can be (the ``events`` table's CHECK).
EVENT_KINDS = ("like", "dislike", "unlike", "play", "skip", "partial")
#: History entries kept in the backup, newest first: as many as the taste profile reads
#: (:meth:`Library.taste_rows`), so recommendations "for you" come back as they were.
BACKUP_EVENTS = 5000
#: A listen counts as a play when at least this fraction was heard …
PLAY_FRACTION = 0.5
#: … and as a skip when less than this fraction was heard.
SKIP_FRACTION = 0.1

_SCHEMA_V1 = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO meta VALUES('index_gen', 0);
CREATE TABLE tracks(
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL DEFAULT '',
    artist TEXT NOT NULL DEFAULT '',
    album TEXT NOT NULL DEFAULT '',
    genre_tag TEXT NOT NULL DEFAULT '',
    year INTEGER,
    duration REAL,
    tempo REAL,
    genre_label TEXT,
    genre_json TEXT NOT NULL DEFAULT '{}',
    state TEXT NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'analysing', 'analysed', 'failed', 'missing')),
    error TEXT,
    content_hash TEXT,
    size INTEGER,
    mtime REAL,
    rating INTEGER NOT NULL DEFAULT 0 CHECK (rating IN (-1, 0, 1)),
    rated_at REAL,
    chorus_start REAL,
    chorus_end REAL,
    play_count INTEGER NOT NULL DEFAULT 0,
    skip_count INTEGER NOT NULL DEFAULT 0,
    added_at REAL NOT NULL,
    analysed_at REAL,
    embedding BLOB
);
CREATE INDEX tracks_hash ON tracks(content_hash);
CREATE INDEX tracks_rated ON tracks(rating) WHERE rating != 0;
CREATE TABLE events(
    id INTEGER PRIMARY KEY,
    track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('like', 'dislike', 'unlike', 'play', 'skip', 'partial')),
    at REAL NOT NULL,
    heard REAL,
    duration REAL
);
CREATE INDEX events_at ON events(at);
CREATE INDEX events_track ON events(track_id);
CREATE TABLE edits(
    content_hash TEXT PRIMARY KEY,
    sections TEXT NOT NULL,
    saved_at REAL NOT NULL
);
CREATE TRIGGER tracks_ins AFTER INSERT ON tracks
    BEGIN UPDATE meta SET value = value + 1 WHERE key = 'index_gen'; END;
CREATE TRIGGER tracks_del AFTER DELETE ON tracks
    BEGIN UPDATE meta SET value = value + 1 WHERE key = 'index_gen'; END;
CREATE TRIGGER tracks_upd AFTER UPDATE OF path, title, artist, genre_tag, tempo, genre_label, genre_json, state,
    content_hash, embedding ON tracks
    BEGIN UPDATE meta SET value = value + 1 WHERE key = 'index_gen'; END;
"""

# v2: embeddings and genre vectors move to their own table, so that catalogue queries read small rows,
# and genre probabilities are also kept as float32 vectors, so that the recommendation index loads fast.
_SCHEMA_V2 = """
CREATE TABLE vectors(
    track_id INTEGER PRIMARY KEY REFERENCES tracks(id) ON DELETE CASCADE,
    embedding BLOB,
    genre_labels TEXT NOT NULL DEFAULT '[]',
    genre BLOB
);
INSERT INTO vectors(track_id, embedding) SELECT id, embedding FROM tracks WHERE embedding IS NOT NULL;
DROP TRIGGER tracks_upd;
ALTER TABLE tracks DROP COLUMN embedding;
CREATE TRIGGER tracks_upd AFTER UPDATE OF path, title, artist, genre_tag, tempo, genre_label, genre_json, state,
    content_hash ON tracks
    BEGIN UPDATE meta SET value = value + 1 WHERE key = 'index_gen'; END;
CREATE TRIGGER vectors_ins AFTER INSERT ON vectors
    BEGIN UPDATE meta SET value = value + 1 WHERE key = 'index_gen'; END;
CREATE TRIGGER vectors_upd AFTER UPDATE ON vectors
    BEGIN UPDATE meta SET value = value + 1 WHERE key = 'index_gen'; END;
CREATE TRIGGER vectors_del AFTER DELETE ON vectors
    BEGIN UPDATE meta SET value = value + 1 WHERE key = 'index_gen'; END;
"""


def _genre_vectors_v2(conn: sqlite3.Connection) -> None:
    rows = conn.execute("SELECT id, genre_json FROM tracks WHERE genre_json != '{}'").fetchall()
    for tid, doc in rows:
        labels, vec = genre_vector(json.loads(doc))
        conn.execute("INSERT INTO vectors(track_id, genre_labels, genre) VALUES (?, ?, ?) ON CONFLICT(track_id) "
                     "DO UPDATE SET genre_labels = excluded.genre_labels, genre = excluded.genre",
                     (tid, labels, vec))


def genre_vector(probabilities: dict[str, float]) -> tuple[str, bytes]:
    """(JSON list of the sorted labels, float32 bytes of their probabilities)."""
    labels = sorted(probabilities)
    return json.dumps(labels), np.array([probabilities[k] for k in labels], np.float32).tobytes()


#: ``MIGRATIONS[v]`` brings a file of ``user_version == v`` to ``v + 1``: SQL statements, then an
#: optional Python step.
# v3: which analysis (and genre model) version produced a track's result or failure, so that a scan
# redoes exactly the tracks a new version changes.
_SCHEMA_V3 = "ALTER TABLE tracks ADD COLUMN analysis_version TEXT"

MIGRATIONS: tuple[tuple, ...] = ((_SCHEMA_V1, None), (_SCHEMA_V2, _genre_vectors_v2), (_SCHEMA_V3, None))
SCHEMA_VERSION = len(MIGRATIONS)

_COLUMNS = ("id, path, title, artist, album, genre_tag, year, duration, tempo, genre_label, genre_json, state, "
            "error, content_hash, size, mtime, rating, chorus_start, chorus_end, play_count, skip_count, "
            "analysis_version")

#: Opening runs ``PRAGMA quick_check`` (once per process) on files up to this size (~50k tracks,
#: a fraction of a second); bigger ones only get their header and schema read, and damage elsewhere
#: surfaces as a :class:`LibraryError` when it is read.
QUICK_CHECK_MAX_BYTES = 64 * 2**20

_checked: set[str] = set()  # databases already checked by this process
_checked_lock = threading.Lock()


def default_db_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("music-explorer")) / "library.sqlite"


def normalize_path(path: str | os.PathLike) -> str:
    """How a file is named in the catalogue: absolute, normalised, symlinks kept."""
    return os.path.normpath(os.path.abspath(os.fspath(path)))


class Track(NamedTuple):
    """One row of the catalogue (a snapshot: it does not change when the catalogue does).

    A named tuple rather than a dataclass: a catalogue of 100k rows is built in a fraction of the time.
    """

    id: int
    path: str
    title: str
    artist: str
    album: str
    genre_tag: str
    year: int | None
    duration: float | None
    tempo: float | None
    genre_label: str | None
    genre_json: str
    state: str
    error: str | None
    content_hash: str | None
    size: int | None
    mtime: float | None
    rating: int
    chorus_start: float | None
    chorus_end: float | None
    play_count: int
    skip_count: int
    analysis_version: str | None = None  #: the analysis + model version of its result or failure

    @property
    def genre_probabilities(self) -> dict[str, float]:
        """Predicted probability of each genre (empty until analysed)."""
        return {str(k): float(v) for k, v in json.loads(self.genre_json or "{}").items()}

    @property
    def chorus(self) -> tuple[float, float] | None:
        """(start, end) in seconds of the most confident chorus, or None."""
        if self.chorus_start is None or self.chorus_end is None:
            return None
        return (self.chorus_start, self.chorus_end)

    @property
    def display_name(self) -> str:
        title = self.title or Path(self.path).stem
        return f"{self.artist} – {title}" if self.artist else title


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    at: float
    kind: str  # like, dislike, unlike, play, skip, partial
    track_id: int
    path: str
    title: str
    artist: str
    heard: float | None


def read_tags(path: str) -> dict:
    """title, artist, album, genre_tag (str) and year (int or None) from the file's tags; {} if none."""
    try:
        import mutagen

        f = mutagen.File(path, easy=True)
    except Exception:  # noqa: BLE001 - mutagen raises many kinds on bad files; tags are optional
        return {}
    if f is None or not getattr(f, "tags", None):
        return {}

    def first(key):
        try:
            v = f.tags.get(key)
        except (KeyError, ValueError, TypeError):
            return ""
        return str(v[0]).strip() if v else ""

    out = {"title": first("title"), "artist": first("artist"), "album": first("album"), "genre_tag": first("genre")}
    date = first("date")
    out["year"] = int(date[:4]) if date[:4].isdigit() else None
    return out


def _is_corruption(e: sqlite3.Error) -> bool:
    name = getattr(e, "sqlite_errorname", "") or ""
    return name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "malformed" in str(e) or \
        "not a database" in str(e)


#: Errors of ours (bad SQL, a constraint our code broke): raised as they are, never dressed up as the user's.
_BUGS = (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InterfaceError, sqlite3.NotSupportedError)


def _explain(e: sqlite3.Error) -> str:
    """What an SQLite error means to a user, with SQLite's own words."""
    name = getattr(e, "sqlite_errorname", "") or ""
    for prefix, meaning in (("SQLITE_READONLY", "the database file or its folder is read-only"),
                            ("SQLITE_FULL", "the disk is full"),
                            ("SQLITE_IOERR", "the disk could not be written (full or failing?)"),
                            ("SQLITE_BUSY", "another program is using it; try again"),
                            ("SQLITE_LOCKED", "another program is using it; try again"),
                            ("SQLITE_CANTOPEN", "the file cannot be opened"),
                            ("SQLITE_PERM", "permission denied")):
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


class BackupUnreadable(LibraryError):
    """The JSON backup cannot be read at all (missing, not JSON, not ours)."""


class Restored(NamedTuple):
    """What :meth:`Library.restore_user_data` brought back."""

    tracks: int  #: tracks whose rating or play counts were restored
    events: int  #: history entries restored (or already there)
    edits: int  #: edited structures restored
    problems: list[str]  #: one line per damaged entry skipped, e.g. ``tracks[3]: rating 5 is not -1, 0 or 1``
    dropped: int = 0  #: history entries left out because their track was skipped


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_number(value, *, optional: bool = True) -> bool:
    if value is None:
        return optional
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**62


def _track_problem(t) -> str | None:
    """What is wrong with a track entry of a backup, or None."""
    if not isinstance(t, dict):
        return "not an object"
    path = t.get("path")
    if not isinstance(path, str) or not path:
        return f"path {_short(path)} is not a file name"
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return "the path is not valid UTF-8"
    if t.get("content_hash") is not None and not isinstance(t["content_hash"], str):
        return f"content_hash {_short(t['content_hash'])} is not text"
    rating = t.get("rating", 0)
    if isinstance(rating, bool) or not isinstance(rating, int) or rating not in (-1, 0, 1):
        return f"rating {_short(rating)} is not -1, 0 or 1"
    for key in ("play_count", "skip_count"):
        if not _is_count(t.get(key, 0)):
            return f"{key} {_short(t.get(key))} is not a count"
    if not _is_number(t.get("rated_at")):
        return f"rated_at {_short(t.get('rated_at'))} is not a time"
    return None


def _event_problem(e, rows: list) -> str | None:
    """What is wrong with a history entry of a backup (``[track index, kind, at, heard, duration]``), or None."""
    if not isinstance(e, list | tuple) or len(e) != 5:
        return "not [track, kind, time, heard, duration]"
    i, kind, at, heard, duration = e
    if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < len(rows):
        return f"track {_short(i)} is not an entry of tracks"
    if rows[i] is None:
        return "its track was skipped"
    if kind not in EVENT_KINDS:
        return f"kind {_short(kind)} is not one of {', '.join(EVENT_KINDS)}"
    if not _is_number(at, optional=False):
        return f"time {_short(at)} is not a time"
    if not (_is_number(heard) and _is_number(duration)):
        return f"heard {_short(heard)} or duration {_short(duration)} is not a number of seconds"
    return None


def _edit_problem(e) -> str | None:
    """What is wrong with an edited structure of a backup, or None."""
    if not isinstance(e, dict):
        return "not an object"
    if not isinstance(e.get("content_hash"), str) or not e["content_hash"]:
        return f"content_hash {_short(e.get('content_hash'))} is not text"
    sections = e.get("sections")
    if not isinstance(sections, list):
        return "sections is not a list"
    try:
        for s in sections:
            Section.from_dict(s)
    except (KeyError, TypeError, ValueError) as err:
        return f"a section cannot be read ({type(err).__name__}: {err})"
    if not _is_number(e.get("saved_at")):
        return f"saved_at {_short(e.get('saved_at'))} is not a time"
    return None


_REFUSED = (sqlite3.IntegrityError, sqlite3.DataError, OverflowError, ValueError, TypeError)


def _in_savepoint(c: sqlite3.Connection, step) -> str | None:
    """Run ``step()`` (statements) as one unit inside the open transaction; a value SQLite refuses undoes
    that unit only and is returned as the problem."""
    c.execute("SAVEPOINT entry")
    try:
        step()
    except _REFUSED as e:
        c.execute("ROLLBACK TO entry")
        c.execute("RELEASE entry")
        return f"refused by the database ({e})"
    c.execute("RELEASE entry")
    return None


def _refused(step) -> str | None:
    """Run ``step()`` (one statement: SQLite undoes a refused statement whole); the problem, or None."""
    try:
        step()
    except _REFUSED as e:
        return f"refused by the database ({e})"
    return None


class Library:
    """The SQLite catalogue.  Safe to share between threads; every method is one short transaction.

    Parameters
    ----------
    db_path : path or None
        The database file; default ``platformdirs.user_data_dir('music-explorer')/library.sqlite``.
    cache : AnalysisCache or None
        Where analyses are looked up by :meth:`analysis`; default the user's cache.
    timeout : float
        Seconds to wait for another writer before giving up with :class:`LibraryError`.
    """

    def __init__(self, db_path: str | os.PathLike | None = None, *, cache=None, timeout: float = 10.0):
        self.path = Path(db_path) if db_path is not None else default_db_path()
        # named after the whole file name: music.sqlite and music.db in one folder each have their own
        self.backup_path = self.path.with_name(self.path.name + "-backup.json")
        #: The name versions before gave the backup (``<stem>-backup.json``): read when there is none by the new one.
        self.legacy_backup_path = self.path.with_name(self.path.stem + "-backup.json")
        self.notices: list[str] = []
        self._cache = cache
        self._timeout = timeout
        self._lock = threading.RLock()
        self._inode: tuple[int, int] | None = None  # (device, inode) of the file the connection has open
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise LibraryError(f"{self.path.parent}: cannot create the library folder ({e.strerror})",
                               path=self.path) from None
        for backup in (self.backup_path, self.legacy_backup_path):
            remove_stale_temps(backup)  # left by a process killed while it wrote the backup
        self._conn = self._open()

    # -- opening, checking, migrating --------------------------------------------------------
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
        return _Header(True, not head, sqlite, int.from_bytes(head[68:72], "big") if sqlite else 0,
                       int.from_bytes(head[60:64], "big") if sqlite else 0)

    def _not_ours(self, what: str) -> LibraryError:
        return LibraryError(f"{self.path}: is not a Music Explorer library ({what}); it was left as it is",
                            path=self.path)

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
        return (h.application_id == APPLICATION_ID or self._backup_exists()
                or (h.sqlite and h.application_id == 0 and 1 <= h.user_version <= SCHEMA_VERSION))

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
            self.notices.append(f"{self.path}: the library database was damaged ({e}); it was moved to "
                                f"{moved.name} and a new one was started")
            conn = self._start_fresh(key)
        self._conn = conn
        self._restore_if_empty()
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
            raise LibraryError(f"{self.path}: the library database is damaged ({damage}) and cannot be moved aside "
                               f"({e.strerror}): move it away, or make its folder writable, and start again",
                               path=self.path) from None
        for suffix in ("-wal", "-shm"):
            side = self.path.with_name(self.path.name + suffix)
            if side.exists():
                os.replace(side, target.with_name(target.name + suffix))
        return target

    def _migrate(self, conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise LibraryError(f"{self.path}: the library was written by a newer Music Explorer "
                               f"(schema {version}, this one knows {SCHEMA_VERSION})", path=self.path)
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

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- transactions -------------------------------------------------------------------------
    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as e:
                raise self._failure(e, "write to") from None
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except sqlite3.Error as e:
                # SQLite may have rolled back already (a full disk, an I/O error): then there is nothing to undo
                _rollback(self._conn)
                if isinstance(e, _BUGS):
                    raise
                raise self._failure(e, "write to") from None
            except BaseException:
                _rollback(self._conn)
                raise

    def _query(self, sql: str, params: Sequence = ()) -> list[tuple]:
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except _BUGS:
                raise
            except sqlite3.Error as e:
                raise self._failure(e, "read") from None

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
        return LibraryError(f"{self.path}: the library database is damaged ({e}); {what}"
                            + (f"; {restored}" if restored else "") + ": try again", path=self.path)

    # -- reading the catalogue ----------------------------------------------------------------
    def tracks(self, filter_text: str | None = None, include_missing: bool = True, *, limit: int | None = None,
               offset: int = 0) -> list[Track]:
        """Tracks ordered by path; ``filter_text`` matches title, artist, album, genre or path (any case)."""
        where, params = [], []
        if filter_text:
            like = "%" + filter_text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where.append("(" + " OR ".join(f"{c} LIKE ? ESCAPE '\\'" for c in (
                "title", "artist", "album", "genre_tag", "genre_label", "path")) + ")")
            params += [like] * 6
        if not include_missing:
            where.append("state != 'missing'")
        sql = f"SELECT {_COLUMNS} FROM tracks"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY path"
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params += [int(limit), int(offset)]
        return [Track(*row) for row in self._query(sql, params)]

    def count(self, state: str | None = None) -> int:
        if state is None:
            return self._query("SELECT count(*) FROM tracks")[0][0]
        return self._query("SELECT count(*) FROM tracks WHERE state = ?", (state,))[0][0]

    def track(self, track_id: int) -> Track | None:
        rows = self._query(f"SELECT {_COLUMNS} FROM tracks WHERE id = ?", (int(track_id),))
        return Track(*rows[0]) if rows else None

    def track_by_path(self, path: str | os.PathLike) -> Track | None:
        rows = self._query(f"SELECT {_COLUMNS} FROM tracks WHERE path = ?", (normalize_path(path),))
        return Track(*rows[0]) if rows else None

    def tracks_by_hash(self, content_hash: str) -> list[Track]:
        return [Track(*r) for r in self._query(f"SELECT {_COLUMNS} FROM tracks WHERE content_hash = ? ORDER BY id",
                                               (content_hash,))]

    def resolve(self, ref: str | int) -> Track:
        """The track named by an id (int or digits) or a path.

        Raises
        ------
        LibraryError
            When no track matches.
        """
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit() and not os.path.exists(ref)):
            t = self.track(int(ref))
            if t is None:
                raise LibraryError(f"track {ref}: no such track in {self.path}", path=self.path)
            return t
        t = self.track_by_path(ref)
        if t is None:
            raise LibraryError(f"{ref}: not in the library (scan its folder first)", path=os.fspath(ref))
        return t

    def index_generation(self) -> int:
        """A number that changes whenever anything a recommendation index depends on changes."""
        return self._query("SELECT value FROM meta WHERE key = 'index_gen'")[0][0]

    def index_rows(self) -> list[tuple]:
        """What the recommendation index needs of every analysed track that has an embedding, ordered by id.

        (id, content_hash, artist, tempo, genre_tag, genre_labels (JSON list),
        genre probabilities (float32 bytes, in the order of the labels, or None), embedding (float32 bytes)).
        """
        return self._query("SELECT t.id, t.content_hash, t.artist, t.tempo, t.genre_tag, "
                           "v.genre_labels, v.genre, v.embedding FROM tracks t JOIN vectors v ON v.track_id = t.id "
                           "WHERE t.state = 'analysed' AND v.embedding IS NOT NULL ORDER BY t.id")

    def embeddings(self) -> tuple[np.ndarray, np.ndarray]:
        """(ids (n,) int64, embeddings (n, d) float32) of the analysed tracks that have one.

        Tracks whose embedding length differs from the most common one (an older model) are left out.
        """
        rows = [(r[0], r[7]) for r in self.index_rows()]
        if not rows:
            return np.zeros(0, np.int64), np.zeros((0, 0), np.float32)
        sizes = [len(b) for _, b in rows]
        d = max(set(sizes), key=sizes.count)
        rows = [r for r in rows if len(r[1]) == d]
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        mat = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), d // 4)
        return ids, mat

    def taste_rows(self, *, limit: int = 5000) -> tuple[list[tuple], list[tuple]]:
        """What the listener told us: ([(track_id, rating, rated_at)], [(track_id, kind, at)] of plays/skips)."""
        rated = self._query("SELECT id, rating, rated_at FROM tracks WHERE rating != 0")
        listened = self._query("SELECT track_id, kind, at FROM events WHERE kind IN ('play', 'skip') "
                               "ORDER BY at DESC LIMIT ?", (int(limit),))
        return rated, listened

    # -- files ----------------------------------------------------------------------------
    def add_or_update_file(self, path: str | os.PathLike, *, content_hash: str | None = None) -> Track:
        """Put the file at ``path`` into the catalogue (tags read with mutagen) or refresh its row.

        A new file, or one whose size or modification time changed, is left ``pending`` for analysis.

        Raises
        ------
        FileMissing
            When ``path`` is not a regular file.
        """
        p = normalize_path(path)
        try:
            st = os.stat(p)
        except OSError:
            raise FileMissing(f"{path}: file not found", path=p) from None
        if not stat.S_ISREG(st.st_mode):
            raise FileMissing(f"{path}: is not a regular file", path=p)
        tags = read_tags(p)
        with self._write() as c:
            self._upsert(c, p, st.st_size, st.st_mtime, tags, content_hash)
        return self.track_by_path(p)

    def _upsert(self, c: sqlite3.Connection, path: str, size: int, mtime: float, tags: dict,
                content_hash: str | None) -> int:
        row = c.execute("SELECT id, size, mtime, content_hash, state FROM tracks WHERE path = ?", (path,)).fetchone()
        title = tags.get("title") or Path(path).stem
        values = (title, tags.get("artist", ""), tags.get("album", ""), tags.get("genre_tag", ""), tags.get("year"))
        if row is None:
            cur = c.execute("INSERT INTO tracks(path, title, artist, album, genre_tag, year, size, mtime, "
                            "content_hash, state, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)",
                            (path, *values, size, mtime, content_hash, time.time()))
            return cur.lastrowid
        tid, old_size, old_mtime, old_hash, state = row
        same = (old_size == size and old_mtime == mtime) or (content_hash is not None and content_hash == old_hash)
        new_state = state if same and state in ("analysed", "failed") else "pending"
        c.execute("UPDATE tracks SET title = ?, artist = ?, album = ?, genre_tag = ?, year = ?, size = ?, mtime = ?,"
                  " content_hash = coalesce(?, content_hash), state = ?, error = CASE WHEN ? = 'pending' THEN NULL"
                  " ELSE error END WHERE id = ?",
                  (*values, size, mtime, content_hash, new_state, new_state, tid))
        return tid

    # -- what the scanner records ----------------------------------------------------------
    def upsert_files(self, entries: Sequence[tuple[str, int, float, dict, str | None]]) -> list[int]:
        """Insert or refresh many (path, size, mtime, tags, content_hash) in one transaction; their ids."""
        with self._write() as c:
            return [self._upsert(c, normalize_path(p), size, mtime, tags, h) for p, size, mtime, tags, h in entries]

    def relocate(self, track_id: int, path: str, size: int, mtime: float) -> None:
        """The file of ``track_id`` was moved or renamed to ``path``: keep its row (and its history)."""
        path = normalize_path(path)
        with self._write() as c:
            c.execute("UPDATE tracks SET path = ?, size = ?, mtime = ?, "
                      "state = CASE WHEN state = 'missing' THEN CASE WHEN analysed_at IS NULL THEN 'pending' "
                      "ELSE 'analysed' END ELSE state END WHERE id = ?", (path, size, mtime, int(track_id)))

    def touch(self, track_id: int, size: int, mtime: float) -> None:
        """Same content, new size/mtime stamp (e.g. copied back in place)."""
        with self._write() as c:
            c.execute("UPDATE tracks SET size = ?, mtime = ? WHERE id = ?", (size, mtime, int(track_id)))

    def mark_missing(self, track_ids: Sequence[int]) -> None:
        with self._write() as c:
            c.executemany("UPDATE tracks SET state = 'missing' WHERE id = ?", [(int(i),) for i in track_ids])

    def record_analysis(self, track_id: int, analysis: Analysis, content_hash: str | None = None, *,
                        version: str | None = None) -> None:
        """Store the summary of a finished analysis (duration, tempo, genre, best chorus, embedding).

        ``version`` (default: the running :func:`~explorer.library.cache.analysis_version`) says which
        analysis produced it; a scan by a newer version analyses the track again.
        """
        from explorer.library.cache import analysis_version

        version = version or analysis_version()
        best = max(analysis.choruses, key=lambda ch: ch.confidence, default=None)
        emb = None if analysis.embedding is None else np.ascontiguousarray(analysis.embedding, np.float32).tobytes()
        probs = {k: float(v) for k, v in analysis.genre.probabilities.items() if math.isfinite(v)}
        labels, genre = genre_vector(probs)
        with self._write() as c:
            c.execute("UPDATE tracks SET state = 'analysed', error = NULL, duration = ?, tempo = ?, genre_label = ?,"
                      " genre_json = ?, chorus_start = ?, chorus_end = ?, analysed_at = ?,"
                      " content_hash = coalesce(?, content_hash), analysis_version = ? WHERE id = ?",
                      (analysis.duration, analysis.tempo, analysis.genre.label, json.dumps(probs),
                       None if best is None else best.start, None if best is None else best.end, time.time(),
                       content_hash, version, int(track_id)))
            c.execute("INSERT OR REPLACE INTO vectors(track_id, embedding, genre_labels, genre) VALUES (?, ?, ?, ?)",
                      (int(track_id), emb, labels, genre if probs else None))

    def record_failure(self, track_id: int, reason: str, *, version: str | None = None,
                       permanent: bool = True) -> None:
        """The track could not be analysed, because of ``reason`` (one sentence naming the file).

        A failure that is not ``permanent`` (the computer's, not the file's) keeps the reason but leaves the
        track ``pending``: the next scan tries again.
        """
        from explorer.library.cache import analysis_version

        with self._write() as c:
            c.execute("UPDATE tracks SET state = ?, error = ?, analysis_version = ? WHERE id = ?",
                      ("failed" if permanent else "pending", reason, version or analysis_version(), int(track_id)))

    def mark_pending(self, track_ids: Sequence[int]) -> None:
        """Analyse these tracks again at the next scan (e.g. a newer analysis version is running)."""
        with self._write() as c:
            c.executemany("UPDATE tracks SET state = 'pending' WHERE id = ? AND state != 'missing'",
                          [(int(i),) for i in track_ids])

    def mark_analysing(self, track_ids: Sequence[int]) -> None:
        """These tracks are being analysed now (a scan that dies leaves them to the next one, like pending)."""
        with self._write() as c:
            c.executemany("UPDATE tracks SET state = 'analysing' WHERE id = ? AND state = 'pending'",
                          [(int(i),) for i in track_ids])

    def set_genres(self, genres: Sequence[tuple[int, str | None, dict[str, float]]]) -> None:
        """Replace the predicted genre of tracks: (track_id, label, probabilities) each, in one transaction
        (another genre model took over; see :mod:`explorer.genre.own`)."""
        rows = []
        for tid, label, probs in genres:
            probs = {str(k): float(v) for k, v in probs.items() if math.isfinite(v)}
            labels, vec = genre_vector(probs)
            rows.append((label, json.dumps(probs), int(tid), labels, vec if probs else None))
        with self._write() as c:
            for label, doc, tid, labels, vec in rows:
                c.execute("UPDATE tracks SET genre_label = ?, genre_json = ? WHERE id = ?", (label, doc, tid))
                c.execute("UPDATE vectors SET genre_labels = ?, genre = ? WHERE track_id = ?", (labels, vec, tid))

    def remove_tracks(self, track_ids: Sequence[int]) -> int:
        """Remove tracks from the catalogue (with their history); the files are left alone.

        Returns how many rows were removed.  Edited structures stay (they are keyed by content and
        come back if the song is added again).
        """
        ids = [(int(i),) for i in track_ids]
        with self._write() as c:
            c.executemany("DELETE FROM events WHERE track_id = ?", ids)
            c.executemany("DELETE FROM vectors WHERE track_id = ?", ids)
            removed = sum(c.execute("DELETE FROM tracks WHERE id = ?", i).rowcount for i in ids)
        if removed:
            self.write_backup()
        return removed

    # -- what the listener tells us -------------------------------------------------------------
    def _rate(self, track_id: int, rating: int, kind: str) -> None:
        now = time.time()
        with self._write() as c:
            cur = c.execute("UPDATE tracks SET rating = ?, rated_at = ? WHERE id = ?", (rating, now, int(track_id)))
            if cur.rowcount == 0:
                raise LibraryError(f"track {track_id}: no such track in {self.path}", path=self.path)
            c.execute("INSERT INTO events(track_id, kind, at) VALUES (?, ?, ?)", (int(track_id), kind, now))
        self.write_backup()

    def like(self, track_id: int) -> None:
        self._rate(track_id, 1, "like")

    def dislike(self, track_id: int) -> None:
        self._rate(track_id, -1, "dislike")

    def unlike(self, track_id: int) -> None:
        """Forget a like or a dislike."""
        self._rate(track_id, 0, "unlike")

    def record_play(self, track_id: int, heard_seconds: float, duration: float | None = None) -> str:
        """Record a listen; returns its kind: ``play`` (≥ 50 % heard), ``skip`` (< 10 %) or ``partial``."""
        t = self.track(track_id)
        if t is None:
            raise LibraryError(f"track {track_id}: no such track in {self.path}", path=self.path)
        duration = duration if duration else t.duration
        frac = heard_seconds / duration if duration else 0.0
        kind = "play" if frac >= PLAY_FRACTION else "skip" if frac < SKIP_FRACTION else "partial"
        with self._write() as c:
            c.execute("INSERT INTO events(track_id, kind, at, heard, duration) VALUES (?, ?, ?, ?, ?)",
                      (int(track_id), kind, time.time(), float(heard_seconds), duration))
            if kind != "partial":
                col = "play_count" if kind == "play" else "skip_count"
                c.execute(f"UPDATE tracks SET {col} = {col} + 1 WHERE id = ?", (int(track_id),))
        self.write_backup()  # a partial listen too: it is in the history
        return kind

    def history(self, limit: int = 50) -> list[HistoryEntry]:
        """The latest likes, dislikes, plays and skips, newest first."""
        rows = self._query("SELECT e.at, e.kind, t.id, t.path, t.title, t.artist, e.heard FROM events e "
                           "JOIN tracks t ON t.id = e.track_id ORDER BY e.at DESC, e.id DESC LIMIT ?", (int(limit),))
        return [HistoryEntry(*r) for r in rows]

    # -- edited structures ----------------------------------------------------------------------
    def _hash_of(self, key: str | int) -> str:
        if isinstance(key, int):
            t = self.track(key)
            if t is None or not t.content_hash:
                raise LibraryError(f"track {key}: no such analysed track in {self.path}", path=self.path)
            return t.content_hash
        return key

    def save_structure_edits(self, key: str | int, sections: Sequence[Section]) -> None:
        """Keep the user's own sections for a song (by content hash or track id), committed at once."""
        h = self._hash_of(key)
        doc = json.dumps([s.to_dict() for s in sections])
        with self._write() as c:
            c.execute("INSERT INTO edits(content_hash, sections, saved_at) VALUES (?, ?, ?) ON CONFLICT(content_hash)"
                      " DO UPDATE SET sections = excluded.sections, saved_at = excluded.saved_at",
                      (h, doc, time.time()))
        self.write_backup()

    def clear_structure_edits(self, key: str | int) -> None:
        h = self._hash_of(key)
        with self._write() as c:
            c.execute("DELETE FROM edits WHERE content_hash = ?", (h,))
        self.write_backup()

    def structure_edits(self, key: str | int) -> tuple[Section, ...] | None:
        """The user's sections for a song, or None when it was never edited."""
        try:
            h = self._hash_of(key)
        except LibraryError:
            return None
        rows = self._query("SELECT sections FROM edits WHERE content_hash = ?", (h,))
        return tuple(Section.from_dict(d) for d in json.loads(rows[0][0])) if rows else None

    def apply_edits(self, analysis: Analysis, content_hash: str | None) -> Analysis:
        """``analysis`` with the user's edited sections (and the choruses they mark), if any."""
        edited = self.structure_edits(content_hash) if content_hash else None
        if edited is None:
            return analysis
        choruses = tuple(Chorus(s.start, s.end, 1.0) for s in edited if s.function == "chorus")
        return analysis.replace(sections=edited, choruses=choruses or analysis.choruses)

    def analysis(self, track_id: int) -> Analysis | None:
        """The track's full analysis from the cache (with the user's edits), or None when not cached."""
        t = self.track(track_id)
        if t is None or not t.content_hash:
            return None
        if self._cache is None:
            from explorer.library.cache import default_cache

            self._cache = default_cache()
        hit = self._cache.lookup(t.content_hash)
        return None if hit is None else self.apply_edits(hit.replace(file=t.path), t.content_hash)

    # -- the JSON backup of the user's own data -------------------------------------------------
    def user_data(self) -> dict:
        """What :meth:`write_backup` saves: ``tracks`` (rated, played or in the history), ``events``
        (the history, newest first, each ``[index into tracks, kind, at, heard, duration]``) and ``edits``."""
        events = self._query("SELECT track_id, kind, at, heard, duration FROM events ORDER BY at DESC, id DESC "
                             "LIMIT ?", (BACKUP_EVENTS,))
        in_history = sorted({e[0] for e in events})
        marks = ",".join("?" * len(in_history))
        tracks = self._query("SELECT id, path, content_hash, rating, rated_at, play_count, skip_count FROM tracks "
                             "WHERE rating != 0 OR play_count > 0 OR skip_count > 0"
                             + (f" OR id IN ({marks})" if in_history else "") + " ORDER BY id", tuple(in_history))
        index = {row[0]: i for i, row in enumerate(tracks)}
        edits = self._query("SELECT content_hash, sections, saved_at FROM edits ORDER BY content_hash")
        return {"schema": BACKUP_SCHEMA, "saved_at": time.time(), "database": self.path.name,
                "tracks": [{"path": p, "content_hash": h, "rating": r, "rated_at": ra, "play_count": pc,
                            "skip_count": sc} for _, p, h, r, ra, pc, sc in tracks],
                "events": [[index[t], kind, at, heard, dur] for t, kind, at, heard, dur in events],
                "edits": [{"content_hash": h, "sections": json.loads(s), "saved_at": at} for h, s, at in edits]}

    def write_backup(self) -> None:
        """Export ratings, play counts, the recent history and edits to :attr:`backup_path` (atomically).

        The change itself is already committed to the database; a backup that cannot be written
        (full disk, read-only folder) is reported in :attr:`notices`, not raised.
        """
        try:
            atomic_write_text(self.backup_path, json.dumps(self.user_data(), indent=1))
        except ExplorerError as e:
            self.notices.append(f"the backup of your ratings could not be written: {e.message}")

    def restore_backup(self, path: str | os.PathLike | None = None) -> int:
        """Bring back ratings, play counts, the history and edits from a backup; returns the number
        of tracks restored (see :meth:`restore_user_data`, which also says what was skipped).

        Raises
        ------
        LibraryError
            When the backup cannot be read at all, or the catalogue cannot be written.
        """
        return self.restore_user_data(path).tracks

    def restore_user_data(self, path: str | os.PathLike | None = None, *,
                          only_if_empty: bool = False) -> Restored | None:
        """Bring back ratings, play counts, the history and edits from a backup (default: :attr:`backup_path`).

        Tracks are matched by content hash, then by path; a track the catalogue does not know is added
        (``pending`` if its file is there, ``missing`` if not) so that a scan finds it again.  History
        entries the catalogue already has (same track, kind and time) are not added twice; backups
        written before the history was saved simply have none.  Every entry is checked first and
        restored on its own: a damaged one (a rating of 5, a time that is not a number …) is skipped,
        with the history entries of a skipped track, and the rest comes back.  With ``only_if_empty``,
        nothing is done (None is returned) when the catalogue has tracks or edits by then.

        Raises
        ------
        BackupUnreadable
            When the backup cannot be read or is not one of ours.
        LibraryError
            When the catalogue cannot be written.
        """
        src = Path(path) if path is not None else self.backup_path
        try:
            doc = json.loads(read_regular_file(src, follow_symlinks=True).decode("utf-8"))
            if not isinstance(doc, dict) or doc.get("schema") != BACKUP_SCHEMA:
                raise ValueError("unknown schema")
        except (OSError, ValueError) as e:  # (UnicodeDecodeError and JSONDecodeError are ValueErrors)
            raise BackupUnreadable(f"{src}: cannot read the backup ({e})", path=src) from None
        problems: list[str] = []
        parts = {}
        for name in ("tracks", "events", "edits"):
            parts[name] = doc.get(name, [])
            if not isinstance(parts[name], list):
                problems.append(f"{name}: not a list")
                parts[name] = []
        tracks = events = edits = dropped = 0
        rows: list[int | None] = []  # catalogue id of every track of the backup, in its order (None: skipped)
        with self._write() as c:
            if only_if_empty and c.execute("SELECT EXISTS(SELECT 1 FROM tracks) OR EXISTS(SELECT 1 FROM edits)"
                                           ).fetchone()[0]:
                return None
            for i, t in enumerate(parts["tracks"]):
                problem = _track_problem(t) or _in_savepoint(c, lambda t=t: rows.append(self._restore_track(c, t)))
                if problem:
                    rows.append(None)
                    problems.append(f"tracks[{i}]: {problem}")
                elif t.get("rating") or t.get("play_count") or t.get("skip_count"):
                    tracks += 1
            for i, e in enumerate(parts["events"]):
                problem = _event_problem(e, rows)
                if problem == "its track was skipped":
                    dropped += 1
                    continue
                problem = problem or _refused(lambda e=e: c.execute(
                    "INSERT INTO events(track_id, kind, at, heard, duration) SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS "
                    "(SELECT 1 FROM events WHERE track_id = ? AND kind = ? AND at = ?)",
                    (rows[e[0]], e[1], float(e[2]), e[3], e[4], rows[e[0]], e[1], float(e[2]))))
                if problem:
                    problems.append(f"events[{i}]: {problem}")
                else:
                    events += 1
            for i, e in enumerate(parts["edits"]):
                problem = _edit_problem(e) or _refused(lambda e=e: c.execute(
                    "INSERT OR REPLACE INTO edits(content_hash, sections, saved_at) VALUES (?, ?, ?)",
                    (e["content_hash"], json.dumps(e["sections"]),
                     float(e["saved_at"]) if e.get("saved_at") is not None else time.time())))
                if problem:
                    problems.append(f"edits[{i}]: {problem}")
                else:
                    edits += 1
        return Restored(tracks, events, edits, problems, dropped)

    def _restore_track(self, c: sqlite3.Connection, t: dict) -> int:
        """Restore one (checked) track entry of a backup; its catalogue id."""
        row = None
        if t.get("content_hash"):
            row = c.execute("SELECT id FROM tracks WHERE content_hash = ? ORDER BY id", (t["content_hash"],)).fetchone()
        if row is None:
            row = c.execute("SELECT id FROM tracks WHERE path = ?", (t["path"],)).fetchone()
        if row is None:
            state = "pending" if os.path.isfile(t["path"]) else "missing"
            cur = c.execute("INSERT INTO tracks(path, title, content_hash, state, added_at) VALUES (?, ?, ?, ?, ?)",
                            (t["path"], Path(t["path"]).stem, t.get("content_hash"), state, time.time()))
            row = (cur.lastrowid,)
        if t.get("rating") or t.get("play_count") or t.get("skip_count"):
            # (a track only in the history keeps its rating here, if any: it is newer than the backup)
            c.execute("UPDATE tracks SET rating = ?, rated_at = ?, play_count = max(play_count, ?), "
                      "skip_count = max(skip_count, ?) WHERE id = ?",
                      (int(t.get("rating", 0)), t.get("rated_at"), int(t.get("play_count", 0)),
                       int(t.get("skip_count", 0)), row[0]))
        return row[0]

    def _backup_source(self) -> Path | None:
        for path in (self.backup_path, self.legacy_backup_path):
            if path.is_file():
                return path
        return None

    def _restore_if_empty(self) -> None:
        """A catalogue without tracks or edits while its backup exists (just started after damage, a restore cut
        short, a file lost) gets the user's data back; what happened goes to :attr:`notices`."""
        src = self._backup_source()
        if src is None:
            return
        try:  # (checked again inside the restore's transaction: another process may be restoring too)
            if self._query("SELECT EXISTS(SELECT 1 FROM tracks) OR EXISTS(SELECT 1 FROM edits)")[0][0]:
                return
            result = self.restore_user_data(src, only_if_empty=True)
        except BackupUnreadable as e:  # nothing in it can come back: set aside, so that it is not tried again
            self.notices.append(f"{e.message}; ratings and edits were not restored{self._keep_aside(src, move=True)}")
            return
        except LibraryError as e:
            self.notices.append(f"{e.message}; ratings and edits were not restored from {src.name}")
            return
        if result is None or not (result.tracks or result.events or result.edits or result.problems):
            return
        notice = f"{self.path}: restored {result.tracks} tracks' ratings, plays and edits from {src.name}"
        if result.problems or result.dropped:
            n = len(result.problems)
            shown = "; ".join(result.problems[:3]) + ("; …" if n > 3 else "")
            notice += f"; skipped {n} damaged {'entry' if n == 1 else 'entries'} ({shown})"
            if result.dropped:
                notice += f" and {result.dropped} history {'entry' if result.dropped == 1 else 'entries'} of them"
            notice += self._keep_aside(src, move=False)
            self.write_backup()  # the backup now says what the catalogue has; the copy kept aside says the rest
        self.notices.append(notice)

    def _keep_aside(self, src: Path, *, move: bool) -> str:
        """Keep the backup ``src`` as ``<name>.unrestored-<time>``: the next backup must not overwrite the only
        copy of what could not be restored.  Returns the words for a notice."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = src.with_name(f"{src.name}.unrestored-{stamp}")
        n = 1
        while target.exists():
            target = src.with_name(f"{src.name}.unrestored-{stamp}-{n}")
            n += 1
        try:
            if move:
                os.replace(src, target)
            else:
                shutil.copy2(src, target)
        except OSError as e:
            return f"; it could not be kept aside ({e.strerror}): copy {src.name} somewhere safe"
        return f"; the backup as it was is kept as {target.name}"

    # -- health ----------------------------------------------------------------------------------
    def integrity_check(self) -> str:
        """``PRAGMA integrity_check``: 'ok' when the file is sound."""
        return "; ".join(r[0] for r in self._query("PRAGMA integrity_check"))
