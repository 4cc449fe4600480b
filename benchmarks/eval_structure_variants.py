"""Score variants of the structure stages side by side, without changing the product's code.

Usage::

    python benchmarks/eval_structure_variants.py --domains train-piano,train-band \\
        --configs '[{}, {"w": 0.35, "nets": ["mtt"]}, {"w": 0.5, "mode": "avg", "nets": ["msd"]}]'
    python benchmarks/eval_structure_variants.py --excerpts 50            # make x-train-piano, x-train-band
    python benchmarks/eval_structure_variants.py --domains x-train-piano,x-train-band --configs '[{}, {"fb": 0}]'
    python benchmarks/eval_structure_variants.py --domains x-train-piano --join-stats

Under each domain's figures, every variant's change per song against the first one (found and chorus F1) is
printed with a 90 % paired bootstrap interval over the songs and how many songs went up and down.  The interval
covers another sample of as many songs, not the choice of the best of many variants tried on one sample: a
setting chosen on one training sample is checked on another (``tune2-sung-human`` beside ``tune-sung-human``).

A variant is a JSON object; ``{}`` is the product as it is.  Keys:

``w``, ``mode``, ``nets``, ``sub``
    Fuse frame-level musicnn embeddings into the beat-level recurrence.  The penultimate layer (200-d) of
    the named networks (``msd``, ``mtt``) is computed for 3-s patches every ``3 s · sub`` over the
    whole song (cached under ``~/.cache/music-explorer-corpus/musicnn-frames``), interpolated at the
    middle of each structure unit and standardised per dimension over the song.  ``mode="concat"``
    (default) appends it with weight ``w`` to the unit-norm chroma and MFCC vectors before the
    time-delay embedding and the kNN affinity; ``mode="avg"`` builds a second kNN affinity from the
    embeddings alone and mixes the two, ``(1 - w) · R + w · R_emb``.
``steps``, ``ks``, ``sm``, ``wt``
    ``structure.recurrence``'s ``n_steps`` (beats stacked per vector), ``k_scale`` (neighbours kept,
    times the square root of the song's units), ``smooth`` (diagonal smoothing, units) and ``w_timbre``.
``gate``, ``steps_loose``
    A song whose median unit repeats below ``gate`` over 4 bars (16 units) elsewhere (the figure of
    ``repetition_strength.py``) gets its recurrence from ``steps_loose`` (default 8) beats per vector.
    With ``voice_map`` (a JSON file: "FOLDER/STEM" -> the song's vocal score, MTT musicnn's vocal tags
    minus its no-vocal tags) only a song scoring above ``voice`` (default 0.02) can be gated.
``vrep``, ``vscore``, ``vsteps``
    ``pipeline.VOICE_REPEAT``, ``pipeline.VOICE_SCORE`` and ``pipeline.VOICE_STEPS``: a sung song that
    repeats loosely compares longer stretches (``vrep`` 0 never, as analysis 1.25 did).
``cmed``, ``cpow``, ``ctop``, ``cq``
    The chroma the recurrence compares: each unit's as the median of its frames rather than their mean
    (``cmed``: true; the other stages get it too), raised to ``cpow`` (the product takes its square
    root, 0.5), only its ``ctop`` strongest pitch classes kept, or quantised as in CENS (``cq``: true;
    the unit's shares of its energy counted against .05, .1, .2 and .4).
``lab_steps``, ``lab_gate``
    The sections' labels (``pipeline._sections``: segment similarity, the repetition graph's embedding,
    loop cycles) come from a recurrence of ``lab_steps`` beats per vector, the boundaries from the
    product's; with ``lab_gate``, only for a song whose median unit repeats below it (as ``gate``), and
    with ``voice_map`` only for a song the taggers hear singing in (as ``gate``).
    ``lab_swap`` (true) turns it round: the product's recurrence for the labels, ``lab_steps`` for the
    boundaries, the chorus's confidence and the motifs.  ``long_in`` (a list of ``nov``, ``onsets``,
    ``learned``) gives the ``lab_steps`` recurrence to those boundary inputs only; ``long_mix`` (``max``,
    ``mean``) combines their answers on both recurrences instead.
``of``, ``of_rel``
    ``structure.repetition_onsets``'s ``floor`` (.3), and that floor times the song's median unit's best
    4-bar repeat (``repetition_strength.py``) over ``of_rel`` (never more than the floor itself).
``steps2``
    A second ``n_steps``: the recurrence is the mean of the two (raw and path-smoothed), short and long
    stretches compared at once.
``fb``
    ``pipeline.FALLBACK_SHARE`` (at the finest cut, the most similar non-neighbouring pair is joined when
    its median-relative similarity reaches ``fb · LABEL_THRESHOLD``).
``pen``
    ``pipeline.PENALTIES`` (segment costs tried coarse to fine).
``wl``, ``model``, ``pickup``, ``lt``
    ``pipeline.W_LEARNED`` (the share of the boundary strength given to the learned boundary network),
    the network's ``.npz`` file (default: the shipped one), ``pipeline.PICKUP_BARS`` and
    ``pipeline.LABEL_THRESHOLD``.
``kg``
    ``pipeline.KEY_CHANGE_GAIN`` (how much better a lasting key change must make the later part match
    before it is undone; ``1e9`` never undoes one).
``chorus``
    A chorus scorer's JSON (``train_chorus.py --out``) used instead of the shipped weights.
``pair``
    ``pipeline.MAX_PAIR_BARS`` (the longest pair of labels joined into one unit; 0 joins none).
``mth``, ``mmax``, ``mmut``
    The motif search's ``threshold`` (least mean affinity along a recurrence), ``max_motifs`` and
    ``mutual`` (least mean affinity between any two occurrences; 0 turns the rule off)
    (:func:`explorer.analysis.motifs.find`).
``edges``
    ``pipeline.EDGES_AS_SECTIONS`` (true: the silent or ringing head and tail are sections of their
    own, as before analysis 1.24).
``intro``
    ``pipeline.INTRO_BARS`` (how much longer than a later occurrence of its label the opening section
    must be before its unmatched head becomes an intro; null: never split).
``pre``
    ``chorus.PRE_CHORUS_SHARE`` (a section before the chorus is a pre-chorus when it lasts at most this
    share of the section before it).
``short_share``
    ``structure.segment``'s ``short_seconds`` (segments shorter than it cost more; 14 s) becomes at most
    this share of the segmented stretch's length.
``level``
    ``pipeline.LEVEL_LENGTH_RATIO`` (a segmentation level whose repeats do not pair up in length within
    this ratio is cut finer; null: the first level in which anything repeats is kept).
``loose``, ``floor``
    ``pipeline.LOOSE_REPEAT`` and ``pipeline.LOOSE_FLOOR`` (a song whose clearest repeat is below
    ``loose`` is labelled on the scale of that repeat divided by ``loose``, never below ``floor``;
    ``loose`` null: every song against exact repetition, as before analysis 1.25).
``head``
    ``beats.HEAD_TOLERANCE`` (a beat this share of a period before the file's start is moved onto it;
    0: dropped).
``short_s``, ``w_short``
    ``structure.segment``'s ``short_seconds`` and ``w_short`` themselves.

The variants replace ``structure.recurrence``, ``beatsync.beat_sync`` and the two constants inside
the worker processes only.  ``--excerpts SECONDS`` writes the first SECONDS of every training render
(``train-piano``, ``train-band``) with its annotations clipped to them into ``x-<domain>``: short pieces
like the waltz and the Hungarian Dance of ``shared/corpus/real``, where the fallback join decides
whether anything repeats.  ``--join-stats`` prints, for every song that reaches that fallback, the
statistics of its most similar non-neighbouring pair and whether the annotators give both segments
the same letter (majority overlap with their phrases).
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import multiprocessing as mp
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import eval_structure as es  # noqa: E402

FRAMES = es.CORPUS / "musicnn-frames"
for _name in ("train-piano", "train-band"):
    es.DOMAINS["x-" + _name] = es.CORPUS / ("x-" + _name)

_state: dict = {}


def _embedding_path(audio: Path) -> Path:
    st = audio.stat()
    return FRAMES / (hashlib.sha1(f"{audio.resolve()}|{st.st_size}|187".encode()).hexdigest()[:20] + ".npz")


def song_embeddings(audio: Path) -> dict:
    """Penultimate layers of both musicnn networks for 3-s patches every 3 s over the whole song (cached)."""
    path = _embedding_path(audio)
    if path.exists():
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    from explorer.audio.decode import decode
    from explorer.genre import features as gf
    from explorer.genre import model as gm

    buf = decode(str(audio))
    y16 = gf._at_musicnn_rate(buf.mono(), sr=buf.sr)
    logmel = gf.logmel_frames(y16, start=0, stop=1 + y16.size // gf.MUSICNN_HOP)
    starts = np.arange(0, max(logmel.shape[0] - gf.PATCH_FRAMES, 0) + 1, gf.PATCH_FRAMES)
    if logmel.shape[0] < gf.PATCH_FRAMES:
        starts = starts[:0]
    patches = np.zeros((len(starts), gf.PATCH_FRAMES, gf.MUSICNN_N_MELS), np.float32)
    for i, s in enumerate(starts):
        patches[i] = logmel[s : s + gf.PATCH_FRAMES]
    out = gm.load_models(threads=1).networks.run(patches, np.zeros(len(starts), int))
    res = {
        "t": (starts + gf.PATCH_FRAMES / 2) * gf.MUSICNN_HOP / gf.MUSICNN_SR,
        "msd": out.embeddings["MSD_musicnn"],
        "mtt": out.embeddings["MTT_musicnn"],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **res)
    os.replace(tmp, path)
    return res


def _unit_embeddings(cfg: dict) -> np.ndarray | None:
    """The configured embeddings at the middle of every structure unit [shape=(d, n_units)], standardised."""
    z, mid = _state.get("emb"), _state["mid"]
    blocks = []
    for net in cfg.get("nets", ["msd"]):
        sub = int(cfg.get("sub", 1))
        E, te = z[net][::sub], z["t"][::sub]
        if E.shape[0] == 0:
            return None
        if E.shape[0] == 1:
            U = np.repeat(E[:1], mid.size, axis=0)
        else:
            idx = np.clip(np.searchsorted(te, mid), 1, len(te) - 1)
            a = np.clip((mid - te[idx - 1]) / np.maximum(te[idx] - te[idx - 1], 1e-9), 0, 1)[:, None]
            U = (1 - a) * E[idx - 1] + a * E[idx]
        U = (U - U.mean(axis=0)) / (U.std(axis=0) + 1e-9)
        blocks.append(U.T)
    return np.vstack(blocks)


def _voiced(cfg: dict) -> bool:
    """Whether the song being analysed may be gated: always without ``voice_map``, else when its vocal
    score in that map is above ``voice``."""
    if "voice_map" not in cfg:
        return True
    from vocal_scores import map_key

    voices = _state.setdefault("voices", json.loads(Path(cfg["voice_map"]).read_text()))
    return voices.get(map_key(_state["audio"]), -1.0) > float(cfg.get("voice", 0.02))


def _median_strength(R: np.ndarray) -> float | None:
    """The song's median unit's best 4-bar repeat elsewhere (``repetition_strength.py``), None when short."""
    from explorer.analysis.structure import repeat_strength

    best = repeat_strength(R, span=16)
    return None if best is None else float(np.median(best))


def _knn_affinity(X: np.ndarray, *, steps: int, k: int) -> np.ndarray:
    from explorer.analysis.structure import normalise_cols, stack_centered

    Xs = normalise_cols(stack_centered(X, steps))
    D = np.clip(1.0 - Xs.T @ Xs, 0.0, 2.0)
    np.fill_diagonal(D, np.inf)
    kth = np.partition(D, k - 1, axis=1)[:, k - 1]
    sigma = float(np.median(kth[np.isfinite(kth)])) + 1e-9
    np.fill_diagonal(D, 0.0)
    link = (D <= kth[:, None]) & (D <= kth[None, :])
    R = np.where(link, np.exp(-D / sigma), 0.0).astype(np.float32)
    np.fill_diagonal(R, 1.0)
    return R


def _install() -> None:
    """Wrap the structure functions the variants change (in this worker process only)."""
    from explorer.analysis import beatsync, structure

    if _state.get("installed"):
        return
    beat_sync, recurrence = beatsync.beat_sync, structure.recurrence

    def sync(feats, frames):
        t = np.append(np.asarray(frames), feats.n_frames) * feats.hop_length / feats.sr
        _state["mid"] = 0.5 * (t[:-1] + t[1:])
        out = beat_sync(feats, frames)
        if _state["cfg"].get("cmed"):  # a unit's chroma is the median of its frames, not their mean
            from explorer.analysis import dsp

            n = np.asarray(frames).size
            bounds = np.maximum.accumulate(np.clip(np.append(frames, feats.n_frames), 0, feats.n_frames))
            out["chroma"] = dsp.sync(feats.chroma, bounds, aggregate=np.median, pad=False)[:, :n]
        return out

    def robust(chroma):
        """The unit chroma the recurrence compares, after the configured ``cq`` / ``cpow`` / ``ctop``."""
        cfg = _state["cfg"]
        C = np.maximum(np.asarray(chroma, dtype=np.float64), 0)
        if "cpow" in cfg:  # recurrence takes the square root: this makes the exponent cpow
            C = C ** (2 * float(cfg["cpow"]))
        if cfg.get("ctop"):  # only the strongest pitch classes of each unit
            kth = -np.sort(-C, axis=0)[int(cfg["ctop"]) - 1]
            C = np.where(C >= kth[None, :], C, 0.0)
        if cfg.get("cq"):  # CENS quantisation (Mueller): shares of the unit's energy in steps
            P = C / np.maximum(C.sum(axis=0, keepdims=True), 1e-12)
            C = sum((P >= th).astype(np.float64) for th in (0.05, 0.1, 0.2, 0.4))
        return C.astype(np.float32)

    def fused(chroma, mfcc, *, n_steps=4, k=None, k_scale=2.0, smooth=8, w_timbre=0.35):
        cfg = _state["cfg"]
        chroma = robust(chroma)
        n_steps = int(cfg.get("steps", n_steps))
        k_scale = float(cfg.get("ks", k_scale))
        smooth = int(cfg.get("sm", smooth))
        w_timbre = float(cfg.get("wt", w_timbre))
        n = chroma.shape[1]
        E = _unit_embeddings(cfg) if cfg.get("w", 0) > 0 and _state.get("emb") is not None and n >= 3 else None
        if E is None and "gate" in cfg:  # a song that repeats loosely compares longer stretches
            R, R_path = recurrence(
                chroma, mfcc, n_steps=n_steps, k=k, k_scale=k_scale, smooth=smooth, w_timbre=w_timbre
            )
            if not _voiced(cfg):
                return R, R_path
            strength = _median_strength(R)
            if strength is not None and strength < float(cfg["gate"]):
                loose = int(cfg.get("steps_loose", 8))
                return recurrence(chroma, mfcc, n_steps=loose, k=k, k_scale=k_scale, smooth=smooth, w_timbre=w_timbre)
            return R, R_path
        if E is None and "lab_steps" in cfg:  # the labels compare longer stretches, the boundaries do not
            R, R_path = recurrence(
                chroma, mfcc, n_steps=n_steps, k=k, k_scale=k_scale, smooth=smooth, w_timbre=w_timbre
            )
            _state["lab"] = _state["long"] = None
            if not _voiced(cfg):
                return R, R_path
            if "lab_gate" in cfg:
                strength = _median_strength(R)
                if strength is None or strength >= float(cfg["lab_gate"]):
                    return R, R_path
            other = recurrence(
                chroma, mfcc, n_steps=int(cfg["lab_steps"]), k=k, k_scale=k_scale, smooth=smooth, w_timbre=w_timbre
            )
            if cfg.get("long_in"):  # only the named boundary inputs compare longer stretches
                _state["lab"], _state["long"] = None, other
                return R, R_path
            if cfg.get("lab_swap"):  # the other way round: longer stretches for everything but the labels
                _state["lab"] = (R, R_path)
                return other
            _state["lab"] = other
            return R, R_path
        if E is None and "steps2" in cfg:  # two time-delay embeddings, their affinities averaged
            pairs = [
                recurrence(chroma, mfcc, n_steps=st, k=k, k_scale=k_scale, smooth=smooth, w_timbre=w_timbre)
                for st in (n_steps, int(cfg["steps2"]))
            ]
            R = (0.5 * (pairs[0][0] + pairs[1][0])).astype(np.float32)
            R_path = 0.5 * (pairs[0][1] + pairs[1][1])
            return R, (R_path / max(float(R_path.max()), 1e-9)).astype(np.float32)
        if E is None:
            return recurrence(chroma, mfcc, n_steps=n_steps, k=k, k_scale=k_scale, smooth=smooth, w_timbre=w_timbre)
        from explorer.analysis.structure import normalise_cols

        C = normalise_cols(np.maximum(chroma, 0) ** 0.5)
        Mz = (mfcc[1:] - mfcc[1:].mean(axis=1, keepdims=True)) / (mfcc[1:].std(axis=1, keepdims=True) + 1e-9)
        steps = max(1, min(n_steps, n - 1))
        k = int(min(max(2, k if k is not None else int(np.ceil(k_scale * np.sqrt(n)))), n - 1))
        w = float(cfg["w"])
        if cfg.get("mode", "concat") == "concat":
            R = _knn_affinity(np.vstack([C, w_timbre * normalise_cols(Mz), w * normalise_cols(E)]), steps=steps, k=k)
        else:
            R = (
                (1 - w) * _knn_affinity(np.vstack([C, w_timbre * normalise_cols(Mz)]), steps=steps, k=k)
                + w * _knn_affinity(normalise_cols(E), steps=steps, k=k)
            ).astype(np.float32)
        import scipy.ndimage

        L = max(1, min(smooth, n))  # diagonal smoothing, as structure.recurrence does it
        R_path = scipy.ndimage.convolve(R, np.eye(L, dtype=np.float32) / L, mode="constant")
        R_path = R_path / max(float(R_path.max()), 1e-9)
        return R, np.clip(R_path, 0, 1).astype(np.float32)

    segment = structure.segment

    def seg(nov, downbeat, **kw):
        share, times = _state["cfg"].get("short_share"), kw.get("times")
        if share is not None and times is not None and len(times) > 1:
            kw["short_seconds"] = min(14.0, share * float(times[-1] - times[0]))
        for key, arg in (("short_s", "short_seconds"), ("w_short", "w_short")):
            if key in _state["cfg"]:
                kw[arg] = float(_state["cfg"][key])
        return segment(nov, downbeat, **kw)

    from explorer.analysis import pipeline

    sections = pipeline._sections

    def labelled(R, R_path, *args, **kw):
        lab = _state.get("lab") if "lab_steps" in _state["cfg"] else None
        if lab is not None and lab[0].shape == R.shape:
            R, R_path = lab
        return sections(R, R_path, *args, **kw)

    def long_for(name, fn, i_r, i_p):
        """``fn`` with its recurrence arguments (positions ``i_r``, ``i_p``) from the longer stretches
        when ``long_in`` names it."""

        def wrapped(*args, **kw):
            other, cfg = _state.get("long"), _state["cfg"]
            if name not in (cfg.get("long_in") or ()) or other is None or other[0].shape != args[0].shape:
                return fn(*args, **kw)
            longer = list(args)
            for i, m in ((i_r, other[0]), (i_p, other[1])):
                if i is not None:
                    longer[i] = m
            if not cfg.get("long_mix"):
                return fn(*longer, **kw)
            short, long_ = fn(*args, **kw), fn(*longer, **kw)  # both recurrences' answers, combined
            return np.maximum(short, long_) if cfg["long_mix"] == "max" else 0.5 * (short + long_)

        return wrapped

    structure.novelty = long_for("nov", structure.novelty, None, 0)
    onsets = structure.repetition_onsets

    def onsets_floor(R, **kw):
        cfg = _state["cfg"]
        if "of" in cfg:
            kw["floor"] = float(cfg["of"])
        strength = _median_strength(R) if "of_rel" in cfg else None
        if strength is not None:  # the floor on the song's own scale: its median unit's best repeat over of_rel
            kw["floor"] = kw.get("floor", 0.3) * min(1.0, strength / float(cfg["of_rel"]))
        return onsets(R, **kw)

    structure.repetition_onsets = long_for("onsets", onsets_floor, 0, None)
    pipeline._learned_strength = long_for("learned", pipeline._learned_strength, 0, 1)
    beatsync.beat_sync, structure.recurrence, structure.segment = sync, fused, seg
    pipeline._sections = labelled
    _state["installed"] = True


def _configure(cfg: dict) -> None:
    from explorer.analysis import pipeline

    _state["cfg"] = cfg
    pipeline.FALLBACK_SHARE = float(cfg.get("fb", _state.setdefault("fb0", pipeline.FALLBACK_SHARE)))
    pipeline.PENALTIES = tuple(cfg.get("pen", _state.setdefault("pen0", pipeline.PENALTIES)))
    pipeline.W_LEARNED = float(cfg.get("wl", _state.setdefault("wl0", pipeline.W_LEARNED)))
    pipeline.LABEL_THRESHOLD = float(cfg.get("lt", _state.setdefault("lt0", pipeline.LABEL_THRESHOLD)))
    pipeline.SPLIT_RATIO = float(cfg.get("split", _state.setdefault("split0", pipeline.SPLIT_RATIO)))
    pipeline.PICKUP_BARS = float(cfg.get("pickup", _state.setdefault("pickup0", pipeline.PICKUP_BARS)))
    pipeline.MAX_PAIR_BARS = float(cfg.get("pair", _state.setdefault("pair0", pipeline.MAX_PAIR_BARS)))
    pipeline.KEY_CHANGE_GAIN = float(cfg.get("kg", _state.setdefault("kg0", pipeline.KEY_CHANGE_GAIN)))
    pipeline.INTRO_BARS = cfg.get("intro", _state.setdefault("intro0", pipeline.INTRO_BARS))
    pipeline.EDGES_AS_SECTIONS = cfg.get("edges", _state.setdefault("edges0", pipeline.EDGES_AS_SECTIONS))
    pipeline.LEVEL_LENGTH_RATIO = cfg.get("level", _state.setdefault("level0", pipeline.LEVEL_LENGTH_RATIO))
    pipeline.LOOSE_REPEAT = cfg.get("loose", _state.setdefault("loose0", pipeline.LOOSE_REPEAT))
    pipeline.LOOSE_FLOOR = float(cfg.get("floor", _state.setdefault("floor0", pipeline.LOOSE_FLOOR)))
    pipeline.VOICE_REPEAT = float(cfg.get("vrep", _state.setdefault("vrep0", pipeline.VOICE_REPEAT)))
    pipeline.VOICE_SCORE = float(cfg.get("vscore", _state.setdefault("vscore0", pipeline.VOICE_SCORE)))
    pipeline.VOICE_STEPS = int(cfg.get("vsteps", _state.setdefault("vsteps0", pipeline.VOICE_STEPS)))
    pipeline.beats_mod.HEAD_TOLERANCE = float(
        cfg.get("head", _state.setdefault("head0", pipeline.beats_mod.HEAD_TOLERANCE))
    )
    from explorer.analysis import chorus

    chorus.PRE_CHORUS_SHARE = float(cfg.get("pre", _state.setdefault("pre0", chorus.PRE_CHORUS_SHARE)))
    load = _state.setdefault("load_weights", chorus.load_weights)
    if "chorus" in cfg:
        fitted = chorus.scorer_weights(json.loads(Path(cfg["chorus"]).read_text()))
        chorus.load_weights = lambda path=None: fitted
    else:
        chorus.load_weights = load
    es.use_boundary_network(cfg.get("model"))
    find = _state.setdefault("motifs_find", pipeline.motifs_mod.find)
    kw = {
        arg: cfg[key] for key, arg in (("mth", "threshold"), ("mmax", "max_motifs"), ("mmut", "mutual")) if key in cfg
    }
    pipeline.motifs_mod.find = functools.partial(find, **kw) if kw else find


def _score(est: dict, ref: dict) -> dict:
    scores = {}
    for name in ("annotator1", "annotator2"):
        if name in ref:
            ann = es._valid(ref[name])
            reliable = bool(ref.get("chorus_reliable", ann.get("chorus_reliable", False)))
            scores[name] = es.score_song(est, ann, est["duration"], reliable)
    return scores


def _work(args):
    audio, ref_path, configs, cache = args
    _install()
    _state["audio"] = Path(audio)
    need = any(c.get("w", 0) > 0 for c in configs)
    _state["emb"] = song_embeddings(Path(audio)) if need else None
    ref = es._annotations(json.loads(Path(ref_path).read_text()))
    rows = []
    for cfg in configs:
        _configure(cfg)
        est, _ = es.analyse_file(audio, cache)
        rows.append((Path(audio).stem, _score(est, ref), 0.0, est))
    return rows


def _label_at(phrases, a: float, b: float):
    best, label = 0.0, None
    for p in phrases:
        overlap = min(b, float(p["end"])) - max(a, float(p["start"]))
        if overlap > best:
            best, label = overlap, p["label"]
    return label


def _join_stats(args):
    """The fallback's best non-neighbouring pair of one song, and whether the annotators agree with it."""
    audio, ref_path, cache = args
    from explorer.analysis import labelling, structure

    seen: dict = {}
    segment, join = structure.segment, labelling.join_closest_pair

    def seg(nov, down, **kw):
        cuts = segment(nov, down, **kw)
        seen["times"] = np.asarray(kw["times"])[cuts]
        return cuts

    def joined(sim, labels, *, threshold):
        m = sim.shape[0]
        if m >= 3:
            med = float(np.median(sim[~np.eye(m, dtype=bool)]))
            far = np.triu(np.abs(np.subtract.outer(np.arange(m), np.arange(m))) > 1)
            i, j = np.unravel_index(int(np.argmax(np.where(far, sim, -np.inf))), sim.shape)
            seen.update(
                m=m,
                best=float(sim[i, j]),
                rel=(float(sim[i, j]) - med) / max(1e-9, 1 - med),
                span=(seen["times"][i], seen["times"][i + 1], seen["times"][j], seen["times"][j + 1]),
            )
        return join(sim, labels, threshold=threshold)

    structure.segment, labelling.join_closest_pair = seg, joined
    es.analyse_file(audio, cache)
    if "span" not in seen:
        return None
    ref = es._annotations(json.loads(Path(ref_path).read_text()))
    a0, a1, b0, b1 = seen.pop("span")
    agree = []
    for name in ("annotator1", "annotator2"):
        if name in ref:
            phrases = ref[name]["phrases"]
            la, lb = _label_at(phrases, a0, a1), _label_at(phrases, b0, b1)
            agree.append(la is not None and la == lb)
    seen.pop("times")
    return Path(audio).stem, seen, float(np.mean(agree)) if agree else float("nan")


