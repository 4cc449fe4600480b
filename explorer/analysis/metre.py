"""The metre: how many beats a bar holds (2, 3 or 4), judged from where the harmony and the bass change,
and where the bars start."""

from __future__ import annotations

import numpy as np

from explorer.analysis import dsp
from explorer.analysis.features import Features


def beat_change(feats: Features, beat_frames: np.ndarray, *, context_seconds: float = 1.0) -> np.ndarray:
    """Evidence for a bar starting on each beat: harmonic change, bass onset and onset strength
    (z-scored and mixed).

    Parameters
    ----------
    feats : Features
    beat_frames : np.ndarray [shape=(n_beats,)]
    context_seconds : float
        Length of the harmonic windows compared before and after each beat.

    Returns
    -------
    np.ndarray [shape=(n_beats,)]
    """
    n = beat_frames.size
    bounds = np.concatenate([beat_frames, [feats.n_frames]])
    C = dsp.sync(feats.chroma, bounds, aggregate=np.mean, pad=False)[:, :n]
    C = C / (np.linalg.norm(C, axis=0, keepdims=True) + 1e-9)
    period = float(np.median(np.diff(beat_frames))) * feats.hop_length / feats.sr if n > 1 else 1.0
    ctx = int(max(1, round(context_seconds / period)))
    cs = np.concatenate([np.zeros((12, 1)), np.cumsum(C, axis=1)], axis=1)
    k = np.arange(n)
    a = cs[:, k] - cs[:, np.maximum(k - ctx, 0)]
    b = cs[:, np.minimum(k + ctx, n)] - cs[:, k]
    change = 1.0 - np.sum(a * b, axis=0) / (np.linalg.norm(a, axis=0) * np.linalg.norm(b, axis=0) + 1e-9)
    low = feats.mel_db[:12]
    bass = np.maximum(0.0, np.diff(low, axis=1, prepend=low[:, :1])).mean(axis=0)
    near = np.clip(beat_frames[:, None] + np.arange(-2, 3)[None, :], 0, feats.n_frames - 1)
    bass_b = bass[near].max(axis=1)
    onset_b = feats.onset_env[near].max(axis=1)

    def z(x):
        return (x - x.mean()) / (x.std() + 1e-9)

    return 1.0 * z(change) + 0.5 * z(bass_b) + 0.25 * z(onset_b)


def meter_evidence(score: np.ndarray, m: int) -> tuple[float, int]:
    """How clearly one beat in every ``m`` stands out in ``score``: the largest Welch t statistic
    of the beats at one phase against all the others, and that phase.

    Parameters
    ----------
    score : np.ndarray [shape=(n_beats,)]
        Evidence for a bar starting on each beat (:func:`beat_change`).
    m : int
        Bar length (beats).

    Returns
    -------
    (t, phase) : tuple of float and int
    """
    best, phase = -np.inf, 0
    idx = np.arange(score.size)
    for p in range(m):
        on = idx % m == p
        a, b = score[on], score[~on]
        if a.size < 2 or b.size < 2:
            continue
        t = (a.mean() - b.mean()) / np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size + 1e-12)
        if t > best:
            best, phase = float(t), p
    return best, phase


def meter(
    feats: Features,
    beat_frames: np.ndarray,
    *,
    min_bars: int = 4,
    triple_margin: float = 0.5,
    double_margin: float = 2.0,
) -> tuple[int, int]:
    """Beats per bar and the index of the first downbeat.

    Every bar length is scored by how clearly one beat in every bar stands out in the downbeat
    evidence of :func:`beat_change` (:func:`meter_evidence`).  Four beats is the default; three
    replaces it when it stands out more (by ``triple_margin``); eight (the beats are twice as fast
    as the bar's pulse) replaces four only when it is clearly (``double_margin``) better.  Two is
    not tried: in 4/4 songs whose chords change every half bar the half bar stands out as much
    as a 6/8 bar counted in dotted quarters does; nor six: waltzes whose harmony moves every two
    bars make it stand out at the true tempo.

    Parameters
    ----------
    feats : Features
    beat_frames : np.ndarray [shape=(n_beats,)]
    min_bars : int
        A bar length is tried only when the song has at least this many bars of it.
    triple_margin, double_margin : float
        Margins in units of the t statistic.

    Returns
    -------
    (beats_per_bar, phase) : tuple of int
        ``beats_per_bar`` is 3, 4 or 8.
    """
    n = beat_frames.size
    if n < min_bars * 4:
        return 4, 0
    score = beat_change(feats, beat_frames)
    ev = {m: meter_evidence(score, m) for m in (3, 4, 8) if n >= min_bars * m}
    chosen = 3 if 3 in ev and ev[3][0] > ev[4][0] + triple_margin else 4
    if chosen == 4 and 8 in ev and ev[8][0] > ev[4][0] + double_margin:
        chosen = 8
    return chosen, ev[chosen][1]
