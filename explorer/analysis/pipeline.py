"""AudioBuffer → Analysis, in stages, reporting progress and honouring cancellation.

The one entry point that the CLI, the GUI worker and the library scanner all call.

Stages: ``features`` (one STFT → mel, onsets, chroma, MFCC, RMS), ``beats`` (tempo, beats,
downbeats), ``recurrence`` (beat-level self-similarity), ``sections`` (boundaries by dynamic
programming over novelty with a phrase-length prior, labels by clustering repetitions),
``chorus`` (the most repeated label, section functions) and ``motifs`` (short recurring windows).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

import numpy as np

from explorer.analysis import beats as beats_mod
from explorer.analysis import beatsync, boundaries, labelling, structure
from explorer.analysis import chorus as chorus_mod
from explorer.analysis import features as features_mod
from explorer.analysis import motifs as motifs_mod
from explorer.analysis.types import Analysis, Chorus, Motif, Occurrence, Section
from explorer.analysis.version import ANALYSIS_VERSION  # noqa: F401 - re-exported: explorer.analysis.pipeline.ANALYSIS_VERSION
from explorer.audio.buffer import AudioBuffer
from explorer.errors import Cancelled
from explorer.util.modelfiles import models_dir

#: Above this many beats the structure stages work on groups of beats (bounded n² memory).
MAX_UNITS = 1500
#: Length (s) of the bar the structure stages count phrases in: the tracked bar, halved or doubled
#: to come nearest it (:func:`~explorer.analysis.beatsync.structural_grid`); 0 keeps the tracked bar.
BAR_SECONDS = 2.8
#: What comes before the first phrase or after the last one (silence, a pick-up, the last chord
#: ringing out) is set apart from the song's form when it lasts at least this long (s).
MIN_SILENT_SECTION = 0.5
#: Whether that head and tail are sections of their own (function "other") or lie outside the
#: sections, as human annotations have it: sections span the music, not the file.
EDGES_AS_SECTIONS = False

#: Two labels that always occur together are one section when together they are at most this long.
MAX_PAIR_BARS = 16
#: A run of one label longer than this is split at its strongest inner boundary.
MAX_SECTION_BARS = 32
#: Segments linked by a chain of similarities above this, on the song's own scale
#: (:func:`labelling.relative_similarity`), share one label.
LABEL_THRESHOLD = 0.3
#: A song whose clearest repeat is below this similarity repeats loosely (played, not sequenced)
#: and its similarities are measured against that repeat (:func:`labelling.relative_similarity`);
#: None measures every song against exact repetition.
LOOSE_REPEAT: float | None = 0.75
#: ... but never against a repeat weaker than this: below it, the clearest pair is noise.
LOOSE_FLOOR = 0.5
#: A sung song that repeats loosely compares longer stretches: when the median unit's best repeat over
#: VOICE_SPAN_BARS bars elsewhere (:func:`structure.repeat_strength` of the raw recurrence) is below
#: VOICE_REPEAT and the song's vocal score (the taggers' vocal tags less their no-vocal tags,
#: ``explorer.genre.model.vocal_score``) is above VOICE_SCORE, the recurrence stacks VOICE_STEPS
#: beats per vector instead of 4.  A voice's vibrato, glides and consonants make it noisy beat by beat,
#: which longer stretches average out; loose playing without a voice does not gain (chosen on the
#: training renders).
VOICE_REPEAT = 0.45
VOICE_SPAN_BARS = 4
VOICE_SCORE = 0.02
VOICE_STEPS = 8
#: A run of one label whose head is other material gets a second label for it
#: (:func:`labelling.split_mixed_runs`); 0 turns this off.
SPLIT_RATIO = 0.5
#: Least timbre match (:func:`labelling.timbre_match`) of a segment and its neighbour with the same label
#: for the two to be the material heard twice rather than one section (a glide through octaves
#: repeats its pitch classes, not its sound).
BACK_TO_BACK_TIMBRE = 0.2
#: Share of the boundary strength that comes from where recurrence paths start and stop
#: (:func:`~explorer.analysis.structure.repetition_onsets`); the rest is novelty.
W_ONSETS = 0.5
#: Bars on the repeated side and on the other side of a path's start or end.
ONSET_AFTER_BARS = 4
ONSET_BEFORE_BARS = 2
#: Share of a bar before each position whose boundary evidence counts for it (pick-ups, fills:
#: see :func:`~explorer.analysis.structure.credit_pickups`).
PICKUP_BARS = 0.5
USE_EMBEDDING = True
#: Segment costs tried in turn (coarse to fine) until some material repeats (from the second on,
#: with the spectral embedding's similarity).
PENALTIES = (0.9, 0.9, 0.6, 0.35)
#: With a ratio r, a level in which some material repeats is kept only when two separate runs of
#: one label are within r of each other in length, or at least r of the time in repeated labels
#: lies in segments with a segment of their label within r; otherwise the next, finer level is
#: tried (:func:`labelling.repeats_pair_up`). None keeps the first level in which anything repeats.
LEVEL_LENGTH_RATIO: float | None = None
#: At the finest level, the closest pair of segments is one label when its (median-relative)
#: similarity reaches this share of LABEL_THRESHOLD.
FALLBACK_SHARE = 0.5
#: Share of the boundary strength given to the learned network (:mod:`boundaries`); the rest stays
#: with the hand-made structure-feature novelty, which was not fitted to any rendering.
W_LEARNED = 0.75
#: A lasting key change is undone before the recurrence when moving the song's later part back by it
#: makes that part match the earlier one better by at least this much (mean cosine gain, see
#: ``structure.key_change``), over at least KEY_CHANGE_BARS bars on both sides.
KEY_CHANGE_GAIN = 0.015
KEY_CHANGE_BARS = 8
#: The opening section outlasting a later occurrence of its label by at least this many bars, with a
#: head unlike that occurrence, is split into an intro and the rest (:func:`labelling.split_opening`);
#: None turns this off.
INTRO_BARS: float | None = 2
#: The boundary network and the folder it was read from (read again when $MUSIC_EXPLORER_MODEL_DIR changes).
_MODEL: tuple[str, dict] | None = None

ProgressFn = Callable[[float, str], None]
CancelFn = Callable[[], bool]
#: Asked at most once per song, only when its repeats are loose: the song's vocal score, or None when
#: it cannot be had (the taggers' model is missing); may block until the taggers have run.
VoiceFn = Callable[[], "float | None"]


def analyze(
    buffer: AudioBuffer,
    *,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    voice: VoiceFn | None = None,
) -> Analysis:
    """Analyse one decoded song.

    Parameters
    ----------
    buffer : AudioBuffer
    progress : callable(fraction, stage) or None
        Called between stages with the fraction done (0–1) and the stage name.
    cancel : callable() -> bool or None
        Polled between stages; raises :class:`~explorer.errors.Cancelled` when it returns True.
    voice : callable() -> float or None, or None
        The song's vocal score (see :data:`VOICE_REPEAT`), asked only when the song repeats loosely;
        None treats every song as unsung.

    Returns
    -------
    Analysis

    Notes
    -----
    numpy's BLAS runs with one thread meanwhile: the result is then the same whoever calls (a scan
    worker, the command line, the window's helper) and on any number of cores (a product split
    between threads is summed in another order), and its threads, which wait for work by spinning,
    do not cost the genre networks beside it their core.
    """
    with _one_blas_thread():
        return _analyze(buffer, progress=progress, cancel=cancel, voice=voice)


def _one_blas_thread():
    """A context in which numpy's BLAS (OpenBLAS, MKL …) uses one thread."""
    try:
        from threadpoolctl import threadpool_limits  # noqa: PLC0415 - comes with scikit-learn
    except ImportError:  # pragma: no cover
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _analyze(
    buffer: AudioBuffer, *, progress: ProgressFn | None, cancel: CancelFn | None, voice: VoiceFn | None
) -> Analysis:
    timings: dict[str, float] = {}
    warnings = list(buffer.warnings)
    t_all = time.perf_counter()
    clock = [t_all]

    def stage(name: str, frac: float, done: str | None = None):
        now = time.perf_counter()
        if done is not None:
            timings[done] = now - clock[0]
        clock[0] = now
        if cancel is not None and cancel():
            raise Cancelled(f"{buffer.path}: analysis cancelled", path=buffer.path)
        if progress is not None:
            progress(frac, name)

    stage("features", 0.0)
    y = features_mod.to_mono(buffer.samples, buffer.sr)
    feats = features_mod.compute(y)
    res = from_features(feats, duration=buffer.duration, stage=stage, voice=voice)
    warnings.extend(res.pop("warnings"))

    timings["total"] = time.perf_counter() - t_all
    return Analysis(
        file=buffer.path,
        duration=buffer.duration,
        sample_rate=buffer.sr,
        channels=buffer.channels,
        timings=timings,
        warnings=tuple(warnings),
        version=ANALYSIS_VERSION,
        **res,
    )


