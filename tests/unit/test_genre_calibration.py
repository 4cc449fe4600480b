"""Calibrated confidence: below the shipped threshold a genre estimate is "uncertain"."""

from __future__ import annotations

import json

import numpy as np
import pytest

from explorer.genre.calibration import assess, shipped_calibration
from explorer.genre.model import GENRES, MANIFEST_FILE, models_dir
from explorer.genre.own import fit_temperature, fit_threshold, temperature_scale


def test_the_shipped_manifest_carries_a_calibration():
    doc = json.loads((models_dir() / MANIFEST_FILE).read_text())["calibration"]
    temperature, threshold = shipped_calibration()
    assert (temperature, threshold) == (doc["temperature"], doc["threshold"])
    assert temperature >= 1.0 and 1 / len(GENRES) < threshold < 0.9


def test_a_flat_estimate_is_uncertain_and_a_peaked_one_is_not():
    _, threshold = shipped_calibration()
    flat = dict(zip(GENRES, np.full(10, 0.1)))
    flat["pop"] = 0.19
    v = assess(flat)
    assert v.uncertain and v.label == "uncertain" and v.best == "pop" and v.confidence < threshold
    peaked = dict(zip(GENRES, np.full(10, 0.02)))
    peaked["jazz"] = 0.82
    v = assess(peaked)
    assert not v.uncertain and v.label == "jazz" and v.confidence == pytest.approx(0.82, abs=0.05)
    assert sum(v.probabilities.values()) == pytest.approx(1.0)
    assert assess({}).label is None


def test_temperature_and_threshold_fits():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    logits = rng.normal(0, 1, (300, 3))
    logits[np.arange(300), y] += 1.0
    p_true = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    overconfident = temperature_scale(p_true, 0.4)  # a model far too sure of itself
    assert 2.0 < fit_temperature(overconfident, y) < 3.2  # softened back (1 / 0.4 = 2.5)
    assert fit_temperature(p_true, y, lowest=1.0) >= 1.0
    top = np.array([0.3, 0.35, 0.4, 0.6, 0.7, 0.9])
    right = np.array([False, False, True, True, True, True])
    # below 0.6 the model is right half the time (2 of 4): that is where "uncertain" ends
    assert fit_threshold(top, right, floor=0.2) == pytest.approx(0.6, abs=1e-4)
    assert fit_threshold(top[3:], right[3:], floor=0.2) == 0.2  # always right: only the floor
