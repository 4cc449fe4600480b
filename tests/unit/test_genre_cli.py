"""`music-explorer genre predict`: JSON lines of the documented shape, errors per the CLI convention."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from conftest import tone
from timing import budget

from explorer.genre.model import MODEL_DIR_ENV, models_dir
from explorer.genre.train import VOCABULARY


def run(*argv: str, env=None) -> subprocess.CompletedProcess:
    import os

    return subprocess.run(
        [sys.executable, "-m", "explorer", *argv],
        capture_output=True,
        text=True,
        timeout=budget(300),
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )


def test_predict_json_lines_and_an_error_for_a_bad_file(make_audio, tmp_path):
    sr = 22050
    song = make_audio("song one.mp3", tone(5.0, sr, freq=330.0, channels=2), sr, "-b:a", "128k")
    clicks = np.zeros((4 * sr, 1), np.float32)
    clicks[:: sr // 4] = 0.9
    beat = make_audio("beat.flac", clicks, sr)
    broken = tmp_path / "broken.mp3"
    broken.write_bytes(b"ID3 this is not audio" * 20)
    r = run("genre", "predict", str(song), str(broken), str(beat), "--json")
    assert r.returncode == 2
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    assert [d["file"] for d in lines] == [str(song), str(beat)]
    for d in lines:
        assert set(d) == {"file", "label", "probabilities", "uncertain", "confidence", "model"}
        assert d["model"] == "default" and isinstance(d["uncertain"], bool)
        assert d["confidence"] == pytest.approx(max(d["probabilities"].values()), abs=1e-3)
        assert tuple(d["probabilities"]) == VOCABULARY
        assert d["label"] == max(d["probabilities"], key=d["probabilities"].get)
        assert abs(sum(d["probabilities"].values()) - 1) < 1e-3
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("music-explorer: error: ")
    assert "broken.mp3" in r.stderr and "Traceback" not in r.stderr

    text = run("genre", "predict", str(song))
    assert text.returncode == 0
    shown = "uncertain · " if lines[0]["uncertain"] else ""
    assert text.stdout.startswith(f"{song}: {shown}{lines[0]['label']} (")


def test_predict_with_a_tampered_model_fails_cleanly(make_audio, tmp_path):
    folder = tmp_path / "models"
    shutil.copytree(models_dir(), folder)
    onnx = folder / "MSD_musicnn.onnx"
    onnx.write_bytes(onnx.read_bytes()[:-100])
    song = make_audio("song.wav", tone(1.0, 22050), 22050)
    r = run("genre", "predict", str(song), "--json", env={MODEL_DIR_ENV: str(folder)})
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith("music-explorer: error: ") and r.stderr.count("\n") == 1
    assert "MSD_musicnn.onnx" in r.stderr and "damaged" in r.stderr