def from_features(
    feats,
    *,
    duration: float,
    stage: Callable = lambda name, frac, done=None: None,
    voice: VoiceFn | None = None,
) -> dict:
    """The stages after feature extraction: beats, recurrence, sections, chorus, motifs.

    Parameters
    ----------
    feats : explorer.analysis.features.Features
    duration : float
        Length of the song (s).
    stage : callable(name, fraction, done=None)
        Called at the start of each stage (``done`` names the stage just finished).
    voice : callable() -> float or None, or None
        The song's vocal score, asked only when the song repeats loosely (:data:`VOICE_REPEAT`).

    Returns
    -------
    dict of :class:`Analysis` fields: tempo, meter, beats, downbeats, sections, choruses, motifs,
    recurrence, recurrence_times, warnings (a list), chorus_note and key_change.
    """
    warnings: list[str] = []
    stage("beats", 0.35, done="features")
    grid = beats_mod.track(feats)
    if not grid.steady:
        warnings.append("no steady beat found: sections use a fixed 0.5 s grid")
    beat_times = grid.beat_times
    downbeat_times = beat_times[grid.downbeat_index] if grid.steady else np.zeros(0)
    sound_start, sound_end = beats_mod.music_extent(feats, grid)
    silent_song = float(feats.rms.max(initial=0.0)) <= 1e-6

    stage("recurrence", 0.45, done="beats")
    # the structure's bar lasts about BAR_SECONDS whatever metrical level the tracker locked to
    base, base_down = grid.beat_frames, None
    if grid.steady and BAR_SECONDS:
        base, base_down, _ = beatsync.structural_grid(
            grid.beat_frames,
            grid.downbeat_index,
            beats_per_bar=grid.beats_per_bar,
            fps=feats.sr / feats.hop_length,
            target_bar=BAR_SECONDS,
            n_frames=feats.n_frames,
        )
    group = max(1, int(np.ceil(base.size / MAX_UNITS)))
    unit_frames = base[::group]
    units_per_bar = max(1, int(round(grid.beats_per_bar / group)))
    unit_down = np.zeros(unit_frames.size + 1, dtype=bool)
    if grid.steady and group == 1 and base_down is not None:
        unit_down = base_down
    elif grid.steady and group == 1:
        unit_down[grid.downbeat_index] = True
    else:
        unit_down[::units_per_bar] = True
    edges = np.concatenate([feats.frames_to_time(unit_frames), [duration]])
    edges[0] = 0.0
    sync = beatsync.beat_sync(feats, unit_frames)
    key_change = _key_change(sync["chroma"], units_per_bar)
    chroma = sync["chroma"]
    if key_change is not None:  # compare the song in one key: the part after the change moved back
        chroma = chroma.copy()
        chroma[:, key_change[0] :] = np.roll(chroma[:, key_change[0] :], -key_change[1], axis=0)
    R, R_path = structure.recurrence(chroma, sync["mfcc"])
    done = "recurrence"
    if voice is not None and _loose(R, units_per_bar):
        stage("vocals", 0.5, done=done)
        done = "vocals"  # the time spent waiting for the taggers, and the second recurrence
        score = voice()
        if score is not None and score > VOICE_SCORE:
            R, R_path = structure.recurrence(chroma, sync["mfcc"], n_steps=VOICE_STEPS)
    if group > 1:
        warnings.append(f"long file: the structure stages use groups of {group} beats")

    stage("sections", 0.6, done=done)
    n = unit_frames.size
    peak = float(sync["rms"].max(initial=0.0))
    active = sync["rms"] > peak * 10 ** (-45 / 20) if peak > 0 else np.zeros(n, dtype=bool)
    u0 = int(np.searchsorted(edges, sound_start - 0.5 * _period(edges)))
    u1 = int(np.searchsorted(edges, sound_end - 0.5 * _period(edges)))
    u0, u1 = min(max(u0, 0), n), min(max(u1, u0), n)
    nov = structure.novelty(R_path, sync["chroma"], sync["mfcc"])
    # where repetitions begin and end, in whole bars: sharper than the smoothed novelty, and on the
    # phrase's first bar rather than spread over both sides of it
    onsets = structure.repetition_onsets(
        R, after=ONSET_AFTER_BARS * units_per_bar, before=ONSET_BEFORE_BARS * units_per_bar
    )
    pickup = int(PICKUP_BARS * units_per_bar)
    nov = structure.credit_pickups(nov, width=pickup)
    learned = _learned_strength(R, R_path, sync, unit_down, units_per_bar, onsets)
    if learned is not None:
        nov = (1 - W_LEARNED) * nov + W_LEARNED * structure.norm01(learned)
    nov = (1 - W_ONSETS) * nov + W_ONSETS * structure.credit_pickups(onsets, width=pickup)
    bounds, labels, silent = _sections(
        R, R_path, nov, sync, unit_down, units_per_bar, u0, u1, n, edges, silent_song, steady=grid.steady
    )

    stage("chorus", 0.8, done="sections")
    times = edges[bounds].copy()
    if len(silent) > 1 and silent[0]:
        times[1] = min(max(sound_start, times[0]), times[2])
    if len(silent) > 1 and silent[-1]:
        times[-2] = min(max(sound_end, times[-3]), times[-1])
    times[0], times[-1] = 0.0, duration
    durs = np.diff(times)
    rms_db = 20 * np.log10(np.maximum(sync["rms"], 1e-6))
    loud = np.array([float(rms_db[bounds[i] : max(bounds[i + 1], bounds[i] + 1)].mean()) for i in range(len(labels))])
    full = np.array(
        [float(sync["fullness"][bounds[i] : max(bounds[i + 1], bounds[i] + 1)].mean()) for i in range(len(labels))]
    )
    conf = _section_confidence(bounds, labels, R_path)
    sounding_labels = [lab if not s else -1 - i for i, (lab, s) in enumerate(zip(labels, silent))]
    chorus_label, chorus_conf = chorus_mod.pick_chorus(
        sounding_labels, durs, loud, fullness=full, repetition=2 * conf - 1
    )
    funcs = chorus_mod.functions(sounding_labels, chorus_label, silent=silent, durations=durs)
    # a stretch of non-repeating material is one section (one bridge, not three)
    groups = chorus_mod.merge_runs(funcs)
    keep = [0] + [i for i in range(1, len(funcs)) if groups[i] != groups[i - 1]]
    bounds = np.append(bounds[keep], bounds[-1])
    times = np.append(times[keep], times[-1])
    labels = [labels[i] for i in keep]
    funcs = [funcs[i] for i in keep]
    conf = conf[keep]
    if not EDGES_AS_SECTIONS:
        # the song's form runs from its first phrase to its last: a silent or ringing head and tail
        # lie outside the sections (a song that is all silence keeps its one section)
        quiet = [silent[i] for i in keep]
        lo = 1 if len(quiet) > 1 and quiet[0] else 0
        hi = len(quiet) - 1 if len(quiet) - lo > 1 and quiet[-1] else len(quiet)
        bounds, times = bounds[lo : hi + 1], times[lo : hi + 1]
        labels, funcs, conf = labels[lo:hi], funcs[lo:hi], conf[lo:hi]
    letters = _letters(_renumber(labels))
    sections = tuple(
        Section(
            float(times[i]),
            float(times[i + 1]),
            letters[i],
            funcs[i],
            float(chorus_conf if funcs[i] == "chorus" else conf[i]),
        )
        for i in range(len(labels))
    )
    choruses = tuple(Chorus(s.start, s.end, s.confidence) for s in sections if s.function == "chorus")

    stage("motifs", 0.9, done="chorus")
    hits = motifs_mod.find(R, edges, active=active, beats_per_bar=units_per_bar)
    motifs = tuple(
        Motif(k, tuple(Occurrence(float(edges[s]), float(edges[s + h.length])) for s in h.starts), float(h.score))
        for k, h in enumerate(hits)
    )
    chorus_note = _chorus_note(bool(choruses), silent=silent_song, steady=grid.steady, motifs=len(motifs))

    stage("done", 1.0, done="motifs")
    return dict(
        tempo=grid.tempo,
        meter=grid.beats_per_bar if grid.steady else None,
        beats=tuple(float(b) for b in beat_times) if grid.steady else (),
        downbeats=tuple(float(b) for b in downbeat_times),
        sections=sections,
        choruses=choruses,
        motifs=motifs,
        recurrence=R_path,
        recurrence_times=edges,
        warnings=warnings,
        chorus_note=chorus_note,
        key_change=None if key_change is None else (float(edges[key_change[0]]), key_change[1]),
    )


