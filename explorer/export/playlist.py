"""M3U8 playlists with paths relative to the playlist's folder."""

from __future__ import annotations

import os
import re
import sys

from explorer.util.fs import atomic_write_text

#: The ``out`` that means standard output.
STDOUT = "-"


def m3u8_entry(path: str, base: str) -> str | None:
    """How ``path`` is written in a playlist in folder ``base``; None when it cannot be (line breaks, non-UTF-8).

    Paths are relative (``os.path.relpath``) with ``/`` separators; one that would start with ``#``
    (a comment to players) or look like a URL (``http:…``) is written ``./…``.
    """
    if "\n" in path or "\r" in path:
        return None
    try:  # M3U8 is UTF-8: a name in other bytes cannot be written so that a player finds the file
        path.encode("utf-8")
    except UnicodeEncodeError:
        return None
    rel = os.path.relpath(os.path.abspath(path), os.path.abspath(base)).replace(os.sep, "/")
    # "#…" would be a comment, "http:…" a URL to players: "./" keeps both a relative path
    return "./" + rel if rel.startswith("#") or re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", rel) else rel


def write_m3u8(out: str | os.PathLike, entries, *, overwrite: bool = False) -> list[str]:
    """Write ``entries`` [(path, Track or None)] as an extended M3U8 at ``out``; returns the paths left out.

    ``out`` ``"-"`` is standard output (paths then relative to the current folder).

    Raises
    ------
    ExplorerError
        When ``out`` exists and ``overwrite`` is False, or cannot be written.
    """
    to_stdout = os.fspath(out) == STDOUT
    base = os.getcwd() if to_stdout else os.path.dirname(os.path.abspath(out))
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
    if to_stdout:
        sys.stdout.write("\n".join(lines) + "\n")
    else:
        atomic_write_text(out, "\n".join(lines) + "\n", overwrite=overwrite)
    return skipped
