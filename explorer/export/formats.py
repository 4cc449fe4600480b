"""Turn an :class:`~explorer.analysis.types.Analysis` into the text of an export format.

``json`` (the stable analysis schema), ``jams`` (JAMS with ``segment_open`` and ``beat``
annotations), ``lab`` (MIREX: ``start end label`` per line) and ``audacity`` (an
Audacity label track: ``start<TAB>end<TAB>label``).
"""

from __future__ import annotations

import json
import os

from explorer.analysis.types import Analysis

FORMATS = ("json", "jams", "lab", "audacity")
#: File name extension of each format.
EXTENSIONS = {"json": ".json", "jams": ".jams", "lab": ".lab", "audacity": ".txt"}


def _section_name(s) -> str:
    return f"{s.label} {s.function}" if s.function and s.function != "other" else s.label


def to_json(a: Analysis) -> str:
    return json.dumps(a.to_dict(), indent=2, ensure_ascii=False) + "\n"


def to_lab(a: Analysis) -> str:
    return "".join(f"{s.start:.3f}\t{s.end:.3f}\t{_section_name(s)}\n" for s in a.sections)


def to_audacity(a: Analysis) -> str:
    return "".join(f"{s.start:.6f}\t{s.end:.6f}\t{_section_name(s)}\n" for s in a.sections)


def file_title(path: str | os.PathLike | None) -> tuple[str, str]:
    """(title, artist) of an audio file: its tags where it has them, else its file name without extension."""
    stem = os.path.splitext(os.path.basename(os.fspath(path)))[0] if path else ""
    try:
        import mutagen  # noqa: PLC0415 - only for the JAMS header

        f = mutagen.File(os.fspath(path), easy=True) if path else None
        tags = f.tags if f is not None and getattr(f, "tags", None) else {}
        title = str((tags.get("title") or [""])[0]).strip()
        artist = str((tags.get("artist") or [""])[0]).strip()
    except Exception:  # noqa: BLE001 - mutagen raises many kinds on bad files; tags are optional
        title, artist = "", ""
    return title or stem, artist


def to_jams(a: Analysis) -> str:
    """JAMS: ``title`` and ``artist`` from the file's tags (the title from the file name when untagged)."""
    from explorer import __version__

    meta = {
        "curator": {"name": "", "email": ""},
        "annotator": {"name": "Music Explorer", "version": __version__},
        "version": a.version,
        "corpus": "",
        "annotation_tools": "music-explorer",
        "annotation_rules": "",
        "validation": "",
        "data_source": "automatic analysis",
    }
    seg = {
        "namespace": "segment_open",
        "annotation_metadata": meta,
        "sandbox": {},
        "time": 0,
        "duration": round(a.duration, 6),
        "data": [
            {
                "time": round(s.start, 6),
                "duration": round(s.end - s.start, 6),
                "value": _section_name(s),
                "confidence": round(s.confidence, 4),
            }
            for s in a.sections
        ],
    }
    beat = {
        "namespace": "beat",
        "annotation_metadata": meta,
        "sandbox": {},
        "time": 0,
        "duration": round(a.duration, 6),
        "data": [{"time": round(b, 6), "duration": 0.0, "value": None, "confidence": None} for b in a.beats],
    }
    title, artist = file_title(a.file)
    doc = {
        "file_metadata": {
            "title": title,
            "artist": artist,
            "release": "",
            "duration": round(a.duration, 6),
            "identifiers": {},
            "jams_version": "0.3.4",
        },
        "annotations": [seg, beat],
        "sandbox": {"music_explorer": {"file": a.file}},
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def render(a: Analysis, fmt: str) -> str:
    """The text of ``a`` in format ``fmt`` (one of :data:`FORMATS`)."""
    try:
        return {"json": to_json, "jams": to_jams, "lab": to_lab, "audacity": to_audacity}[fmt](a)
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}") from None