def _loose(R: np.ndarray, units_per_bar: int) -> bool:
    """Whether the song's median unit repeats below :data:`VOICE_REPEAT` (False for a short song)."""
    best = structure.repeat_strength(R, span=VOICE_SPAN_BARS * units_per_bar)
    return best is not None and float(np.median(best)) < VOICE_REPEAT


def _key_change(chroma: np.ndarray, units_per_bar: int) -> tuple[int, int] | None:
    """A lasting key change worth undoing (``structure.key_change``): the first unit in the new key
    and the semitones the key moved, or None."""
    change = structure.key_change(chroma, min_units=KEY_CHANGE_BARS * units_per_bar, margin=KEY_CHANGE_GAIN)
    if change is None or change[2] < KEY_CHANGE_GAIN:
        return None
    return change[0], change[1]


def _chorus_note(has_chorus: bool, *, silent: bool, steady: bool, motifs: int) -> str:
    """Why a song has no chorus, in words for its header ("" when it has one).

    It says what the analysis did not find rather than what the music lacks: a passage may come back
    too briefly or too changed to make a section (the matrix shows it), and the motifs the song has
    are named, so the note never contradicts the motif lane.
    """
    if has_chorus:
        return ""
    if silent:
        return "silent: nothing to analyse"
    found = "no repeated section found" if steady else "no steady beat and no repeated section found"
    if motifs:
        return f"{found}, only short motifs that return"
    return found


