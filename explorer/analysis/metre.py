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


def triple_subdivision(onset_env: np.ndarray, beat_frames: np.ndarray, *, tolerance: float = 0.06) -> float:
    """How clearly the beats divide in three (a compound metre: 6/8, 12/8), not in two.

    For every beat, the onset envelope's peak near a third and near two thirds of the way to the
    next beat (the smaller of the two) against its peak near halfway; the median over beats, in
    units of the envelope's standard deviation.  The points are moved by the lag at which the
    envelope peaks after the beats (up to a fifth of a beat: the beats are placed where notes
    start, the envelope peaks during their attack).  Three notes to a beat make it positive; straight
    eighths make it negative; swung eighths (long-short: an onset at two thirds only) leave it
    near zero, since the first third is empty.

    Parameters
    ----------
    onset_env : np.ndarray [shape=(n_frames,)]
    beat_frames : np.ndarray [shape=(n_beats,)]
    tolerance : float
        Half-width of the neighbourhood searched around each point, as a share of the beat.

    Returns
    -------
    float : 0 when there are fewer than two beats.
    """
    beats = np.asarray(beat_frames, dtype=float)
    if beats.size < 2 or onset_env.size == 0:
        return 0.0
    env = onset_env / (float(onset_env.std()) + 1e-9)
    length = np.diff(beats)
    lags = np.arange(0, int(np.ceil(0.2 * float(np.median(length)))) + 1)
    at_beats = env[np.clip(np.round(beats[:-1, None]).astype(int) + lags[None, :], 0, env.size - 1)]
    start = beats[:-1] + lags[int(np.argmax(at_beats.mean(axis=0)))]
    radius = np.maximum(1, np.round(tolerance * length)).astype(int)
    offsets = np.arange(-int(radius.max()), int(radius.max()) + 1)

    def peak(fraction: float) -> np.ndarray:
        centre = np.round(start + fraction * length).astype(int)
        idx = np.clip(centre[:, None] + offsets[None, :], 0, env.size - 1)
        vals = np.where(np.abs(offsets)[None, :] <= radius[:, None], env[idx], -np.inf)
        return vals.max(axis=1)

    return float(np.median(np.minimum(peak(1 / 3), peak(2 / 3)) - peak(1 / 2)))


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
    compound_threshold: float = 0.15,
) -> tuple[int, int]:
    """Beats per bar and the index of the first downbeat.

    Every bar length is scored by how clearly one beat in every bar stands out in the downbeat
    evidence of :func:`beat_change` (:func:`meter_evidence`).  Four beats is the default; three
    replaces it when it stands out more (by ``triple_margin``); eight (the beats are twice as fast
    as the bar's pulse) replaces four only when it is clearly (``double_margin``) better.

    When the beats divide in three (:func:`triple_subdivision` above ``compound_threshold``), the
    beat is a dotted quarter and the bar holds two of them (6/8), or four (12/8) when four stands
    out clearly (``double_margin``) more than two.  In a simple metre two is not tried: in 4/4
    songs whose chords change every half bar the half bar stands out as much as a 6/8 bar counted
    in dotted quarters does.  Six is never tried: waltzes whose harmony moves every two bars make
    it stand out at the true tempo.

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
        ``beats_per_bar`` is 2, 3, 4 or 8.
    """
    n = beat_frames.size
    if n < min_bars * 4:
        return 4, 0
    score = beat_change(feats, beat_frames)
    if triple_subdivision(feats.onset_env, beat_frames) > compound_threshold:
        ev = {m: meter_evidence(score, m) for m in (2, 4)}
        chosen = 4 if ev[4][0] > ev[2][0] + double_margin else 2
        return chosen, ev[chosen][1]
    ev = {m: meter_evidence(score, m) for m in (3, 4, 8) if n >= min_bars * m}
    chosen = 3 if 3 in ev and ev[3][0] > ev[4][0] + triple_margin else 4
    if chosen == 4 and 8 in ev and ev[8][0] > ev[4][0] + double_margin:
        chosen = 8
    return chosen, ev[chosen][1]
