"""`genre train` and `genre use` on a library scanned in the test from three synthetic genres."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import write_audio
from genregen import GENRES, MAKERS, SR, write_genre_songs
from timing import budget

from explorer.genre import own
from explorer.library.store import Library

pytestmark = pytest.mark.timeout(600)


def run(*argv: str, env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "explorer", *argv],
        check=False,
        capture_output=True,
        text=True,
        timeout=budget(400),
        stdin=subprocess.DEVNULL,
        env={**os.environ, **env},
    )


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    """(songs folder, env with a shared cache, a scanned library's path)."""
    root = tmp_path_factory.mktemp("genre-train")
    songs = root / "songs"
    write_genre_songs(songs)
    env = {f"XDG_{k}_HOME": str(root / k.lower()) for k in ("CACHE", "DATA", "CONFIG", "STATE")}
    db = root / "lib.sqlite"
    r = run("scan", str(songs), "--db", str(db), env=env)
    assert r.returncode == 0, r.stderr
    return songs, env, db


@pytest.mark.slow  # scans and analyses 15 synthetic songs, then trains with cross-validation
def test_train_reports_high_accuracy_and_use_switches_predictions(scanned, tmp_path):
    songs, env, db = scanned
    model = tmp_path / "mine.npz"
    r = run("genre", "train", "--db", str(db), "--out", str(model), "--json", env=env)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["genres"] == list(GENRES)
    assert report["songs"] == 15 and report["artists"] == 5 and report["folds"] >= 3
    assert report["accuracy"] >= 0.9
    assert np.array(report["confusion"]).sum() == 15 and np.trace(report["confusion"]) >= 14
    assert all(report["per_genre"][g]["f1"] >= 0.8 for g in GENRES)
    # saved as data: loads without pickle; the report beside it
    with np.load(model, allow_pickle=False) as npz:
        assert "clf_coef" in npz.files
    assert json.loads(own.report_path(model).read_text())["accuracy"] == report["accuracy"]

    # the library now names its songs with the user's genres …
    with Library(db) as lib:
        labels = {t.path: t.genre_label for t in lib.tracks()}
    assert all(labels[str(songs / g / f"{k:02d}.flac")] == g for g in GENRES for k in range(5))
    # … and so does `genre predict`
    noise = songs / "noise" / "02.flac"
    p = run("genre", "predict", str(noise), "--db", str(db), "--json", env=env)
    doc = json.loads(p.stdout)
    assert doc["label"] == "noise" and set(doc["probabilities"]) == set(GENRES) and doc["model"] == str(model)

    # back to the shipped model: GTZAN's genres again, everywhere
    u = run("genre", "use", "default", "--db", str(db), env=env)
    assert u.returncode == 0 and "15 songs relabelled" in u.stdout
    p = run("genre", "predict", str(noise), "--db", str(db), "--json", env=env)
    doc = json.loads(p.stdout)
    assert "blues" in doc["probabilities"] and doc["model"] == "default"
    # the shipped model does not know this sound: it says so rather than naming a genre
    assert doc["uncertain"] and doc["confidence"] < 0.5
    text = run("genre", "predict", str(noise), "--db", str(db), env=env).stdout
    assert text.startswith(f"{noise}: uncertain · {doc['label']} (")
    with Library(db) as lib:
        assert all(t.genre_label not in GENRES for t in lib.tracks())

    # and to the trained one by name
    u = run("genre", "use", str(model), "--db", str(db), env=env)
    assert u.returncode == 0, u.stderr
    # a song a later scan adds is named by it too
    new = tmp_path / "new" / "techno 9.flac"
    new.parent.mkdir()
    write_audio(new, MAKERS["techno"](np.random.default_rng(99), 6.0).astype(np.float32), SR)
    assert run("scan", str(new.parent), "--db", str(db), env=env).returncode == 0
    with Library(db) as lib:
        assert lib.track_by_path(str(new)).genre_label == "techno"
    text = run("genre", "train", "--db", str(db), "--out", str(tmp_path / "again.npz"), env=env)
    assert text.returncode == 0
    assert text.stdout.startswith("accuracy ") and "confusion matrix" in text.stdout
    assert "precision" in text.stdout and "F1" in text.stdout


def test_train_refuses_too_few_songs_with_the_rule(scanned, tmp_path):
    songs, env, _ = scanned
    db = tmp_path / "small.sqlite"
    assert run("scan", str(songs / "ambient"), "--db", str(db), env=env).returncode == 0
    r = run("genre", "train", "--db", str(db), env=env)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("music-explorer: error: too few songs")
    assert own.RULE in r.stderr and "1 genre" in r.stderr
    assert not (tmp_path / "genre-model.npz").exists()


def test_use_refuses_a_file_that_is_not_a_model(scanned, tmp_path):
    _, env, db = scanned
    bogus = tmp_path / "bogus.npz"
    bogus.write_bytes(b"PK\x03\x04 not really")
    r = run("genre", "use", str(bogus), "--db", str(db), env=env)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "bogus.npz" in r.stderr
    assert "Traceback" not in r.stderr
