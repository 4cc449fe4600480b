"""Which label is the chorus, and what function every section has."""

from __future__ import annotations

import numpy as np


def pick_chorus(labels: list[int], durations: np.ndarray, loudness: np.ndarray, *,
                w_time: float = 2.0, w_loud: float = 0.5) -> int | None:
    """The chorus label: the repeated label with the most separate occurrences, then the most
    time, then the loudest.

    Parameters
    ----------
    labels : list of int
        Label of every section, in order (consecutive sections never share a label).
    durations : np.ndarray [shape=(n_sections,)]
        Seconds.
    loudness : np.ndarray [shape=(n_sections,)]
        Mean RMS of every section.
    w_time : float
        Weight of the share of the song's time (in units of one extra occurrence).
    w_loud : float
        Weight of relative loudness (in units of one extra occurrence).

    Returns
    -------
    int or None when no label repeats.
    """
    labels = list(labels)
    best, best_score = None, -np.inf
    ref = float(np.max(loudness)) if len(loudness) else 1.0
    total = float(np.sum(durations)) or 1.0
    for lab in sorted(set(labels)):
        idx = [i for i, x in enumerate(labels) if x == lab]
        if len(idx) < 2:
            continue
        time = float(np.sum(durations[idx])) / total
        loud = float(np.mean(loudness[idx])) / ref if ref > 0 else 0.0
        score = len(idx) + w_time * time + w_loud * loud + 0.01 * idx[0] / len(labels)
        if score > best_score:
            best, best_score = lab, score
    return best


def functions(labels: list[int], chorus: int | None, *, silent: list[bool] | None = None) -> list[str]:
    """Name the function of every section from where its label occurs.

    - the chorus label → ``chorus``;
    - a label occurring once, first (or after a silent head) → ``intro``; last → ``outro``;
    - a repeated label that occurs before a chorus → ``verse``;
    - other repeated labels → ``instrumental`` when they never lie between two choruses
      and do not precede one, else ``verse``;
    - other single occurrences → ``bridge``;
    - silent stretches → ``other``.

    Parameters
    ----------
    labels : list of int
    chorus : int or None
    silent : list of bool or None

    Returns
    -------
    list of str
    """
    n = len(labels)
    silent = silent or [False] * n
    counts = {lab: labels.count(lab) for lab in set(labels)}
    sounding = [i for i in range(n) if not silent[i]]
    first, last = (sounding[0], sounding[-1]) if sounding else (-1, -1)
    precedes = set()
    for i in range(n - 1):
        if labels[i + 1] == chorus and labels[i] != chorus:
            precedes.add(labels[i])
    out = []
    for i, lab in enumerate(labels):
        if silent[i]:
            out.append("other")
        elif lab == chorus:
            out.append("chorus")
        elif counts[lab] == 1 and i == first and n > 1:
            out.append("intro")
        elif counts[lab] == 1 and i == last and n > 1:
            out.append("outro")
        elif counts[lab] > 1 and (lab in precedes or chorus is None):
            out.append("verse")
        elif counts[lab] > 1:
            out.append("instrumental")
        elif n > 1:
            out.append("bridge")
        else:
            out.append("other")
    return out
