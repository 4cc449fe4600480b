"""The JAMS header names the song: its tags, or its file name when it has none."""

from __future__ import annotations

import json

from conftest import tone, write_audio

from explorer.analysis.types import Analysis
from explorer.export.formats import render


def _jams_of(path) -> dict:
    return json.loads(render(Analysis(file=str(path), duration=1.0, sample_rate=22050, channels=1), "jams"))


def test_jams_title_from_the_file_name_when_untagged(tmp_path):
    song = write_audio(tmp_path / "Lovely Day (demo).flac", tone(1.0, 22050), 22050)
    meta = _jams_of(song)["file_metadata"]
    assert meta["title"] == "Lovely Day (demo)" and meta["artist"] == ""


def test_jams_title_and_artist_from_the_tags(tmp_path):
    song = write_audio(
        tmp_path / "track01.flac",
        tone(1.0, 22050),
        22050,
        codec_args=("-metadata", "title=Real Title", "-metadata", "artist=Someone"),
    )
    meta = _jams_of(song)["file_metadata"]
    assert (meta["title"], meta["artist"]) == ("Real Title", "Someone")


def test_jams_of_a_missing_file_keeps_its_name(tmp_path):
    assert _jams_of(tmp_path / "gone.mp3")["file_metadata"]["title"] == "gone"
