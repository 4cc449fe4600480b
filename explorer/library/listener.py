"""What the listener tells the catalogue: likes and dislikes, listens, and edited structures.
:class:`ListenerData` is a part of :class:`~explorer.library.store.Library`; every change is
committed at once and then written to the JSON backup."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

from explorer.analysis.edits import with_sections
from explorer.analysis.types import Analysis, Section
from explorer.errors import LibraryError
from explorer.library.schema import PLAY_FRACTION, SKIP_FRACTION
from explorer.library.tracks import HistoryEntry, Track

if TYPE_CHECKING:
    from explorer.library.cache import AnalysisCache


class ListenerData:
    """Ratings, the listening history and edited structures, for :class:`~explorer.library.store.Library`."""

    if TYPE_CHECKING:
        path: Path
        _cache: AnalysisCache | None

        def _write(self) -> AbstractContextManager[sqlite3.Connection]: ...

        def _query(self, sql: str, params: Sequence = ()) -> list[tuple]: ...

        def track(self, track_id: int) -> Track | None: ...

        def write_backup(self) -> None: ...

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
            c.execute(
                "INSERT INTO events(track_id, kind, at, heard, duration) VALUES (?, ?, ?, ?, ?)",
                (int(track_id), kind, time.time(), float(heard_seconds), duration),
            )
            if kind != "partial":
                col = "play_count" if kind == "play" else "skip_count"
                c.execute(f"UPDATE tracks SET {col} = {col} + 1 WHERE id = ?", (int(track_id),))
        self.write_backup()  # a partial listen too: it is in the history
        return kind

    def history(self, limit: int = 50) -> list[HistoryEntry]:
        """The latest likes, dislikes, plays and skips, newest first."""
        rows = self._query(
            "SELECT e.at, e.kind, t.id, t.path, t.title, t.artist, e.heard FROM events e "
            "JOIN tracks t ON t.id = e.track_id ORDER BY e.at DESC, e.id DESC LIMIT ?",
            (int(limit),),
        )
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
            c.execute(
                "INSERT INTO edits(content_hash, sections, saved_at) VALUES (?, ?, ?) ON CONFLICT(content_hash)"
                " DO UPDATE SET sections = excluded.sections, saved_at = excluded.saved_at",
                (h, doc, time.time()),
            )
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
        return with_sections(analysis, sections=edited)

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
