"""Structure edits: pure functions from a tuple of sections to a new tuple of sections.

Sections stay contiguous and in time order; an edited section gets ``confidence=1.0`` (it is the
user's word).  Functions that cannot apply (an index out of range, a cut too near a boundary)
return the sections unchanged, so a caller can always compare before and after.

:func:`with_sections` is the one rule that turns edited sections into an analysis: the sections
marked ``"chorus"`` become the choruses, and when none is marked the analysis keeps its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from explorer.analysis.types import Analysis, Chorus, Section

__all__ = [
    "MIN_SECTION",
    "section_index_at",
    "split_section",
    "merge_with_next",
    "move_boundary",
    "rename_section",
    "edited_choruses",
    "with_sections",
]

#: Shortest section an edit may leave, in seconds.
MIN_SECTION = 0.5


def section_index_at(sections: Sequence[Section], *, time: float) -> int | None:
    """The index of the section that contains a time.

    Parameters
    ----------
    sections : sequence of Section, length n
        Contiguous sections in time order.
    time : float
        Seconds from the start of the song.

    Returns
    -------
    index : int or None
        ``i`` with ``sections[i].start <= time < sections[i].end``; the last section for a time at
        its very end; None when no section contains ``time``.
    """
    for i, s in enumerate(sections):
        if s.start <= time < s.end:
            return i
    if sections and abs(time - sections[-1].end) < 1e-9:
        return len(sections) - 1
    return None


def split_section(sections: Sequence[Section], *, at: float, min_length: float = MIN_SECTION) -> tuple[Section, ...]:
    """Cut the section that contains a time in two; both halves keep its label and function.

    Parameters
    ----------
    sections : sequence of Section, length n
    at : float
        Seconds; where the cut goes.
    min_length : float > 0
        Seconds; the cut is refused when either half would be shorter.

    Returns
    -------
    sections : tuple of Section, length n + 1 (or n when the cut is refused)
    """
    i = section_index_at(sections, time=at)
    if i is None:
        return tuple(sections)
    s = sections[i]
    if at - s.start < min_length or s.end - at < min_length:
        return tuple(sections)
    return (*sections[:i], replace(s, end=at, confidence=1.0), replace(s, start=at, confidence=1.0), *sections[i + 1 :])


def merge_with_next(sections: Sequence[Section], *, index: int) -> tuple[Section, ...]:
    """Join a section and the one after it; the result keeps the label and function of the first.

    Parameters
    ----------
    sections : sequence of Section, length n
    index : int
        The first of the two sections, ``0 <= index < n - 1``.

    Returns
    -------
    sections : tuple of Section, length n - 1 (or n when ``index`` is out of range)
    """
    if not 0 <= index < len(sections) - 1:
        return tuple(sections)
    merged = replace(sections[index], end=sections[index + 1].end, confidence=1.0)
    return (*sections[:index], merged, *sections[index + 2 :])


def move_boundary(
    sections: Sequence[Section], *, index: int, to: float, min_length: float = MIN_SECTION
) -> tuple[Section, ...]:
    """Move the boundary between sections ``index - 1`` and ``index``.

    Parameters
    ----------
    sections : sequence of Section, length n
    index : int
        The section whose start moves, ``0 < index < n``.
    to : float
        Seconds; the new boundary, clamped to leave both neighbours at least ``min_length`` long.
    min_length : float > 0
        Seconds.

    Returns
    -------
    sections : tuple of Section, length n
    """
    if not 0 < index < len(sections):
        return tuple(sections)
    a, b = sections[index - 1], sections[index]
    t = float(min(max(to, a.start + min_length), b.end - min_length))
    if t <= a.start or t >= b.end:
        return tuple(sections)
    return (
        *sections[: index - 1],
        replace(a, end=t, confidence=1.0),
        replace(b, start=t, confidence=1.0),
        *sections[index + 1 :],
    )


def rename_section(
    sections: Sequence[Section], *, index: int, label: str | None = None, function: str | None = None
) -> tuple[Section, ...]:
    """Give a section a new label and/or function.

    Parameters
    ----------
    sections : sequence of Section, length n
    index : int
        ``0 <= index < n``.
    label, function : str or None
        The new values; None keeps the old one.

    Returns
    -------
    sections : tuple of Section, length n
    """
    s = sections[index]
    changed = replace(
        s,
        label=s.label if label is None else label,
        function=s.function if function is None else function,
        confidence=1.0,
    )
    return (*sections[:index], changed, *sections[index + 1 :])


def edited_choruses(sections: Sequence[Section]) -> tuple[Chorus, ...]:
    """The choruses that edited sections mark: one per section whose function is ``"chorus"``.

    Parameters
    ----------
    sections : sequence of Section

    Returns
    -------
    choruses : tuple of Chorus
        With ``confidence=1.0``; empty when no section is marked.
    """
    return tuple(Chorus(s.start, s.end, 1.0) for s in sections if s.function == "chorus")


def with_sections(analysis: Analysis, *, sections: Sequence[Section]) -> Analysis:
    """An analysis with edited sections, and the choruses they mark.

    Parameters
    ----------
    analysis : Analysis
    sections : sequence of Section
        The user's sections of the same song.

    Returns
    -------
    analysis : Analysis
        ``sections`` replaced; ``choruses`` from :func:`edited_choruses`, or the analysis' own
        choruses when no section is marked as chorus.
    """
    return analysis.replace(sections=tuple(sections), choruses=edited_choruses(sections) or analysis.choruses)
