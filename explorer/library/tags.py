"""What a song's own tags say (title, artist, album, genre, year), read with mutagen."""

from __future__ import annotations


def read_tags(path: str) -> dict:
    """title, artist, album, genre_tag (str) and year (int or None) from the file's tags; {} if none."""
    try:
        import mutagen

        f = mutagen.File(path, easy=True)
    except Exception:  # noqa: BLE001 - mutagen raises many kinds on bad files; tags are optional
        return {}
    if f is None or not getattr(f, "tags", None):
        return {}

    def first(key):
        try:
            v = f.tags.get(key)
        except (KeyError, ValueError, TypeError):
            return ""
        return str(v[0]).strip() if v else ""

    out = {"title": first("title"), "artist": first("artist"), "album": first("album"), "genre_tag": first("genre")}
    date = first("date")
    out["year"] = int(date[:4]) if date[:4].isdigit() else None
    return out
