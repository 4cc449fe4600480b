"""Which label is the chorus, how sure that is, and what function every section has."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

import numpy as np

#: Section-group features the chorus score is a linear function of (see :func:`label_features`).
FEATURES = ("occurrences", "share", "loudness", "fullness", "repetition", "opens", "first", "last", "length")
#: Hand-set weights (used when no trained scorer ships): in units of one extra occurrence.
HAND_WEIGHTS = {
    "occurrences": 1.0,
    "share": 2.0,
    "loudness": 0.5,
    "fullness": 0.5,
    "repetition": 1.0,
    "opens": -0.75,
    "first": 0.01,
    "last": 0.0,
    "length": 0.0,
}
#: A section before the chorus is a pre-chorus only when it lasts at most this share of the section
#: before it (chosen on the training renders: the repeated "pre-choruses" the annotators call verse
#: last 0.9–2 times the section before them, their real pre-choruses about half of it).
PRE_CHORUS_SHARE = 0.75
#: Confidence of a chorus with nothing else in the song to compare it with (one label throughout):
#: the mean confidence of the picks on the training renders, which is also how often they are right.
NO_RIVAL_CONFIDENCE = 0.77
#: The trained scorer (``benchmarks/train_chorus.py``): logistic regression weights as JSON.
MODEL = Path(__file__).resolve().parents[2] / "resources" / "models" / "chorus_scorer.json"


def label_features(
    labels: list[int],
    durations: np.ndarray,
    loudness: np.ndarray,
    *,
    fullness: np.ndarray | None = None,
    repetition: np.ndarray | None = None,
    once: bool = False,
) -> dict[int, np.ndarray]:
    """Features of every repeated label (and with ``once`` of every label heard once too), in the order
    of :data:`FEATURES`.

    ``occurrences``: sections with the label; ``share``: their share of the song's sounding time;
    ``loudness``, ``fullness``: their mean relative to the song (duration-weighted z-scores of the
    section means, clipped to ±2); ``repetition``: mean confidence of their repeats (0–1);
    ``opens``: 1 when the label opens the song; ``first``, ``last``: where the first occurrence
    starts and the last one ends (share of the song); ``length``: log2 of the label's mean section
    length over the song's median section length.

    Parameters
    ----------
    labels : list of int
        Label of every section, in order (negative = silent, never a chorus).
    durations : np.ndarray [shape=(n_sections,)]
        Seconds.
    loudness : np.ndarray [shape=(n_sections,)]
        Mean loudness of every section (dB).
    fullness : np.ndarray [shape=(n_sections,)] or None
        How much of the spectrum sounds at once; None counts as equal.
    repetition : np.ndarray [shape=(n_sections,)] or None
        How clearly every section repeats elsewhere (0–1); None counts as 0.5.
    once : bool
        Also describe the labels of one section each.

    Returns
    -------
    dict label -> np.ndarray [shape=(len(FEATURES),)], for the labels that occur at least twice
    (with ``once``, for every sounding label).
    """
    labels = list(labels)
    n = len(labels)
    durations = np.asarray(durations, dtype=float)
    sounding = [i for i in range(n) if labels[i] >= 0]
    if not sounding:
        return {}
    w = durations[sounding]
    total = float(w.sum()) or 1.0
    ends = np.cumsum(durations)
    starts = ends - durations
    span = float(ends[-1]) or 1.0
    med = float(np.median(w)) or 1.0

    def z(x):
        if x is None:
            return np.zeros(n)
        x = np.asarray(x, dtype=float)
        mu = float(np.average(x[sounding], weights=w)) if w.sum() > 0 else float(np.mean(x[sounding]))
        sd = float(np.sqrt(np.average((x[sounding] - mu) ** 2, weights=w))) if w.sum() > 0 else 0.0
        return np.clip((x - mu) / sd, -2, 2) if sd > 1e-9 else np.zeros(n)

    zl, zf = z(loudness), z(fullness)
    rep = np.full(n, 0.5) if repetition is None else np.asarray(repetition, dtype=float)
    out = {}
    for lab in sorted({x for x in labels if x >= 0}):
        idx = [i for i, x in enumerate(labels) if x == lab]
        if len(idx) < 2 and not once:
            continue
        out[lab] = np.array(
            [
                len(idx),
                float(durations[idx].sum()) / total,
                float(np.mean(zl[idx])),
                float(np.mean(zf[idx])),
                float(np.mean(rep[idx])),
                float(idx[0] == sounding[0]),
                starts[idx[0]] / span,
                ends[idx[-1]] / span,
                float(np.log2(max(float(np.mean(durations[idx])), 1e-3) / med)),
            ]
        )
    return out


@lru_cache(maxsize=1)
def load_weights(path: str | None = None) -> tuple[np.ndarray, float]:
    """Weights (in :data:`FEATURES` order) and bias of the chorus score: the trained scorer's when
    ``resources/models/chorus_scorer.json`` is there, matches the SHA-256 of the folder's
    ``manifest.json`` and is well formed, else :data:`HAND_WEIGHTS`."""
    p = Path(path) if path else MODEL
    try:
        raw = p.read_bytes()
        manifest = json.loads((p.parent / "manifest.json").read_text())
        if manifest["files"][p.name]["sha256"] != hashlib.sha256(raw).hexdigest():
            raise ValueError("checksum differs from the manifest")
        return scorer_weights(json.loads(raw))
    except (OSError, ValueError, KeyError, TypeError):
        return np.array([HAND_WEIGHTS[f] for f in FEATURES]), 0.0


def scorer_weights(d: dict) -> tuple[np.ndarray, float]:
    """Weights and bias on raw :data:`FEATURES` of a scorer stored as JSON (``train_chorus.py``), which
    works on standardised features; ValueError or KeyError when it is not one."""
    if tuple(d["features"]) != FEATURES:
        raise ValueError("features differ")
    mean, scale = np.asarray(d["mean"], float), np.asarray(d["scale"], float)
    coef = np.asarray(d["coef"], float)
    if not (coef.shape == mean.shape == scale.shape == (len(FEATURES),)) or not np.all(np.isfinite(coef)):
        raise ValueError("bad shapes")
    # fold the standardisation into the weights
    wts = coef / scale
    return wts, float(d["intercept"]) - float(np.dot(wts, mean))


def chorus_scores(
    labels: list[int],
    durations: np.ndarray,
    loudness: np.ndarray,
    *,
    fullness: np.ndarray | None = None,
    repetition: np.ndarray | None = None,
    weights: tuple[np.ndarray, float] | None = None,
    once: bool = False,
) -> dict[int, float]:
    """How much every repeated label (with ``once``, every label) looks like the chorus: a linear
    score of its :func:`label_features`.

    A chorus is the section a song returns to most, usually its fullest and loudest part, a clear
    repeat of both harmony and sound, and not the song's opening; the weights say how much each
    counts (the trained scorer's, see :func:`load_weights`, unless ``weights`` is given).

    Returns
    -------
    dict label -> score, for the labels that occur at least twice (with ``once``, every sounding label).
    """
    feats = label_features(labels, durations, loudness, fullness=fullness, repetition=repetition, once=once)
    wts, bias = weights if weights is not None else load_weights()
    return {lab: float(np.dot(wts, x) + bias) for lab, x in feats.items()}


def pick_chorus(labels: list[int], durations: np.ndarray, loudness: np.ndarray, **kwargs) -> tuple[int | None, float]:
    """The chorus label and a confidence (0–1): the best of :func:`chorus_scores`.

    The chorus is the best-scoring repeated label.  Its confidence is the logistic of its score's
    margin over the best other label, repeated or heard once and scored alike (0.5 when they tie):
    a section heard once can be a chorus the labelling did not join to its repeats.  A song with no
    other label gets :data:`NO_RIVAL_CONFIDENCE`.

    Returns
    -------
    (label, confidence) : (None, 0.0) when no label repeats.
    """
    every = chorus_scores(labels, durations, loudness, once=True, **kwargs)
    repeated = [lab for lab in every if list(labels).count(lab) >= 2]
    if not repeated:
        return None, 0.0
    best = max(repeated, key=lambda lab: every[lab])
    rivals = [v for lab, v in every.items() if lab != best]
    if not rivals:
        return best, NO_RIVAL_CONFIDENCE
    return best, float(1.0 / (1.0 + np.exp(-(every[best] - max(rivals)))))


def functions(
    labels: list[int],
    chorus: int | None,
    *,
    silent: list[bool] | None = None,
    durations: np.ndarray | None = None,
) -> list[str]:
    """Name the function of every section from where its label occurs.

    - silent stretches → ``other``; the chorus label → ``chorus``;
    - the first sounding section → ``intro`` unless it is a chorus or its material is a verse
      elsewhere (a song that opens with its verse); the last one → ``outro`` unless it is a
      chorus;
    - a repeated label always heard between another repeated label and the chorus, and short
      beside what comes before it, → ``pre-chorus``; a repeated label that mostly leads into a
      chorus (the last two repeated labels before it), or any repeated label when there is no
      chorus → ``verse``; other repeated labels → ``instrumental``.  The song's opening material
      heard again right before a verse-long section that leads into the chorus is the intro
      returning as an interlude (``instrumental``), not part of the verse;
    - a stretch of non-repeated sections is one part of the song, never a run of bridges:
      between a verse and a chorus it ends in a ``pre-chorus`` when its last section is short,
      and the rest belongs to the verse; right after the intro it is ``intro``; at the end of the
      song its last section is the ``outro`` and the rest a ``bridge``; otherwise it is a
      ``bridge`` (one section once :func:`merge_runs` joins the run, as the pipeline does) whose
      last section leads into a following chorus as ``pre-chorus``; in a song without a chorus,
      the middle of the song is ``verse``.

    A pre-chorus is a short passage that builds toward the chorus.  A section before the chorus that
    lasts about as long as the one before it is more likely the verse's second half (or a second
    verse), so it is named ``verse``.

    Parameters
    ----------
    labels : list of int
    chorus : int or None
    silent : list of bool or None
    durations : np.ndarray [shape=(n_sections,)] or None
        Seconds; None skips the length test (every candidate counts as short).  A section is short
        when it lasts at most :data:`PRE_CHORUS_SHARE` of the section before it (for a repeated
        label: of the mean section before its occurrences).

    Returns
    -------
    list of str
    """
    n = len(labels)
    silent = list(silent) if silent is not None else [False] * n
    counts = {lab: labels.count(lab) for lab in set(labels)}
    sounding = [i for i in range(n) if not silent[i]]
    if not sounding:
        return ["other"] * n
    first, last = sounding[0], sounding[-1]
    out: list[str | None] = [None] * n
    chorus_at = [i for i in range(n) if labels[i] == chorus and not silent[i]]
    dur = None if durations is None else np.asarray(durations, dtype=float)

    def short(idx: list[int]) -> bool:  # the sections at idx are short beside the ones before them
        if dur is None:
            return True
        return float(np.mean(dur[idx])) <= PRE_CHORUS_SHARE * float(np.mean(dur[[i - 1 for i in idx]]))

    opening = labels[first] if counts[labels[first]] > 1 else None
    lead_count: dict[int, int] = {}
    for c in chorus_at:
        found: list = []  # the repeated material before this chorus, back to the previous one (at most two labels)
        at: list[int] = []
        for j in range(c - 1, -1, -1):
            if silent[j] or labels[j] == chorus or len(found) == 2:
                break
            if counts[labels[j]] > 1 and labels[j] not in found:
                found.append(labels[j])
                at.append(j)
        # the song's opening material played right before a verse (as long as a verse, not a short
        # pre-chorus) is the intro heard again as an interlude, not part of the verse
        if len(found) == 2 and found[1] == opening and at[1] == at[0] - 1 and not short([at[0]]):
            found = found[:1]
        for lab in found:
            lead_count[lab] = lead_count.get(lab, 0) + 1
    # material that leads into a chorus more often than not
    leads_in = {lab for lab, k in lead_count.items() if k > counts[lab] / 2}

    # a repeated label always heard between another repeated label and the chorus, and short, is a pre-chorus
    pre = set()
    for lab in leads_in:
        idx = [i for i in range(n) if labels[i] == lab]
        if all(
            0 < i < n - 1
            and labels[i + 1] == chorus
            and labels[i - 1] not in (lab, chorus)
            and counts[labels[i - 1]] > 1
            and not silent[i - 1]
            for i in idx
        ) and short(idx):
            pre.add(lab)
    for i in range(n):
        lab = labels[i]
        if silent[i]:
            out[i] = "other"
        elif lab == chorus:
            out[i] = "chorus"
        elif lab in pre:
            out[i] = "pre-chorus"
        elif counts[lab] > 1:
            out[i] = "verse" if (lab in leads_in or chorus is None) else "instrumental"
    # the ends: intro and outro (a song may open straight with a verse that leads into a chorus)
    opens_with_verse = out[first] == "verse" and labels[first] in leads_in
    if out[first] not in ("chorus", "pre-chorus") and n > 1 and not opens_with_verse:
        out[first] = "intro"
    if last != first and out[last] != "chorus" and len(sounding) > 2:
        out[last] = "outro"
    # stretches of unnamed (non-repeated) sections
    i = 0
    while i < n:
        if out[i] is not None:
            i += 1
            continue
        j = i
        while j + 1 < n and out[j + 1] is None:
            j += 1
        prev = out[i - 1] if i > 0 else None
        nxt = out[j + 1] if j + 1 < n else None
        run = range(i, j + 1)
        if chorus is None:
            fill = ["verse"] * len(run)
            if nxt in (None, "other") and len(sounding) > 1:
                fill[-1] = "outro"
        elif prev in (None, "other", "intro") and nxt not in ("chorus",):
            fill = ["intro"] * len(run)
        elif nxt in (None, "other", "outro") and prev not in (None, "other"):
            fill = ["bridge"] * (len(run) - 1) + ["outro"]
        elif nxt == "chorus" and prev in ("verse", "intro", None, "other"):
            lead = prev == "verse" or len(run) > 1
            fill = ["verse"] * (len(run) - 1) + ["pre-chorus" if lead and short([j]) else "verse"]
        elif nxt == "chorus":
            fill = ["bridge"] * (len(run) - 1) + ["pre-chorus"] if len(run) > 1 else ["bridge"]
        else:
            fill = ["bridge"] * len(run)
        for k, f in zip(run, fill):
            out[k] = f
        i = j + 1
    return [f if f is not None else "other" for f in out]


def merge_runs(functions_: list[str], *, kinds: tuple[str, ...] = ("bridge", "intro", "outro")) -> list[int]:
    """Group index of every section: consecutive sections with one of ``kinds`` as function are one
    group (a stretch of non-repeating material is one bridge, not three).

    Returns
    -------
    list of int : a group id per section, non-decreasing, equal for sections to be merged.
    """
    out, g = [], -1
    for i, f in enumerate(functions_):
        if i == 0 or not (f == functions_[i - 1] and f in kinds):
            g += 1
        out.append(g)
    return out
