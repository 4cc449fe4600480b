"""The structural grid: the beat-synchronous features the structure stage works on, and the unit and bar it
counts in, chosen so that a phrase prior in bars means the same whichever metrical level the tracker chose."""

from __future__ import annotations

import numpy as np

from explorer.analysis import dsp


def beat_sync(feats, beat_frames: np.ndarray) -> dict[str, np.ndarray]:
    """Aggregate frame features between consecutive beats.

    Parameters
    ----------
    feats : explorer.analysis.features.Features
    beat_frames : np.ndarray [shape=(n_beats,)]

    Returns
    -------
    dict with ``chroma`` (12, n_beats), ``mfcc`` (n_mfcc, n_beats), ``rms`` (n_beats,) and
    ``fullness`` (n_beats,): the share of mel bands within 30 dB of each frame's loudest band (how
    much of the spectrum sounds at once: a full chorus against a sparse verse).
    """
    n = beat_frames.size
    bounds = np.concatenate([beat_frames, [feats.n_frames]])
    bounds = np.maximum.accumulate(np.clip(bounds, 0, feats.n_frames))
    C = dsp.sync(feats.chroma, bounds, aggregate=np.mean, pad=False)[:, :n]
    M = dsp.sync(feats.mfcc, bounds, aggregate=np.mean, pad=False)[:, :n]
    r = dsp.sync(feats.rms[None, :], bounds, aggregate=np.mean, pad=False)[0, :n]
    full = (
        (feats.mel_db >= feats.mel_db.max(axis=0, keepdims=True) - 30.0).mean(axis=0) if feats.n_frames else np.zeros(0)
    )
    f = dsp.sync(full[None, :].astype(np.float32), bounds, aggregate=np.mean, pad=False)[0, :n]
    return {"chroma": C, "mfcc": M, "rms": r, "fullness": f}


def metrical_level(bar_seconds: float, *, target: float = 2.4, max_octaves: int = 1) -> int:
    """How many octaves to move the structure's bar from the tracked one: the ``k`` for which
    ``bar_seconds * 2**k`` is nearest ``target`` on a log scale (ties go to the tracked bar).

    A beat tracker may count the beat of a song at the annotated level, twice as fast (eighth
    notes) or half as fast; the phrase lengths of the structure stage are counted in bars, so
    the bar they count must mean about the same length of music whatever level was tracked.

    Parameters
    ----------
    bar_seconds : float
        Length of the tracked bar (s).
    target : float
        Bar length (s) the structure stage is made for.
    max_octaves : int
        Largest ``|k|``.

    Returns
    -------
    int : ``k`` in ``-max_octaves … max_octaves`` (0 when ``bar_seconds`` is not positive).
    """
    if not bar_seconds > 0 or not target > 0:
        return 0
    x = np.log2(bar_seconds / target)
    return int(np.clip(-np.round(x - 1e-9 * np.sign(x)), -max_octaves, max_octaves))


def structural_grid(
    beat_frames: np.ndarray,
    downbeat_index: np.ndarray,
    *,
    beats_per_bar: int,
    fps: float,
    target_bar: float = 2.4,
    n_frames: int | None = None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """The grid the structure stage works on: tracked beats, or half-beats, or every other beat,
    so that its bar (``beats_per_bar`` units) lasts about ``target_bar`` seconds.

    The metre is kept (a bar of 3 stays 3 units); only the metrical octave changes.  When the
    bar is halved (slow tracked beat), the units are the beats and the points halfway between
    them and a bar starts on every tracked downbeat and half bar.  When it is doubled (fast
    tracked beat in an even metre: a tracked bar of 4 eighth notes is half a bar of 4 beats),
    the units are every other beat, on the downbeats' side, and both tracked downbeats of a
    doubled bar are marked, so the segmentation decides which one starts a phrase.  A bar of
    3 (or another odd number of) tracked beats is never doubled: the metre found it.

    Parameters
    ----------
    beat_frames : np.ndarray [shape=(n_beats,), int]
        Frame index of every tracked beat.
    downbeat_index : np.ndarray [shape=(n_bars,), int]
        Indices into ``beat_frames`` of the tracked downbeats.
    beats_per_bar : int
    fps : float
        Frames per second.
    target_bar : float
        Bar length (s) aimed at (see :func:`metrical_level`).
    n_frames : int or None
        Frames in the song (a half-beat after the last beat is added only before this).

    Returns
    -------
    unit_frames : np.ndarray [shape=(n_units,), int]
    unit_down : np.ndarray [shape=(n_units + 1,), bool]
        Whether each unit starts a (structural) bar; the last entry is the end of the song.
    k : int
        The octave moved (``-1``: units are half-beats, ``0``: beats, ``1``: every other beat).
    """
    frames = np.asarray(beat_frames, dtype=int)
    down = np.asarray(downbeat_index, dtype=int)
    down = down[(down >= 0) & (down < frames.size)]
    bpb = max(1, int(beats_per_bar))
    k = 0
    if frames.size >= 4 * bpb and down.size:
        period = float(np.median(np.diff(frames))) / fps
        k = metrical_level(bpb * period, target=target_bar)
        if k > 0 and bpb % 2:
            # a bar of three tracked beats is a bar the metre found (a waltz is phrased in it), not
            # the eighth notes of a slower bar: two of them make a hypermeasure, not a bar
            k = 0
    if k < 0:
        mid = (frames[:-1] + frames[1:]) // 2
        last = frames[-1] + round(0.5 * float(np.median(np.diff(frames))))
        tail = [last] if n_frames is None or last < n_frames else []
        units = np.empty(2 * frames.size - 1 + len(tail), dtype=int)
        units[0::2] = frames
        units[1 : 2 * frames.size - 1 : 2] = mid
        if tail:
            units[-1] = tail[0]
        marks = np.concatenate([2 * down, 2 * down + bpb])
    elif k > 0:
        p = int(down[0]) % 2
        units = frames[p::2]
        marks = (down[(down - p) % 2 == 0] - p) // 2
    else:
        units, marks = frames, down
    unit_down = np.zeros(units.size + 1, dtype=bool)
    unit_down[marks[(marks >= 0) & (marks < units.size)]] = True
    return units, unit_down, k
