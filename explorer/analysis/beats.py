"""Beats, tempo, downbeats and the extent of the sounding part of a song."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explorer.analysis.features import Features
from explorer.analysis.metre import meter


@dataclass(frozen=True, eq=False)
class BeatGrid:
    """Beat positions of one song.

    Attributes
    ----------
    tempo : float or None
        Beats per minute (refined below the frame grid), None when no steady beat was found.
    beat_frames : np.ndarray [shape=(n_beats,), int]
        Frame index of every beat, the nearest frame to ``beat_times`` (a uniform grid when no
        beat was found).
    beat_times : np.ndarray [shape=(n_beats,), float]
        Time of every beat (s), between frames.
    downbeat_index : np.ndarray [shape=(n_bars,), int]
        Indices into ``beat_frames`` of the first beat of each bar.
    beats_per_bar : int
        The metre: 3 for a waltz, 4 for common time, 2 for 6/8 (its beat is the dotted quarter).
    steady : bool
        False when the grid is a fallback, not tracked beats.
    """

    tempo: float | None
    beat_frames: np.ndarray
    beat_times: np.ndarray
    downbeat_index: np.ndarray
    beats_per_bar: int
    steady: bool


def sound_extent(feats: Features, *, top_db: float = 50.0, below_median_db: float = 30.0) -> tuple[float, float]:
    """Start and end (s) of the part of the song that is not near-silent.

    Parameters
    ----------
    feats : Features
    top_db : float
        Frames more than ``top_db`` below the loudest frame count as silence …
    below_median_db : float
        … and so do frames more than ``below_median_db`` below the median frame (hiss, hum).

    Returns
    -------
    (start, end) : tuple of float
        ``(0, duration)`` when the whole song is silent.
    """
    rms = feats.rms
    peak = float(rms.max(initial=0.0))
    if peak <= 1e-6:
        return 0.0, feats.duration
    floor = max(peak * 10.0 ** (-top_db / 20.0), float(np.median(rms)) * 10.0 ** (-below_median_db / 20.0))
    loud = np.flatnonzero(rms > floor)
    start = float(feats.frames_to_time(loud[0]))
    end = min(float(feats.duration), float(feats.frames_to_time(loud[-1] + 1)))
    return start, end


def music_extent(
    feats: Features, grid: BeatGrid, *, onset_share: float = 0.25, max_pickup_bars: float = 0.75
) -> tuple[float, float]:
    """Where the first phrase starts and the last one ends (s).

    The start is the first downbeat after the sound starts when the sound starts less than
    ``max_pickup_bars`` bars before it (a pick-up belongs to no phrase), else the sound start.
    The end is the last clear onset (the final chord or hit: what rings after it is a tail, not
    part of the last phrase), else the end of the sound.

    Parameters
    ----------
    feats : Features
    grid : BeatGrid
    onset_share : float
        An onset counts when its strength exceeds this share of the 99th percentile.
    max_pickup_bars : float

    Returns
    -------
    (start, end) : tuple of float
    """
    start, end = sound_extent(feats)
    if not grid.steady or grid.downbeat_index.size < 2:
        return start, end
    beat_t = grid.beat_times
    down = beat_t[grid.downbeat_index]
    bar = float(np.median(np.diff(down)))
    after = down[down >= start - 0.05]
    if after.size and after[0] - start <= max_pickup_bars * bar:
        start = float(after[0])
    env = feats.onset_env
    strong = np.flatnonzero(env > onset_share * np.percentile(env, 99))
    if strong.size:
        last = float(feats.frames_to_time(strong[-1]))
        if start < last < end:
            end = last
    return start, end


def estimate_period(
    onset_env: np.ndarray,
    *,
    sr: int,
    hop_length: int,
    start_bpm: float = 110.0,
    std_octaves: float = 0.6,
    min_bpm: float = 40.0,
    max_bpm: float = 240.0,
    ternary_margin: float = 1.2,
) -> float:
    """Beat period (frames) from the autocorrelation of the onset envelope, weighted by a
    log-normal tempo prior.

    A dotted or "3+3+2" accompaniment (common in ballads) puts strong onsets 3/4 of a beat apart,
    and the autocorrelation can peak there.  Such a period is not the pulse that the half bar and
    the bar repeat: when a period 4/3 or 2/3 as long is clearly (``ternary_margin`` times) better
    supported at one, two and four times its length than the first choice is at one, two and four
    or at one, three and six (a triple bar) times its length, that one is the beat.

    Parameters
    ----------
    onset_env : np.ndarray [shape=(n,)]
    sr, hop_length : int
    start_bpm : float
        Centre of the tempo prior.
    std_octaves : float
        Width of the prior (octaves).
    min_bpm, max_bpm : float
    ternary_margin : float
        How much better supported (see :func:`metrical_support`) a period in a 4:3 or 2:3 ratio
        must be to replace the autocorrelation's choice.

    Returns
    -------
    float : period in frames.
    """
    x = onset_env - onset_env.mean()
    spec = np.fft.rfft(x, 2 * x.size)
    ac = np.fft.irfft(spec * np.conj(spec))[: x.size]
    ac = ac / ac[0] if ac.size and ac[0] > 0 else ac
    period = _autocorrelation_period(
        ac, fps=sr / hop_length, start_bpm=start_bpm, std_octaves=std_octaves, min_bpm=min_bpm, max_bpm=max_bpm
    )
    # a period that a triple bar repeats (three and six times it: a waltz) is a beat too
    base = max(metrical_support(ac, period), metrical_support(ac, period, multiples=(1, 3, 6)))
    best, best_support = period, base
    for ratio in (4.0 / 3.0, 2.0 / 3.0):
        support = metrical_support(ac, period * ratio)
        if support > ternary_margin * base and support > best_support:
            best, best_support = period * ratio, support
    return best


def metrical_support(
    ac: np.ndarray, period: float, *, multiples: tuple[int, ...] = (1, 2, 4), tolerance: float = 0.03
) -> float:
    """How well the onset autocorrelation supports ``period`` as a beat: the sum of its peaks at
    one, two and four periods (the beat, the half bar and the bar of a 4/4 song).

    Parameters
    ----------
    ac : np.ndarray [shape=(n,)]
        Autocorrelation of the onset envelope (lag in frames), normalised to ``ac[0] == 1``.
    period : float
        Candidate beat period (frames).
    multiples : tuple of int
    tolerance : float
        Relative lag tolerance around each multiple.

    Returns
    -------
    float : the sum, or ``-inf`` when a multiple lies beyond the autocorrelation.
    """
    total = 0.0
    for m in multiples:
        centre = m * period
        i, r = int(round(centre)), max(1, int(round(tolerance * centre)))
        if i + r >= ac.size or i < 1:
            return -np.inf
        total += float(ac[max(1, i - r) : i + r + 1].max())
    return total


def _autocorrelation_period(
    ac: np.ndarray, *, fps: float, start_bpm: float, std_octaves: float, min_bpm: float, max_bpm: float
) -> float:
    """The lag (frames) where the autocorrelation ``ac``, weighted by the tempo prior, peaks."""
    n = ac.size
    lo = max(1, int(fps * 60.0 / max_bpm))
    hi = min(n - 1, int(np.ceil(fps * 60.0 / min_bpm)))
    if hi <= lo:
        return fps * 60.0 / start_bpm
    lags = np.arange(lo, hi + 1)
    bpm = 60.0 * fps / lags
    prior = np.exp(-0.5 * (np.log2(bpm / start_bpm) / std_octaves) ** 2)
    # a beat period is also supported by its double: sum the autocorrelation at lag and 2·lag
    lag2 = np.minimum(2 * lags, n - 1)
    score = (ac[lags] + 0.25 * ac[lag2]) * prior
    k = int(np.argmax(score))
    # refine to a fractional lag with a parabola through the neighbours
    if 0 < k < score.size - 1:
        a, b, c = score[k - 1], score[k], score[k + 1]
        den = a - 2 * b + c
        off = 0.5 * (a - c) / den if den != 0 else 0.0
        return float(lags[k] + np.clip(off, -0.5, 0.5))
    return float(lags[k])


def dp_beats(onset_env: np.ndarray, period: float, *, tightness: float = 100.0) -> np.ndarray:
    """Ellis' (2007) dynamic-programming beat tracker.

    Parameters
    ----------
    onset_env : np.ndarray [shape=(n,)]
    period : float
        Beat period (frames).
    tightness : float
        How strongly beat intervals are held to ``period``.

    Returns
    -------
    np.ndarray of int : beat frames (weak beats at the ends trimmed).
    """
    n = onset_env.size
    env = onset_env / (onset_env.std() + 1e-9)
    win = np.exp(-0.5 * (np.arange(-period, period + 1) * 32.0 / period) ** 2)
    local = np.convolve(env, win, mode="same")
    cum = np.zeros(n)
    back = -np.ones(n, dtype=int)
    lo, hi = int(round(period / 2)), int(round(2 * period))
    offs = np.arange(hi, lo - 1, -1)
    txcost = -tightness * np.log(offs / period) ** 2
    # the predecessors of frame i are frames i - hi … i - lo (those >= 0), in that order
    cum[: min(lo, n)] = local[: min(lo, n)]
    for i in range(lo, n):
        first = max(i - hi, 0)
        cand = cum[first : i - lo + 1] + txcost[first - (i - hi) :]
        j = int(cand.argmax())
        cum[i] = local[i] + cand[j]
        back[i] = first + j
    # last beat: the last local maximum of cum that is reasonably strong
    peaks = np.flatnonzero((cum[1:-1] >= cum[:-2]) & (cum[1:-1] > cum[2:])) + 1
    if peaks.size == 0:
        return np.zeros(0, dtype=int)
    med = np.median(cum[peaks])
    last = int(peaks[cum[peaks] >= 0.5 * med][-1])
    out = [last]
    while back[out[-1]] >= 0:
        out.append(int(back[out[-1]]))
    beats = np.array(out[::-1], dtype=int)
    # trim beats at the ends that fall on (near) nothing
    strength = local[beats]
    thr = 0.5 * np.sqrt(np.mean(strength**2))
    strong = np.flatnonzero(strength >= thr)
    return beats[strong[0] : strong[-1] + 1] if strong.size else np.zeros(0, dtype=int)


def track(
    feats: Features,
    *,
    start_bpm: float = 105.0,
    fallback_period: float = 0.5,
    min_beats: int = 8,
    latency: float = 0.045,
) -> BeatGrid:
    """Track beats, refine them below the frame grid, and estimate the metre and bar phase.

    Parameters
    ----------
    feats : Features
    start_bpm : float
        Tempo prior of the beat tracker.
    fallback_period : float
        Beat period (s) of the uniform grid used when fewer than ``min_beats`` beats are found.
    min_beats : int
    latency : float
        How long (s) the onset envelope peaks after a note starts (the frame's look-back of one
        hop and the rise of the instrument's attack): beats are placed this much earlier.

    Returns
    -------
    BeatGrid
    """
    env = feats.onset_env
    fps = feats.sr / feats.hop_length
    beats = np.zeros(0, dtype=int)
    if env.size > 64 and float(env.max(initial=0.0)) > 0:
        period = estimate_period(env, sr=feats.sr, hop_length=feats.hop_length, start_bpm=start_bpm)
        beats = dp_beats(env, period)
        if beats.size >= min_beats and not _regular(beats, env):
            beats = np.zeros(0, dtype=int)
    steady = beats.size >= min_beats
    if not steady:
        step = max(1, int(round(fallback_period * fps)))
        frames = np.arange(0, max(feats.n_frames, 1), step, dtype=int)
        times = feats.frames_to_time(frames)
        tempo = None
    else:
        pos = refine_beats(env, beats, period=float(np.median(np.diff(beats))))
        per = beat_period(pos)
        tempo = 60.0 * fps / per
        pos = _extend(pos - latency * fps, per, feats.n_frames)
        frames = np.clip(np.round(pos), 0, max(feats.n_frames - 1, 0)).astype(int)
        times = pos / fps
    bpb, phase = meter(feats, frames) if steady else (4, 0)
    if bpb == 8:
        # a bar of 8 beats is a bar of 4 at half the tempo: keep the beats on the downbeat's side
        # of each pair
        keep = np.arange(phase % 2, frames.size, 2)
        frames, times, bpb, phase = frames[keep], times[keep], bpb // 2, phase // 2
        tempo = 60.0 / beat_period(times)
    down = np.arange(phase, frames.size, bpb, dtype=int)
    return BeatGrid(
        tempo=tempo, beat_frames=frames, beat_times=times, downbeat_index=down, beats_per_bar=bpb, steady=steady
    )


def refine_beats(
    onset_env: np.ndarray, beat_frames: np.ndarray, *, period: float, radius: int = 2, smooth: int = 2
) -> np.ndarray:
    """Beat positions between frames.

    Each beat moves to the peak of the lightly smoothed onset envelope within ``radius`` frames
    (a parabola through the peak and its neighbours places it between frames); then each
    position is drawn halfway toward a straight line fitted through the ``smooth`` beats on
    either side, which averages out the frame rounding of the onsets.

    Parameters
    ----------
    onset_env : np.ndarray [shape=(n,)]
    beat_frames : np.ndarray [shape=(n_beats,), int]
    period : float
        Beat period (frames), sets the smoothing of the envelope.
    radius : int
        How far (frames) a beat may move to an onset peak.
    smooth : int
        Beats on each side of the line fit.

    Returns
    -------
    np.ndarray [shape=(n_beats,), float] : positions in (fractional) frames.
    """
    n = onset_env.size
    sigma = max(0.5, period / 32.0)
    k = np.arange(-int(3 * sigma) - 1, int(3 * sigma) + 2)
    local = np.convolve(onset_env, np.exp(-0.5 * (k / sigma) ** 2), mode="same")
    near = np.clip(beat_frames[:, None] + np.arange(-radius, radius + 1)[None, :], 1, max(n - 2, 1))
    best = near[np.arange(beat_frames.size), np.argmax(local[near], axis=1)]
    a, b, c = local[best - 1], local[best], local[best + 1]
    den = a - 2 * b + c
    off = np.where(den < 0, 0.5 * (a - c) / np.where(den < 0, den, -1.0), 0.0)
    pos = best + np.clip(off, -0.5, 0.5)
    if smooth > 0 and pos.size > 2 * smooth + 1:
        fit = _local_line(pos, smooth)
        # a beat far from the line (a tempo change, a missed beat) keeps its own position
        ok = np.abs(fit - pos) < 0.1 * period
        pos = np.where(ok, 0.5 * (pos + fit), pos)
    return pos


def _local_line(y: np.ndarray, half: int) -> np.ndarray:
    """At each index, the value of the least-squares line through ``y`` over ``half`` points on
    either side."""
    n = y.size
    x = np.arange(n, dtype=float)

    def wsum(v):
        c = np.concatenate([[0.0], np.cumsum(v)])
        lo = np.maximum(np.arange(n) - half, 0)
        hi = np.minimum(np.arange(n) + half + 1, n)
        return c[hi] - c[lo]

    m, sx, sy, sxx, sxy = wsum(np.ones(n)), wsum(x), wsum(y), wsum(x * x), wsum(x * y)
    den = m * sxx - sx * sx
    slope = np.where(den > 0, (m * sxy - sx * sy) / np.where(den > 0, den, 1.0), 0.0)
    icpt = (sy - slope * sx) / m
    return slope * x + icpt


def beat_period(positions: np.ndarray, *, span: int = 16) -> float:
    """The beat period (same unit as ``positions``): the median over the song of the mean
    interval across ``span`` consecutive beats, which is precise to a small fraction of a frame
    and ignores the odd missed or extra beat.

    Parameters
    ----------
    positions : np.ndarray [shape=(n_beats,)]
    span : int

    Returns
    -------
    float
    """
    positions = np.asarray(positions, dtype=float)
    span = int(min(span, max(1, positions.size // 2)))
    if positions.size < 2:
        return float("nan")
    return float(np.median((positions[span:] - positions[:-span]) / span))


def _regular(beats: np.ndarray, env: np.ndarray, *, min_contrast: float = 1.15) -> bool:
    """Whether the onsets on the beats stand out from those between them (a real pulse)."""
    on = float(np.mean(env[beats]))
    mid = (beats[:-1] + beats[1:]) // 2
    off = float(np.mean(env[mid])) if mid.size else 0.0
    return on > min_contrast * off + 1e-9


#: See :func:`_extend`. A song cut to start on its first beat has that beat a few ms below 0 s
#: once the latency is taken off (the onset envelope has no frame before the first sample).
HEAD_TOLERANCE = 0.0


def _extend(positions: np.ndarray, period: float, n_frames: int) -> np.ndarray:
    """Continue the beats with ``period`` (frames) over the silent head and tail of the song.

    A head beat less than ``HEAD_TOLERANCE`` periods before the first sample is moved onto it
    (0: dropped, as every beat before the start is).
    """
    head = np.arange(positions[0] - period, -0.5 * period, -period)[::-1]
    tail = np.arange(positions[-1] + period, n_frames - 0.5 * period, period)
    out = np.concatenate([head, positions, tail])
    out = np.maximum(out[(out >= -HEAD_TOLERANCE * period) & (out <= max(n_frames - 1, 0))], 0.0)
    # keep one beat per frame
    keep = np.concatenate([[True], np.diff(np.round(out)) > 0])
    return out[keep]
