"""How the song's structure looks: the colours of labels, motifs and choruses, the lanes' proportions,
the pens its items draw with, and the texts that describe a section, a chorus or an occurrence.

The items themselves are one module each (section bands, beat grid, section and motif lanes,
spans); :class:`~explorer.ui.song.structure_overlay.StructureOverlay` puts them into the waveform
view.  Each kind of static shape records its shapes once into a ``QPicture`` and replays it on every
paint, with a bounding rect that covers the song, and is added with ``ignoreBounds=True`` so it
never changes the view's auto-range.  Names are painted in device coordinates (they must not
stretch with the zoom).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPen

from explorer.analysis.types import Chorus, Motif, Section
from explorer.ui.song.time_axis import format_time

if TYPE_CHECKING:
    pass

#: Colours of section labels (A, B, C … in this order), chosen to be told apart on dark and light.
LABEL_COLORS = (
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#b07aa1",
    "#76b7b2",
    "#edc948",
    "#ff9da7",
    "#9c755f",
    "#e15759",
    "#bab0ac",
)
#: Colours of motifs, in order of their ids.
MOTIF_COLORS = ("#17becf", "#e377c2", "#bcbd22", "#ff7f0e", "#9467bd", "#2ca02c", "#d62728", "#8c564b")
CHORUS_COLOR = QColor("#ffcc33")
#: Motif rows shown in the motif lane (the best-scoring motifs).
MAX_MOTIF_ROWS = 6
#: The section lane: names in [0, SECTION_TOP], choruses in [CHORUS_BOTTOM, 1].
SECTION_TOP = 0.62
CHORUS_BOTTOM = 0.68


def label_color(label: str) -> QColor:
    """The colour of a section label: the same label always gets the same colour."""
    key = label.strip().upper()
    if len(key) == 1 and "A" <= key <= "Z":
        i = ord(key) - ord("A")
    else:
        i = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=2).digest(), "big")
    return QColor(LABEL_COLORS[i % len(LABEL_COLORS)])


def motif_color(motif_id: int) -> QColor:
    return QColor(MOTIF_COLORS[int(motif_id) % len(MOTIF_COLORS)])


def cosmetic_pen(color: QColor, width: float = 1.0, style=Qt.PenStyle.SolidLine) -> QPen:
    pen = QPen(color)
    pen.setCosmetic(True)
    pen.setWidthF(width)
    pen.setStyle(style)
    return pen


def with_alpha(color: QColor, alpha: int) -> QColor:
    c = QColor(color)
    c.setAlpha(alpha)
    return c


def describe_section(s: Section) -> str:
    return (
        f"{format_time(s.start, 1)}–{format_time(s.end, 1)} · {s.label} · {s.function.capitalize()} · "
        f"confidence {s.confidence:.2f}"
    )


def describe_chorus(c: Chorus) -> str:
    return f"{format_time(c.start, 1)}–{format_time(c.end, 1)} · Chorus · confidence {c.confidence:.2f}"


def describe_occurrence(m: Motif, k: int) -> str:
    o = m.occurrences[k]
    return (
        f"{format_time(o.start, 1)}–{format_time(o.end, 1)} · motif {m.id + 1}, occurrence {k + 1} of "
        f"{len(m.occurrences)} · score {m.score:.2f}"
    )
