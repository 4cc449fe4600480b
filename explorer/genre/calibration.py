"""Calibrated confidence: when a genre estimate is too unsure to name a genre.

The shipped model's probabilities are sharpened or softened by a temperature and its best genre is
called :data:`~explorer.genre.own.UNCERTAIN` below a threshold; both numbers are fitted with
cross-validation grouped by artist on the shipped training clips (``benchmarks/eval_genre.py
--calibrate``) and kept as data in ``resources/models/manifest.json`` (``"calibration"``, outside
``"files"``, so the analysis cache stays valid).  A model trained on the user's own tags carries
its own (:class:`explorer.genre.own.OwnModel`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from explorer.genre.own import UNCERTAIN, temperature_scale


@dataclass(frozen=True)
class Verdict:
    """What to show for a genre estimate.

    Attributes
    ----------
    label : str or None
        The best genre, or :data:`UNCERTAIN` when its probability is below the threshold (None: no estimate).
    best : str or None
        The best genre, whatever its probability.
    confidence : float
        Its calibrated probability.
    uncertain : bool
    probabilities : dict of str → float
        Calibrated probabilities.
    threshold : float
    """

    label: str | None
    best: str | None
    confidence: float
    uncertain: bool
    probabilities: dict[str, float]
    threshold: float


def shipped_calibration(folder=None) -> tuple[float, float]:
    """(temperature, threshold) of the shipped model; (1, 0) when the manifest has none."""
    from explorer.errors import ExplorerError
    from explorer.genre.model import MANIFEST_FILE, models_dir

    folder = models_dir() if folder is None else folder
    try:
        doc = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8")).get("calibration") or {}
        temperature, threshold = float(doc.get("temperature", 1.0)), float(doc.get("threshold", 0.0))
    except (OSError, ValueError, TypeError, AttributeError, ExplorerError):
        return 1.0, 0.0
    return (temperature if temperature > 0 else 1.0), min(max(threshold, 0.0), 1.0)


def assess(
    probabilities: dict[str, float], *, own_model=None, calibration: tuple[float, float] | None = None
) -> Verdict:
    """The verdict on a genre distribution.

    ``own_model`` (an :class:`~explorer.genre.own.OwnModel`) when the library uses one and the
    distribution is over its genres: its probabilities are calibrated already and its threshold
    applies.  Otherwise the shipped model's calibration applies (``calibration``: its
    :func:`shipped_calibration`, read once by a caller that judges many songs).
    """
    if not probabilities:
        return Verdict(None, None, 0.0, False, {}, 0.0)
    names = list(probabilities)
    p = np.array([float(probabilities[k]) for k in names])
    if own_model is not None and set(names) == set(own_model.genres):
        threshold = own_model.threshold
    else:
        temperature, threshold = calibration if calibration is not None else shipped_calibration()
        p = temperature_scale(p, temperature)
    i = int(np.argmax(p))
    uncertain = bool(p[i] < threshold)
    return Verdict(
        UNCERTAIN if uncertain else names[i],
        names[i],
        float(p[i]),
        uncertain,
        {k: float(v) for k, v in zip(names, p)},
        float(threshold),
    )
