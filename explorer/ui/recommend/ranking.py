"""Ranking recommendations in the background: a task of the sidebar, and the rows it produces."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from explorer.errors import ExplorerError
from explorer.library.store import Library
from explorer.recommend import recommend, why_nothing
from explorer.recommend.preview import preview_region
from explorer.ui.tasks import Task

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Item:
    """One row of the sidebar."""

    path: str
    track_id: int
    title: str
    artist: str
    genre: str
    score: float
    reasons: tuple[str, ...]
    region: tuple[float, float]
    rating: int


class RankTask(Task):
    """Optionally rate a track or record a listen, then rank recommendations for ``seed`` (with no
    seed and ``for_you``, for the listener's taste alone).

    Runs in the ``recommend`` lane (one thread, in order: a rating lands before the ranking after
    it).  Sends ``partial(rid, "rated", (path, rating, previous))`` and
    ``partial(rid, "listened", (path, kind, heard))``; finishes with ``(seed, [Item], why)`` (``why``:
    :func:`~explorer.recommend.why_nothing` when there is no item, else ``""``), or with
    None when there is nothing to rank for or a newer request overtook it (``latest()`` differs
    from its request id).  A cancel skips the ranking; a rating or listen is always written.
    """

    LANE = "recommend"
    CHECK_CANCEL = False

    def __init__(
        self,
        request: int,
        *,
        connection: dict,
        latest,
        seed: str | None,
        for_you: bool = False,
        mode: str,
        k: int,
        rate: tuple[int, int] | None = None,
        listen: tuple[str, float, float] | None = None,
    ):
        super().__init__(request)
        self.connection, self.latest = connection, latest
        self.seed, self.mode, self.k, self.rate, self.listen = seed, mode, k, rate, listen
        self.for_you = for_you

    def _library(self) -> Library:
        lib = self.connection.get("library")
        if lib is None:  # the lane's own connection: the GUI thread's is never held up by a ranking
            lib = self.connection["library"] = Library(self.connection["db_path"])
        return lib

    def work(self):
        if not self.connection.get("closed"):
            return self._work(self._library(), rank=True)
        # the sidebar has shut down and closed the lane's connection: a rating or listen still
        # queued is written through a connection of its own, closed at once, so that no connection
        # outlives the window (SQLite folds its write-ahead log into the file only when the last one
        # closes); there is nobody left to rank for
        if self.rate is None and self.listen is None:
            return None
        with Library(self.connection["db_path"]) as lib:
            return self._work(lib, rank=False)

    def _work(self, lib: Library, *, rank: bool):
        if self.rate is not None:
            track_id, rating = self.rate
            before = lib.track(track_id)
            (lib.like if rating > 0 else lib.dislike if rating < 0 else lib.unlike)(track_id)
            if before is not None:
                self.send("rated", (before.path, rating, before.rating))
        if self.listen is not None:
            path, heard, duration = self.listen
            track = lib.track_by_path(path)
            if track is not None:  # a song opened from outside the library is not in its history
                kind = lib.record_play(track.id, heard, duration)
                self.send("listened", (path, kind, heard))
        if (
            not rank
            or (self.seed is None and not self.for_you)
            or self.request_id != self.latest()
            or self.is_cancelled()
        ):
            return None  # nothing to rank for, or overtaken by a newer request: do not rank for nothing
        try:
            recs = recommend(lib, self.seed, k=self.k, mode=self.mode)
        except ExplorerError:
            raise
        except Exception as e:  # a bug: say so in the window (not "Ranking…" forever), and let it be seen
            log.exception("ranking failed")
            raise ExplorerError(
                f"Recommendations failed because of an internal error ({type(e).__name__}: {e})."
            ) from e
        items = []
        for r in recs:
            t = r.track
            items.append(
                Item(
                    t.path,
                    t.id,
                    t.title or os.path.splitext(os.path.basename(t.path))[0],
                    t.artist,
                    t.genre_label or t.genre_tag or "",
                    float(r.score),
                    tuple(r.reasons),
                    preview_region(lib, t),
                    t.rating,
                )
            )
        why = "" if items else why_nothing(lib, self.seed, mode=self.mode)
        return self.seed, items, why