def make_excerpts(seconds: float) -> None:
    """The first ``seconds`` of every training render, annotations clipped, in ``x-<domain>``."""
    for name in ("train-piano", "train-band"):
        src, dst = es.DOMAINS[name], es.DOMAINS["x-" + name]
        dst.mkdir(parents=True, exist_ok=True)
        for audio, ref in es._pairs(src):
            d = json.loads(ref.read_text())
            n_chorus = []
            for a in ("annotator1", "annotator2"):
                if a not in d:
                    continue
                for key in ("sections", "phrases", "choruses"):
                    d[a][key] = [
                        dict(x, end=min(float(x["end"]), seconds))
                        for x in d[a].get(key, [])
                        if float(x["end"]) > float(x["start"]) and float(x["start"]) < seconds - 2
                    ]
                n_chorus.append(len(d[a]["choruses"]))
            d["chorus_reliable"] = bool(d.get("chorus_reliable")) and min(n_chorus or [0]) >= 1
            out = dst / audio.name
            if not out.exists():
                subprocess.run(
                    ["ffmpeg", "-v", "error", "-y", "-i", str(audio), "-t", str(seconds), "-c", "copy", str(out)],
                    check=True,
                )
            (dst / ref.name).write_text(json.dumps(d))
        print(f"{dst}: {len(es._pairs(dst))} excerpts of {seconds:g} s")


