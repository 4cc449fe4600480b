"""The bundled demo songs: small, decodable, in step with their ground truth and with the script that made them."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from explorer.audio.decode import AUDIO_EXTENSIONS, decode

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "resources" / "demo"
TRUTHS = sorted(DEMO.glob("*.json"))


def load_script():
    spec = importlib.util.spec_from_file_location("make_demo_songs", ROOT / "tools" / "make_demo_songs.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def test_there_are_a_few_small_songs():
    audio = [p for p in DEMO.iterdir() if p.suffix in AUDIO_EXTENSIONS]
    assert len(audio) >= 4 and len(TRUTHS) == len(audio)
    assert sum(p.stat().st_size for p in audio) < 4.2 * 2**20
    assert len({json.loads(p.read_text())["genre"] for p in TRUTHS}) == len(TRUTHS), "each song in its own style"


@pytest.mark.parametrize("truth_path", TRUTHS, ids=[p.stem for p in TRUTHS])
def test_song_matches_its_ground_truth(truth_path):
    truth = json.loads(truth_path.read_text())
    b = decode(DEMO / truth["file"])
    assert 60 <= b.duration <= 120
    assert b.duration == pytest.approx(truth["duration"], abs=0.03)
    sections = truth["sections"]
    assert sections[0]["start"] == 0 and sections[-1]["end"] <= truth["duration"]
    for a, z in zip(sections, sections[1:]):
        assert a["end"] == z["start"]
    functions = [s["function"] for s in sections]
    assert functions.count("chorus") >= 3 and functions.count("verse") >= 2 and "bridge" in functions
    # the same material has the same label
    for f in ("verse", "chorus"):
        assert len({s["label"] for s in sections if s["function"] == f}) == 1
    assert [(c["start"], c["end"]) for c in truth["choruses"]] == [
        (s["start"], s["end"]) for s in sections if s["function"] == "chorus"
    ]
    # the hook opens every chorus
    hooks = truth["motifs"][0]["occurrences"]
    for c in truth["choruses"]:
        assert any(abs(h["start"] - c["start"]) < 1e-6 for h in hooks)
    # the beats are evenly spaced at the tempo, with a downbeat at every section boundary
    beats = np.array(truth["beats"])
    np.testing.assert_allclose(np.diff(beats), 60.0 / truth["tempo"], atol=2e-3)
    downbeats = set(truth["downbeats"])
    assert all(s["start"] in downbeats for s in sections)
    # the choruses are louder than the verses: the arrangement builds
    y = b.mono()

    def level(fn):
        parts = [y[int(s["start"] * b.sr) : int(s["end"] * b.sr)] for s in sections if s["function"] == fn]
        return np.sqrt(np.mean(np.concatenate(parts) ** 2))

    assert level("chorus") > 1.1 * level("verse")
    assert np.abs(b.samples).max() < 1.0, "no clipping"


def test_the_midi_files_are_what_the_script_writes(tmp_path):
    script = load_script()
    for style in script.SONGS:
        parts, plan = script.arrange(style)
        out = tmp_path / f"{style.slug}.mid"
        script.write_midi(style, parts, out)
        assert out.read_bytes() == (DEMO / f"{style.slug}.mid").read_bytes(), style.slug
        truth = script.ground_truth(style, plan, "x", 100.0)
        committed = json.loads((DEMO / f"{style.slug}.json").read_text())
        assert truth["sections"] == committed["sections"] and truth["motifs"] == committed["motifs"]
