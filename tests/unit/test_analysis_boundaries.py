"""The learned boundary strength (explorer.analysis.boundaries): its inputs, its output, its model file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from songgen import make_song
from timing import budget

from explorer.analysis import boundaries, structure
from explorer.errors import ExplorerError
from explorer.util.modelfiles import MODEL_DIR_ENV, models_dir

UNITS_PER_BAR = 4
BARS = 8


def _song_units(plan: str, *, seed: int = 0):
    """Unit-level features of a song whose sections follow ``plan`` (8 bars each, 4 units per bar).

    Every letter has its own 4-bar chord loop, timbre and loudness, so a section change is a change
    of harmony, sound and level at once, and the loop restarts every 4 bars inside a section.
    """
    rng = np.random.default_rng(seed)
    letters = sorted(set(plan))
    chords = {c: rng.random((12, 4)) ** 3 for c in letters}
    timbre = {c: rng.normal(size=(13, 1)) for c in letters}
    level = {c: 0.3 + 0.5 * i / max(1, len(letters) - 1) for i, c in enumerate(letters)}
    chroma, mfcc, rms = [], [], []
    for c in plan:
        for bar in range(BARS):
            chroma.append(np.repeat(chords[c][:, [bar % 4]], UNITS_PER_BAR, axis=1))
            mfcc.append(np.repeat(timbre[c], UNITS_PER_BAR, axis=1))
            rms.append(np.full(UNITS_PER_BAR, level[c]))
    n = len(plan) * BARS * UNITS_PER_BAR
    chroma_a = np.hstack(chroma) + 0.05 * rng.random((12, n))
    mfcc_a = np.hstack(mfcc) + 0.3 * rng.normal(size=(13, n))
    rms_a = np.concatenate(rms)
    R, R_path = structure.recurrence(chroma_a, mfcc_a)
    down = np.zeros(n + 1, dtype=bool)
    down[::UNITS_PER_BAR] = True
    return dict(
        R=R,
        R_path=R_path,
        chroma=chroma_a,
        mfcc=mfcc_a,
        rms=rms_a,
        fullness=rms_a,
        downbeat=down,
        units_per_bar=UNITS_PER_BAR,
    )


def test_inputs_have_one_row_per_position_and_are_finite():
    units = _song_units("ABAB")
    n = units["R"].shape[0]
    F = boundaries.unit_features(**units)
    base = boundaries.base_features(**{k: v for k, v in units.items() if k != "downbeat"})
    assert F.dtype == np.float32 and np.isfinite(F).all()
    assert F.shape == (n + 1, base.shape[1] * len(boundaries.CONTEXT_HALF_BARS) + 3)
    # the shipped network reads exactly these inputs
    assert boundaries.load_model()["mean"].shape == (F.shape[1],)


@pytest.mark.parametrize("n", [0, 1, 3])
def test_tiny_songs_give_zero_inputs_of_the_same_width(n):
    rng = np.random.default_rng(1)
    chroma, mfcc = rng.random((12, n)), rng.normal(size=(13, n))
    R = np.ones((n, n), np.float32)
    F = boundaries.unit_features(
        R=R,
        R_path=R,
        chroma=chroma,
        mfcc=mfcc,
        rms=np.ones(n),
        fullness=np.ones(n),
        downbeat=np.zeros(n + 1, dtype=bool),
        units_per_bar=4,
    )
    assert F.shape == (n + 1, boundaries.load_model()["mean"].size) and np.isfinite(F).all()
    p = boundaries.probability(F, boundaries.load_model())
    assert p.shape == (n + 1,) and np.all((p >= 0) & (p <= 1))


def test_the_network_finds_the_section_changes_of_a_song_it_never_saw():
    plan = "ABABCB"
    units = _song_units(plan, seed=3)
    p = boundaries.probability(boundaries.unit_features(**units), boundaries.load_model())
    assert np.all((p >= 0) & (p <= 1))
    span = BARS * UNITS_PER_BAR
    changes = np.arange(1, len(plan)) * span
    # the loop restarts every 4 bars: a phrase start may look like a section start, nothing else may
    elsewhere = np.ones(p.size, dtype=bool)
    elsewhere[:: 4 * UNITS_PER_BAR] = False
    assert p[changes].min() > 0.5, p[changes]
    assert p[elsewhere].max() < p[changes].min(), (p[elsewhere].max(), p[changes])


def test_the_shipped_model_verifies_and_a_damaged_one_is_refused(tmp_path):
    assert set(boundaries.load_model()) >= {"mean", "scale", "W0", "b0"}
    folder = tmp_path / "models"
    shutil.copytree(models_dir(), folder)
    path = folder / boundaries.MODEL_NAME
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ExplorerError, match="damaged"):
        boundaries.load_model(folder)
    path.unlink()
    with pytest.raises(ExplorerError, match="missing"):
        boundaries.load_model(folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["files"][boundaries.MODEL_NAME]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ExplorerError, match="no checksum"):
        boundaries.load_model(folder)


def test_model_arrays_are_read_without_unpickling():
    import io

    buf = io.BytesIO()
    # an object array is stored as a pickle: reading it would run code chosen by the file's author
    np.savez(buf, mean=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="pickle"):
        boundaries.read_arrays(buf.getvalue())


def test_analyze_with_a_damaged_boundary_model_is_one_clear_line(make_audio, tmp_path):
    y, sr, _ = make_song("ABAB", seed=1, bars_per_section=4)
    song = make_audio("song.flac", y.astype(np.float32), sr)
    folder = tmp_path / "models"
    shutil.copytree(models_dir(), folder)
    path = folder / boundaries.MODEL_NAME
    path.write_bytes(path.read_bytes()[:-64])
    proc = subprocess.run(
        [sys.executable, "-m", "explorer", "analyze", "--no-cache", str(song)],
        capture_output=True,
        text=True,
        timeout=budget(300),
        stdin=subprocess.DEVNULL,
        env={**os.environ, MODEL_DIR_ENV: str(folder)},
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("music-explorer: error: ") and proc.stderr.count("\n") == 1
    assert "boundaries.npz" in proc.stderr and "damaged" in proc.stderr and "Traceback" not in proc.stderr


def test_an_ensemble_gives_the_mean_of_its_networks():
    rng = np.random.default_rng(5)
    d = 7
    nets = [
        {
            "W0": rng.normal(size=(d, 4)),
            "b0": rng.normal(size=4),
            "W1": rng.normal(size=(4, 1)),
            "b1": rng.normal(size=1),
        }
        for _ in range(3)
    ]
    scaling = {"mean": rng.normal(size=d), "scale": rng.random(d) + 0.5}
    ensemble = dict(scaling)
    for i, net in enumerate(nets):
        ensemble.update({f"m{i}_{k}": v for k, v in net.items()})
    F = rng.normal(size=(20, d))
    alone = [boundaries.probability(F, scaling | net) for net in nets]
    np.testing.assert_allclose(boundaries.probability(F, ensemble), np.mean(alone, axis=0), rtol=1e-12)
    assert not np.allclose(alone[0], alone[1])  # the members differ, so the mean is a real test
