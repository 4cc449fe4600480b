"""The results of analysis: frozen dataclasses that turn into the stable JSON schema.

``music-explorer/analysis/1`` (all times in seconds from the start of the file)::

    {"schema", "file", "duration", "sample_rate", "channels", "tempo", "meter", "beats": [s],
     "downbeats": [s],
     "sections": [{"start", "end", "label", "function", "confidence"}],
     "choruses": [{"start", "end", "confidence"}],
     "motifs": [{"id", "occurrences": [{"start", "end"}], "score"}],
     "genre": {"label", "probabilities": {}}, "timings": {}, "warnings": [str], "version",
     "chorus_note": str, "key_change": {"at": s, "semitones"} or null}

``chorus_note`` says why a song has no chorus (empty when it has one); ``key_change`` where the song
moves to another key for good and by how many semitones (positive: up), when it does.

Fields may be added; none named above is ever removed or renamed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SCHEMA = "music-explorer/analysis/1"
#: Functions a section can have.
FUNCTIONS = ("intro", "verse", "pre-chorus", "chorus", "bridge", "instrumental", "outro", "other")


def _r(x: float, nd: int = 3) -> float:
    return round(float(x), nd)


@dataclass(frozen=True)
class Section:
    start: float
    end: float
    label: str
    function: str = "other"
    confidence: float = 0.0

    def to_dict(self) -> dict:
        return {
            "start": _r(self.start),
            "end": _r(self.end),
            "label": self.label,
            "function": self.function,
            "confidence": _r(self.confidence),
        }

    @classmethod
    def from_dict(cls, d: dict) -> Section:
        return cls(
            float(d["start"]),
            float(d["end"]),
            str(d["label"]),
            str(d.get("function", "other")),
            float(d.get("confidence", 0.0)),
        )


@dataclass(frozen=True)
class Chorus:
    start: float
    end: float
    confidence: float = 0.0

    def to_dict(self) -> dict:
        return {"start": _r(self.start), "end": _r(self.end), "confidence": _r(self.confidence)}

    @classmethod
    def from_dict(cls, d: dict) -> Chorus:
        return cls(float(d["start"]), float(d["end"]), float(d.get("confidence", 0.0)))


@dataclass(frozen=True)
class Occurrence:
    start: float
    end: float

    def to_dict(self) -> dict:
        return {"start": _r(self.start), "end": _r(self.end)}


@dataclass(frozen=True)
class Motif:
    id: int
    occurrences: tuple[Occurrence, ...]
    score: float = 0.0

    def to_dict(self) -> dict:
        return {"id": int(self.id), "occurrences": [o.to_dict() for o in self.occurrences], "score": _r(self.score)}

    @classmethod
    def from_dict(cls, d: dict) -> Motif:
        return cls(
            int(d["id"]),
            tuple(Occurrence(float(o["start"]), float(o["end"])) for o in d["occurrences"]),
            float(d.get("score", 0.0)),
        )


@dataclass(frozen=True)
class Genre:
    label: str | None = None
    probabilities: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"label": self.label, "probabilities": {k: _r(v, 4) for k, v in self.probabilities.items()}}

    @classmethod
    def from_dict(cls, d: dict | None) -> Genre:
        d = d or {}
        return cls(d.get("label"), {str(k): float(v) for k, v in (d.get("probabilities") or {}).items()})


@dataclass(frozen=True, eq=False)
class Analysis:
    """Everything known about one song's structure.

    ``tempo`` is in beats per minute and ``meter`` in beats per bar (3 for a waltz, 4 for common
    time, 2 for 6/8 counted in dotted quarters: the tracker reports no other); both are None when
    no steady beat was found.

    ``recurrence`` (shape ``(n_beats, n_beats)``, float32 in [0, 1]) is the beat-synchronous
    self-similarity matrix; ``recurrence_times`` (shape ``(n_beats + 1,)``) the edges of its
    cells in seconds.  They are kept for the GUI and the cache but are not part of the JSON.
    """

    file: str | None
    duration: float
    sample_rate: int
    channels: int
    tempo: float | None = None
    meter: int | None = None
    beats: tuple[float, ...] = ()
    downbeats: tuple[float, ...] = ()
    sections: tuple[Section, ...] = ()
    choruses: tuple[Chorus, ...] = ()
    motifs: tuple[Motif, ...] = ()
    genre: Genre = field(default_factory=Genre)
    timings: dict[str, float] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    version: str = ""
    recurrence: np.ndarray | None = field(default=None, repr=False)
    recurrence_times: np.ndarray | None = field(default=None, repr=False)
    embedding: np.ndarray | None = field(default=None, repr=False)
    chorus_note: str = ""
    key_change: tuple[float, int] | None = None

    def to_dict(self) -> dict:
        return {
            "schema": SCHEMA,
            "file": self.file,
            "duration": _r(self.duration),
            "sample_rate": int(self.sample_rate),
            "channels": int(self.channels),
            "tempo": None if self.tempo is None else _r(self.tempo, 2),
            "meter": None if self.meter is None else int(self.meter),
            "beats": [_r(b) for b in self.beats],
            "downbeats": [_r(b) for b in self.downbeats],
            "sections": [s.to_dict() for s in self.sections],
            "choruses": [c.to_dict() for c in self.choruses],
            "motifs": [m.to_dict() for m in self.motifs],
            "genre": self.genre.to_dict(),
            "timings": {k: _r(v, 4) for k, v in self.timings.items()},
            "warnings": list(self.warnings),
            "version": self.version,
            "chorus_note": self.chorus_note,
            "key_change": (
                None
                if self.key_change is None
                else {"at": _r(self.key_change[0]), "semitones": int(self.key_change[1])}
            ),
        }

    @classmethod
    def from_dict(cls, d: dict, *, recurrence=None, recurrence_times=None, embedding=None) -> Analysis:
        if d.get("schema") != SCHEMA:
            raise ValueError(f"not a {SCHEMA} document")
        return cls(
            file=d.get("file"),
            duration=float(d["duration"]),
            sample_rate=int(d["sample_rate"]),
            channels=int(d["channels"]),
            tempo=None if d.get("tempo") is None else float(d["tempo"]),
            meter=None if d.get("meter") is None else int(d["meter"]),
            beats=tuple(float(b) for b in d.get("beats", ())),
            downbeats=tuple(float(b) for b in d.get("downbeats", ())),
            sections=tuple(Section.from_dict(s) for s in d.get("sections", ())),
            choruses=tuple(Chorus.from_dict(c) for c in d.get("choruses", ())),
            motifs=tuple(Motif.from_dict(m) for m in d.get("motifs", ())),
            genre=Genre.from_dict(d.get("genre")),
            timings={str(k): float(v) for k, v in (d.get("timings") or {}).items()},
            warnings=tuple(d.get("warnings", ())),
            version=str(d.get("version", "")),
            recurrence=recurrence,
            recurrence_times=recurrence_times,
            embedding=embedding,
            chorus_note=str(d.get("chorus_note", "")),
            key_change=_key_change(d.get("key_change")),
        )

    def replace(self, **changes) -> Analysis:
        from dataclasses import replace

        return replace(self, **changes)


def _key_change(d) -> tuple[float, int] | None:
    if not isinstance(d, dict) or d.get("at") is None or d.get("semitones") is None:
        return None
    return float(d["at"]), int(d["semitones"])