def _boundary_model() -> dict:
    global _MODEL
    folder = models_dir()
    if _MODEL is None or _MODEL[0] != str(folder):
        _MODEL = (str(folder), boundaries.load_model(folder))
    return _MODEL[1]


def _learned_inputs(R, R_path, sync, unit_down, units_per_bar, onsets=None) -> np.ndarray:
    """The boundary network's inputs at every position (:func:`boundaries.unit_features`)."""
    return boundaries.unit_features(
        R=R,
        R_path=R_path,
        chroma=sync["chroma"],
        mfcc=sync["mfcc"],
        rms=sync["rms"],
        fullness=sync["fullness"],
        downbeat=unit_down,
        units_per_bar=units_per_bar,
        onsets=onsets if ONSET_AFTER_BARS == 4 and ONSET_BEFORE_BARS == 2 else None,
    )


def _learned_strength(R, R_path, sync, unit_down, units_per_bar, onsets=None) -> np.ndarray | None:
    """The boundary network's probability at every position (None when it is not used)."""
    if W_LEARNED <= 0 or R.shape[0] < 4:
        return None
    return boundaries.probability(_learned_inputs(R, R_path, sync, unit_down, units_per_bar, onsets), _boundary_model())


def _period(edges: np.ndarray) -> float:
    return float(np.median(np.diff(edges))) if edges.size > 1 else 0.0


