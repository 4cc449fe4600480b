"""The catalogue: one SQLite file with the user's tracks, likes, listening history and edits.

Durability
----------
- WAL journal, ``synchronous=FULL``: a committed like, play or edit is on disk when the call
  returns, and survives a crash or a ``kill -9`` at any moment.
- Every change runs in one ``BEGIN IMMEDIATE`` transaction; SQLite lets one writer at a time
  in (others wait up to ``timeout`` seconds), so a scan in another process and the window can
  share the file.  Inside a process one connection is shared under a lock: every call is short.
- The file format and its migrations: :mod:`explorer.library.schema`; opening only a file of ours, and
  a damaged one: :mod:`explorer.library.opening`; the JSON backup of the user's own data:
  :mod:`explorer.library.backup`.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from explorer.analysis.types import Analysis
from explorer.errors import FileMissing, LibraryError
from explorer.library.backup import Backup, BackupUnreadable, Restored
from explorer.library.listener import ListenerData
from explorer.library.opening import _BUGS, Opening, _rollback
from explorer.library.schema import (
    _COLUMNS,
    APPLICATION_ID,
    BACKUP_EVENTS,
    EVENT_KINDS,
    MIGRATIONS,
    PLAY_FRACTION,
    SCHEMA_VERSION,
    SKIP_FRACTION,
    STATES,
    genre_vector,
)
from explorer.library.tags import read_tags
from explorer.library.tracks import HistoryEntry, Track
from explorer.util.fs import remove_stale_temps

#: What other modules import from here (the catalogue's names, wherever they are defined).
__all__ = [
    "APPLICATION_ID",
    "BACKUP_EVENTS",
    "EVENT_KINDS",
    "MIGRATIONS",
    "PLAY_FRACTION",
    "SCHEMA_VERSION",
    "SKIP_FRACTION",
    "STATES",
    "BackupUnreadable",
    "HistoryEntry",
    "Library",
    "Restored",
    "Track",
    "default_db_path",
    "genre_vector",
    "normalize_path",
    "read_tags",
]


def default_db_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("music-explorer")) / "library.sqlite"


def normalize_path(path: str | os.PathLike) -> str:
    """How a file is named in the catalogue: absolute, normalised, symlinks kept."""
    return os.path.normpath(os.path.abspath(os.fspath(path)))


class Library(Opening, Backup, ListenerData):
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
            raise LibraryError(
                f"{self.path.parent}: cannot create the library folder ({e.strerror})", path=self.path
            ) from None
        for backup in (self.backup_path, self.legacy_backup_path):
            remove_stale_temps(backup)  # left by a process killed while it wrote the backup
        self._conn = self._open()

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

    # -- reading the catalogue ----------------------------------------------------------------
    def tracks(
        self, filter_text: str | None = None, include_missing: bool = True, *, limit: int | None = None, offset: int = 0
    ) -> list[Track]:
        """Tracks ordered by path; ``filter_text`` matches title, artist, album, genre or path (any case)."""
        where: list[str] = []
        params: list[str | int] = []
        if filter_text:
            like = "%" + filter_text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where.append(
                "("
                + " OR ".join(
                    f"{c} LIKE ? ESCAPE '\\'" for c in ("title", "artist", "album", "genre_tag", "genre_label", "path")
                )
                + ")"
            )
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
        return [
            Track(*r)
            for r in self._query(f"SELECT {_COLUMNS} FROM tracks WHERE content_hash = ? ORDER BY id", (content_hash,))
        ]

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
        return self._query(
            "SELECT t.id, t.content_hash, t.artist, t.tempo, t.genre_tag, "
            "v.genre_labels, v.genre, v.embedding FROM tracks t JOIN vectors v ON v.track_id = t.id "
            "WHERE t.state = 'analysed' AND v.embedding IS NOT NULL ORDER BY t.id"
        )

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
        listened = self._query(
            "SELECT track_id, kind, at FROM events WHERE kind IN ('play', 'skip') ORDER BY at DESC LIMIT ?",
            (int(limit),),
        )
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
        track = self.track_by_path(p)
        assert track is not None  # (just written)
        return track

    def _upsert(
        self,
        c: sqlite3.Connection,
        path: str,
        size: int | None,
        mtime: float | None,
        tags: dict,
        content_hash: str | None,
    ) -> int:
        row = c.execute("SELECT id, size, mtime, content_hash, state FROM tracks WHERE path = ?", (path,)).fetchone()
        title = tags.get("title") or Path(path).stem
        values = (title, tags.get("artist", ""), tags.get("album", ""), tags.get("genre_tag", ""), tags.get("year"))
        if row is None:
            cur = c.execute(
                "INSERT INTO tracks(path, title, artist, album, genre_tag, year, size, mtime, "
                "content_hash, state, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)",
                (path, *values, size, mtime, content_hash, time.time()),
            )
            assert cur.lastrowid is not None  # (an INSERT)
            return cur.lastrowid
        tid, old_size, old_mtime, old_hash, state = row
        same = (old_size == size and old_mtime == mtime) or (content_hash is not None and content_hash == old_hash)
        new_state = state if same and state in ("analysed", "failed") else "pending"
        c.execute(
            "UPDATE tracks SET title = ?, artist = ?, album = ?, genre_tag = ?, year = ?, size = ?, mtime = ?,"
            " content_hash = coalesce(?, content_hash), state = ?, error = CASE WHEN ? = 'pending' THEN NULL"
            " ELSE error END WHERE id = ?",
            (*values, size, mtime, content_hash, new_state, new_state, tid),
        )
        return tid

    # -- what the scanner records ----------------------------------------------------------
    def upsert_files(self, entries: Sequence[tuple[str, int | None, float | None, dict, str | None]]) -> list[int]:
        """Insert or refresh many (path, size, mtime, tags, content_hash) in one transaction; their ids."""
        with self._write() as c:
            return [self._upsert(c, normalize_path(p), size, mtime, tags, h) for p, size, mtime, tags, h in entries]

    def relocate(self, track_id: int, path: str, size: int, mtime: float) -> None:
        """The file of ``track_id`` was moved or renamed to ``path``: keep its row (and its history)."""
        path = normalize_path(path)
        with self._write() as c:
            c.execute(
                "UPDATE tracks SET path = ?, size = ?, mtime = ?, "
                "state = CASE WHEN state = 'missing' THEN CASE WHEN analysed_at IS NULL THEN 'pending' "
                "ELSE 'analysed' END ELSE state END WHERE id = ?",
                (path, size, mtime, int(track_id)),
            )

    def touch(self, track_id: int, size: int, mtime: float) -> None:
        """Same content, new size/mtime stamp (e.g. copied back in place)."""
        with self._write() as c:
            c.execute("UPDATE tracks SET size = ?, mtime = ? WHERE id = ?", (size, mtime, int(track_id)))

    def mark_missing(self, track_ids: Sequence[int]) -> None:
        with self._write() as c:
            c.executemany("UPDATE tracks SET state = 'missing' WHERE id = ?", [(int(i),) for i in track_ids])

    def record_analysis(
        self, track_id: int, analysis: Analysis, content_hash: str | None = None, *, version: str | None = None
    ) -> None:
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
            c.execute(
                "UPDATE tracks SET state = 'analysed', error = NULL, duration = ?, tempo = ?, genre_label = ?,"
                " genre_json = ?, chorus_start = ?, chorus_end = ?, analysed_at = ?,"
                " content_hash = coalesce(?, content_hash), analysis_version = ? WHERE id = ?",
                (
                    analysis.duration,
                    analysis.tempo,
                    analysis.genre.label,
                    json.dumps(probs),
                    None if best is None else best.start,
                    None if best is None else best.end,
                    time.time(),
                    content_hash,
                    version,
                    int(track_id),
                ),
            )
            c.execute(
                "INSERT OR REPLACE INTO vectors(track_id, embedding, genre_labels, genre) VALUES (?, ?, ?, ?)",
                (int(track_id), emb, labels, genre if probs else None),
            )

    def record_failure(self, track_id: int, reason: str, *, version: str | None = None, permanent: bool = True) -> None:
        """The track could not be analysed, because of ``reason`` (one sentence naming the file).

        A failure that is not ``permanent`` (the computer's, not the file's) keeps the reason but leaves the
        track ``pending``: the next scan tries again.
        """
        from explorer.library.cache import analysis_version

        with self._write() as c:
            c.execute(
                "UPDATE tracks SET state = ?, error = ?, analysis_version = ? WHERE id = ?",
                ("failed" if permanent else "pending", reason, version or analysis_version(), int(track_id)),
            )

    def mark_pending(self, track_ids: Sequence[int]) -> None:
        """Analyse these tracks again at the next scan (e.g. a newer analysis version is running)."""
        with self._write() as c:
            c.executemany(
                "UPDATE tracks SET state = 'pending' WHERE id = ? AND state != 'missing'",
                [(int(i),) for i in track_ids],
            )

    def mark_analysing(self, track_ids: Sequence[int]) -> None:
        """These tracks are being analysed now (a scan that dies leaves them to the next one, like pending)."""
        with self._write() as c:
            c.executemany(
                "UPDATE tracks SET state = 'analysing' WHERE id = ? AND state = 'pending'",
                [(int(i),) for i in track_ids],
            )

    def set_genres(self, genres: Sequence[tuple[int, str | None, dict[str, float]]]) -> None:
        """Replace the predicted genre of tracks: (track_id, label, probabilities) each, in one transaction
        (another genre model took over; see :mod:`explorer.genre.own`)."""
        rows: list[tuple] = []
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

    # -- health ----------------------------------------------------------------------------------
    def integrity_check(self) -> str:
        """``PRAGMA integrity_check``: 'ok' when the file is sound."""
        return "; ".join(r[0] for r in self._query("PRAGMA integrity_check"))