def _print_changes(res, configs) -> None:
    """The songs on which a variant's chorus F1, found or repeat recall (mean of the annotators) differs
    from the first variant's."""
    keys = ("chorusF1", "found", "repeat_recall")

    def means(scores):
        return {k: es.song_figure(scores, k) for k in keys}

    for rows in res:
        base = means(rows[0][1])
        for i in range(1, len(configs)):
            m = means(rows[i][1])
            diff = {k: m[k] - base[k] for k in keys if abs(np.nan_to_num(m[k] - base[k])) > 1e-9}
            if diff:
                print(f"  {rows[0][0]} variant {i}: " + ", ".join(f"{k} {base[k]:.2f} -> {m[k]:.2f}" for k in diff))


def _paired(res, configs, *, keys=("found", "chorusF1")) -> None:
    """Each variant's change against the first one per song (the mean over annotators), with a 90 %
    paired bootstrap interval over the songs (``eval_structure.bootstrap_interval``: the same
    resamples whatever else runs beside it) and how many songs went up and down: what another sample
    of as many songs could show."""
    for i in range(1, len(configs)):
        parts = []
        for key in keys:
            d = np.array([es.song_figure(rows[i][1], key) - es.song_figure(rows[0][1], key) for rows in res])
            d = d[np.isfinite(d)]
            if d.size == 0:
                continue
            lo, hi = es.bootstrap_interval(d)
            parts.append(
                f"{es.SHORT.get(key, key)} {d.mean():+.3f} [{lo:+.3f}, {hi:+.3f}] "
                f"({int((d > 1e-9).sum())} up, {int((d < -1e-9).sum())} down of {d.size})"
            )
        if parts:
            print(f"  variant {i} against {json.dumps(configs[0])}: " + "; ".join(parts))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--domains",
        default="train-piano,train-band",
        help="comma-separated names of eval_structure.DOMAINS (and x-train-piano, x-train-band)",
    )
    ap.add_argument("--configs", default="[{}]", help="JSON list of variants (see the module docstring)")
    ap.add_argument("--excerpts", type=float, metavar="SECONDS", help="make the excerpt domains and stop")
    ap.add_argument("--join-stats", action="store_true", help="print the fallback join's pairs and stop")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--cache", default=str(es.CORPUS / "features"))
    ap.add_argument(
        "--per-song", action="store_true", help="print the songs whose figures differ from the first variant's"
    )
    args = ap.parse_args(argv)
    if args.excerpts:
        make_excerpts(args.excerpts)
        return
    cache = Path(args.cache) if args.cache else None
    configs = json.loads(args.configs)
    with mp.get_context("spawn").Pool(args.workers) as pool:
        for dom in args.domains.split(","):
            pairs = es._pairs(es.DOMAINS.get(dom, es.CORPUS / dom))
            if args.join_stats:
                found = [r for r in pool.map(_join_stats, [(a, r, cache) for a, r in pairs], chunksize=1) if r]
                for name, st, agree in found:
                    print(
                        f"{dom} {name}: {st['m']} segments, best pair {st['best']:.3f} "
                        f"(median-relative {st['rel']:.3f}), annotators agree {agree:.1f}"
                    )
                print(
                    f"== {dom}: {len(found)} of {len(pairs)} songs reach the fallback; its pair is the same "
                    f"material in {sum(a for *_, a in found):.1f}"
                )
                continue
            res = pool.map(_work, [(a, r, configs, cache) for a, r in pairs], chunksize=1)
            print(f"== {dom} ({len(pairs)} songs)")
            for i, cfg in enumerate(configs):
                s = es.summarise([rows[i] for rows in res])
                print(
                    f"{json.dumps(cfg):<58} " + "  ".join(f"{es.SHORT[k]} {v:.3f}" for k, (v, n) in s.items()),
                    flush=True,
                )
            _paired(res, configs)
            if args.per_song:
                _print_changes(res, configs)


if __name__ == "__main__":
    main()