def _sections(
    R, R_path, nov, sync, unit_down, units_per_bar, u0, u1, n, edges, silent_song, *, steady=True
) -> tuple[np.ndarray, list[int], list[bool]]:
    """Boundaries (unit indices, 0 … n) and a label per section; silent head/tail sections apart
    (``steady``: the units follow a tracked beat, so a whole number of bars can be a cycle)."""
    if silent_song or u1 - u0 < 1:
        return np.array([0, n]), [0], [silent_song]
    bounds = [0]
    silent = []
    if u0 > 0 and edges[u0] >= MIN_SILENT_SECTION:
        bounds.append(u0)
        silent.append(True)
    else:
        u0 = 0
    tail = u1 < n and edges[n] - edges[u1] >= MIN_SILENT_SECTION
    if not tail:
        u1 = n
    sl = slice(u0, u1)
    # coarse to fine: when no material comes back at the first segmentation, let the repetition
    # graph's embedding vouch for repeats too, then cut finer (repeats shorter than the first
    # segments, or cut across by them, show up), and at the finest level join the closest pair
    # of segments that are not neighbours if it stands out of the song
    emb = None
    for k, penalty in enumerate(PENALTIES):
        if k == 1 and USE_EMBEDDING:
            emb = labelling.spectral_embedding(R_path[sl, sl], sync["mfcc"][:, sl])
        inner = (
            structure.segment(
                nov[u0 : u1 + 1],
                unit_down[u0 : u1 + 1],
                beats_per_bar=units_per_bar,
                times=edges[u0 : u1 + 1],
                penalty=penalty,
            )
            + u0
        )
        sim = labelling.segment_similarity(
            inner - u0, R[sl, sl], sync["mfcc"][:, sl], beats_per_bar=units_per_bar, embedding=emb
        )
        first: list[int] | np.ndarray = labelling.cluster(
            sim, threshold=LABEL_THRESHOLD, method="single", loose_below=LOOSE_REPEAT, floor=LOOSE_FLOOR
        )
        if SPLIT_RATIO > 0:
            first = labelling.split_mixed_runs(first, sim, ratio=SPLIT_RATIO)
        lab = labelling.merge_pairs(
            list(first),
            np.diff(inner),
            max_length=MAX_PAIR_BARS * units_per_bar,
        )
        finest = k == len(PENALTIES) - 1
        if _repeats(lab) and (
            finest
            or LEVEL_LENGTH_RATIO is None
            or labelling.repeats_pair_up(lab, np.diff(inner), ratio=LEVEL_LENGTH_RATIO)
        ):
            break
        if finest:
            lab = labelling.join_closest_pair(sim, lab, threshold=LABEL_THRESHOLD * FALLBACK_SHARE)
    # music that plays one cycle of bars over and over repeats only back to back: its cycles are the sections
    cycles = None
    if steady and not _repeats(lab):
        cycles = labelling.loop_cycles(
            R[sl, sl], unit_down[u0 : u1 + 1], units_per_bar=units_per_bar, mfcc=sync["mfcc"][:, sl]
        )
    if cycles is not None:
        merged_b, merged_l = _cycle_sections(cycles + u0, u0)
    else:
        # merge neighbours with the same label: sections are runs of one kind of material
        merged_b, merged_l = [inner[0]], []
        for i, lb in enumerate(lab):
            if merged_l and merged_l[-1] == lb:
                merged_b[-1] = inner[i + 1]
            else:
                merged_l.append(lb)
                merged_b.append(inner[i + 1])
        merged_b, merged_l = labelling.split_long_runs(
            merged_b, merged_l, inner, nov, max_length=MAX_SECTION_BARS * units_per_bar
        )
        if INTRO_BARS is not None:
            merged_b, merged_l = labelling.split_opening(
                merged_b, merged_l, R_path, min_extra=int(round(INTRO_BARS * units_per_bar))
            )
        if len(set(merged_l)) == len(merged_l):
            # the only repeats are back to back (a strain played twice, as in A A B B): every time
            # the material is heard again is a section, so that the repeat shows
            again_b, again_l = _back_to_back(inner, lab, structure.zscore_cols(sync["mfcc"]))
            if len(set(again_l)) < len(again_l):
                merged_b, merged_l = again_b, again_l
    bounds.extend(merged_b[1:])
    silent.extend([False] * len(merged_l))
    labels = [-1] * (len(silent) - len(merged_l)) + merged_l
    if tail:
        bounds.append(n)
        silent.append(True)
        labels.append(-2)
    uniq: dict[int, int] = {}
    labels = [uniq.setdefault(lb, len(uniq)) for lb in labels]
    return np.array(bounds), labels, silent


