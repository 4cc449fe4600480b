"""The catalogue's rows as Python values: :class:`Track` and :class:`HistoryEntry`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple


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
