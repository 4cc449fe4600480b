"""What a recommendation's ▶ plays of a song: its chorus, else its most representative section."""

from __future__ import annotations

from explorer.library.store import Library, Track

#: Longest preview when a song has no detected chorus and no analysis to pick a section from (seconds).
FALLBACK_PREVIEW = 20.0
#: Longest preview of a representative section, when a song has no chorus (seconds).
MAX_SECTION_PREVIEW = 30.0


def preview_region(library: Library, track: Track) -> tuple[float, float]:
    """What ▶ plays of ``track``: its detected chorus, else its most representative section.

    The most representative section is the longest section of the label that covers the most time
    among labels that repeat (any label when none repeats); at most its first
    :data:`MAX_SECTION_PREVIEW` seconds are played.  Without any analysis: up to
    :data:`FALLBACK_PREVIEW` seconds from a third of the way in.
    """
    if track.chorus is not None:
        return track.chorus
    analysis = library.analysis(track.id)
    if analysis is not None and analysis.choruses:
        best = max(analysis.choruses, key=lambda c: c.confidence)
        return best.start, best.end
    if analysis is not None and analysis.sections:
        by_label: dict[str, list] = {}
        for s in analysis.sections:
            by_label.setdefault(s.label, []).append(s)
        repeated = {k: v for k, v in by_label.items() if len(v) > 1} or by_label
        label = max(repeated, key=lambda k: sum(s.end - s.start for s in repeated[k]))
        best = max(repeated[label], key=lambda s: s.end - s.start)
        return best.start, min(best.end, best.start + MAX_SECTION_PREVIEW)
    duration = track.duration or (analysis.duration if analysis is not None else 0.0)
    if duration <= FALLBACK_PREVIEW:
        return 0.0, float(duration or FALLBACK_PREVIEW)
    start = duration / 3
    return start, min(duration, start + FALLBACK_PREVIEW)