def _back_to_back(inner, labels, Z: np.ndarray) -> tuple[list[int], list[int]]:
    """Sections from segments: a segment with its neighbour's label starts a new section when it sounds
    like its neighbour's start as well (the material played again), else it continues the section."""
    bounds: list[int] = [int(inner[0])]
    out: list[int] = []
    for i, lab in enumerate(labels):
        a, b = int(inner[i]), int(inner[i + 1])
        if out and out[-1] == lab:
            prev = bounds[-2]
            if labelling.timbre_match(Z, prev, a, min(a - prev, b - a)) < BACK_TO_BACK_TIMBRE:
                bounds[-1] = b
                continue
        out.append(lab)
        bounds.append(b)
    return bounds, out


def _cycle_sections(cycles: np.ndarray, start: int) -> tuple[list[int], list[int]]:
    """Sections of looped music: a head before the first cycle, then the cycles; every piece at
    least three quarters of a cycle long is the cycle's material (label 0), shorter ones are their own."""
    bounds = [int(start)] + [int(c) for c in cycles if c > start]
    period = int(np.median(np.diff(cycles)))
    labels, other = [], 1
    for a, b in zip(bounds[:-1], bounds[1:]):
        if a >= cycles[0] and b - a >= 0.75 * period:
            labels.append(0)
        else:
            labels.append(other)
            other += 1
    return bounds, labels


