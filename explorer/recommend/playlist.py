"""M3U8 playlists with paths relative to the playlist's folder."""

from __future__ import annotations

import os

from explorer.fsutil import atomic_write_text


def m3u8_entry(path: str, base: str) -> str | None:
    """How ``path`` is written in a playlist in folder ``base``; None when it cannot be (line breaks).

    Paths are relative (``os.path.relpath``) with ``/`` separators; one that would start with ``#``
    (a comment to players) is written ``./#…``.
    """
    if "\n" in path or "\r" in path:
        return None
    rel = os.path.relpath(os.path.abspath(path), os.path.abspath(base)).replace(os.sep, "/")
    return "./" + rel if rel.startswith("#") else rel


def write_m3u8(out: str | os.PathLike, entries, *, overwrite: bool = False) -> list[str]:
    """Write ``entries`` [(path, Track or None)] as an extended M3U8 at ``out``; returns the paths left out.

    Raises
    ------
    ExplorerError
        When ``out`` exists and ``overwrite`` is False, or cannot be written.
    """
    base = os.path.dirname(os.path.abspath(out))
    lines, skipped = ["#EXTM3U"], []
    for path, track in entries:
        rel = m3u8_entry(path, base)
        if rel is None:
            skipped.append(path)
            continue
        if track is not None:
            secs = int(round(track.duration)) if track.duration else -1
            name = track.display_name.replace("\n", " ").replace("\r", " ")
            lines.append(f"#EXTINF:{secs},{name}")
        lines.append(rel)
    atomic_write_text(out, "\n".join(lines) + "\n", overwrite=overwrite)
    return skipped
