"""The JSON backup of the user's own data (ratings, play counts, the recent listening history, edited
structures) beside the catalogue, and restoring from it entry by entry.  :class:`Backup` is a part of
:class:`~explorer.library.store.Library`.

- The user's own data (ratings, play counts, the latest :data:`BACKUP_EVENTS` entries of the
  listening history, edited structures) is also exported to a plain JSON file,
  ``<database file name>-backup.json`` beside the database, after every change of it.  A restore
  checks every entry, skips (and reports) the damaged ones and restores the rest; a backup that
  could not be restored whole is first copied to ``<backup>.unrestored-<time>``, so that the
  next backup never overwrites the only copy of what was skipped.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sqlite3
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from explorer.analysis.types import Section
from explorer.errors import ExplorerError, LibraryError
from explorer.library.schema import BACKUP_EVENTS, BACKUP_SCHEMA, EVENT_KINDS
from explorer.util.fs import atomic_write_text, read_regular_file


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


class Backup:
    """Writing and restoring the backup, for :class:`~explorer.library.store.Library`."""

    if TYPE_CHECKING:
        path: Path
        backup_path: Path
        legacy_backup_path: Path
        notices: list[str]

        def _write(self) -> AbstractContextManager[sqlite3.Connection]: ...

        def _query(self, sql: str, params: Sequence = ()) -> list[tuple]: ...

    def user_data(self) -> dict:
        """What :meth:`write_backup` saves: ``tracks`` (rated, played or in the history), ``events``
        (the history, newest first, each ``[index into tracks, kind, at, heard, duration]``) and ``edits``."""
        events = self._query(
            "SELECT track_id, kind, at, heard, duration FROM events ORDER BY at DESC, id DESC LIMIT ?", (BACKUP_EVENTS,)
        )
        in_history = sorted({e[0] for e in events})
        marks = ",".join("?" * len(in_history))
        tracks = self._query(
            "SELECT id, path, content_hash, rating, rated_at, play_count, skip_count FROM tracks "
            "WHERE rating != 0 OR play_count > 0 OR skip_count > 0"
            + (f" OR id IN ({marks})" if in_history else "")
            + " ORDER BY id",
            tuple(in_history),
        )
        index = {row[0]: i for i, row in enumerate(tracks)}
        edits = self._query("SELECT content_hash, sections, saved_at FROM edits ORDER BY content_hash")
        return {
            "schema": BACKUP_SCHEMA,
            "saved_at": time.time(),
            "database": self.path.name,
            "tracks": [
                {"path": p, "content_hash": h, "rating": r, "rated_at": ra, "play_count": pc, "skip_count": sc}
                for _, p, h, r, ra, pc, sc in tracks
            ],
            "events": [[index[t], kind, at, heard, dur] for t, kind, at, heard, dur in events],
            "edits": [{"content_hash": h, "sections": json.loads(s), "saved_at": at} for h, s, at in edits],
        }

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
        restored = self.restore_user_data(path)
        assert restored is not None  # (None only with only_if_empty)
        return restored.tracks

    def restore_user_data(
        self, path: str | os.PathLike | None = None, *, only_if_empty: bool = False
    ) -> Restored | None:
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
        except (OSError, ValueError) as err:  # (UnicodeDecodeError and JSONDecodeError are ValueErrors)
            raise BackupUnreadable(f"{src}: cannot read the backup ({err})", path=src) from None
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
            if (
                only_if_empty
                and c.execute("SELECT EXISTS(SELECT 1 FROM tracks) OR EXISTS(SELECT 1 FROM edits)").fetchone()[0]
            ):
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
                problem = problem or _refused(
                    lambda e=e: c.execute(
                        "INSERT INTO events(track_id, kind, at, heard, duration) SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS "
                        "(SELECT 1 FROM events WHERE track_id = ? AND kind = ? AND at = ?)",
                        (rows[e[0]], e[1], float(e[2]), e[3], e[4], rows[e[0]], e[1], float(e[2])),
                    )
                )
                if problem:
                    problems.append(f"events[{i}]: {problem}")
                else:
                    events += 1
            for i, e in enumerate(parts["edits"]):
                problem = _edit_problem(e) or _refused(
                    lambda e=e: c.execute(
                        "INSERT OR REPLACE INTO edits(content_hash, sections, saved_at) VALUES (?, ?, ?)",
                        (
                            e["content_hash"],
                            json.dumps(e["sections"]),
                            float(e["saved_at"]) if e.get("saved_at") is not None else time.time(),
                        ),
                    )
                )
                if problem:
                    problems.append(f"edits[{i}]: {problem}")
                else:
                    edits += 1
        return Restored(tracks, events, edits, problems, dropped)

    def _restore_track(self, c: sqlite3.Connection, t: dict) -> int:
        """Restore one (checked) track entry of a backup; its catalogue id."""
        row: tuple | None = None
        if t.get("content_hash"):
            row = c.execute("SELECT id FROM tracks WHERE content_hash = ? ORDER BY id", (t["content_hash"],)).fetchone()
        if row is None:
            row = c.execute("SELECT id FROM tracks WHERE path = ?", (t["path"],)).fetchone()
        if row is None:
            state = "pending" if os.path.isfile(t["path"]) else "missing"
            cur = c.execute(
                "INSERT INTO tracks(path, title, content_hash, state, added_at) VALUES (?, ?, ?, ?, ?)",
                (t["path"], Path(t["path"]).stem, t.get("content_hash"), state, time.time()),
            )
            row = (cur.lastrowid,)
        if t.get("rating") or t.get("play_count") or t.get("skip_count"):
            # (a track only in the history keeps its rating here, if any: it is newer than the backup)
            c.execute(
                "UPDATE tracks SET rating = ?, rated_at = ?, play_count = max(play_count, ?), "
                "skip_count = max(skip_count, ?) WHERE id = ?",
                (
                    int(t.get("rating", 0)),
                    t.get("rated_at"),
                    int(t.get("play_count", 0)),
                    int(t.get("skip_count", 0)),
                    row[0],
                ),
            )
        return int(row[0])

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