def _section_confidence(bounds, labels, R_path) -> np.ndarray:
    """How sure we are of each section: the best repetition of it elsewhere (0.5 when unique)."""
    m = len(labels)
    conf = np.full(m, 0.5)
    for i in range(m):
        a0, a1 = bounds[i], bounds[i + 1]
        others = [j for j in range(m) if j != i and labels[j] == labels[i]]
        if not others or a1 <= a0:
            continue
        vals = []
        for j in others:
            b0 = bounds[j]
            L = min(a1 - a0, bounds[j + 1] - b0)
            idx = np.arange(L)
            vals.append(float(R_path[a0 + idx, b0 + idx].mean()))
        conf[i] = float(np.clip(0.5 + max(vals), 0, 1))
    return conf


def _repeats(labels) -> bool:
    """Whether some label occurs in two separate runs."""
    runs = [lb for i, lb in enumerate(labels) if i == 0 or labels[i - 1] != lb]
    return len(set(runs)) < len(runs)


def _renumber(labels: list[int]) -> list[int]:
    """Labels numbered 0, 1, 2 … in order of first appearance."""
    order: dict[int, int] = {}
    return [order.setdefault(lb, len(order)) for lb in labels]


def _letters(labels: list[int]) -> list[str]:
    out = []
    for lb in labels:
        s, k = "", lb
        while True:
            s = chr(ord("A") + k % 26) + s
            k = k // 26 - 1
            if k < 0:
                break
        out.append(s)
    return out
