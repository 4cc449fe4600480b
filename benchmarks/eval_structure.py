"""Score the structure analysis against human annotations (the POP909 corpus convention).

Usage::

    python benchmarks/eval_structure.py                 # every domain side by side (see DOMAINS)
    python benchmarks/eval_structure.py FOLDER [--per-song] [--workers 2] [--limit N] [--split]
    python benchmarks/eval_structure.py --domains dev-piano,dev-band --per-song

Without FOLDER it scores, in one run, every domain of :data:`DOMAINS` whose folder exists (the
POP909 dev songs as piano and as a band, the training subsets, the demo songs), prints the previous
release's figures (``benchmarks/structure_baseline.json``) beside them, and prints what the analysis
finds on the unlabelled real recordings (``shared/corpus/real``), and a summary of the unlabelled
game-soundtrack library (``~/.cache/music-explorer-corpus/debian-music``, built by
``shared/corpus/debian-music/fetch.sh``) when it is there.  Features are cached
(``--cache``, keyed by the file and the feature code), so a second run only redoes the stages after
feature extraction.

The domains' folders are rendered by ``benchmarks/render_corpus.py`` (``S`` is ``shared/corpus``, ``C``
``~/.cache/music-explorer-corpus``; seed 0 unless given; the band and produced styles also need Debian's
``timgm6mb-soundfont``, which ``make setup`` does not install, since only these scripts use it)::

    render_corpus.py S/pop909 C/pop909 --style piano                   # dev-piano, 60 songs
    render_corpus.py S/pop909 C/pop909-band                            # dev-band, 60 songs
    render_corpus.py S/pop909-train C/train-piano --style piano --every 18  # 41 songs
    render_corpus.py S/pop909-train C/train-band --every 36            # 21 songs
    render_corpus.py S/pop909-train C/train-band-b --every 12 --offset 6 --limit 60 --seed 1
    render_corpus.py S/pop909-train C/tune-band --every 6 --offset 1 --limit 90 --seed 4
    render_corpus.py S/pop909-train C/tune-piano --style piano --every 6 --offset 5 --limit 90 --seed 5
    render_corpus.py S/pop909-train C/tune-produced --style produced --every 6 --offset 1 --limit 90 --seed 4
    render_corpus.py S/pop909-train C/tune-band-mod --every 6 --offset 1 --limit 90 --seed 4 --modulate
    render_corpus.py S/pop909-train C/tune-produced-mod --style produced --every 6 --offset 1 --limit 90 \
        --seed 4 --modulate
    render_corpus.py S/pop909 C/dev-produced --style produced          # 60 songs, validation only
    render_corpus.py S/pop909 C/dev-produced-mod --style produced --modulate  # 60 songs, validation only
    render_corpus.py S/pop909-train C/tune-band-human --every 6 --offset 1 --limit 90 --seed 4 --humanize 2
    render_corpus.py S/pop909 C/dev-band-human --humanize 2              # 60 songs, validation only
    render_corpus.py S/pop909-train C/tune-sung --every 6 --offset 1 --limit 90 --seed 4 --sing
    render_corpus.py S/pop909 C/dev-sung --sing                          # 60 songs, validation only
    render_corpus.py S/pop909-train C/tune-sung-human --every 6 --offset 1 --limit 90 --seed 4 --sing \
        --humanize 2
    render_corpus.py S/pop909 C/dev-sung-human --sing --humanize 2       # 60 songs, validation only
    render_corpus.py S/pop909-train C/tune2-sung-human --every 6 --offset 4 --limit 60 --seed 7 --sing \
        --humanize 2

The two ``tune-*`` subsets (90 songs each) are training songs that the boundary network never saw
(it learnt from positions 3 mod 6 of ``pop909-train``): the larger samples to choose settings on,
where a change of .03 in ``found`` on 40–60 songs is within the noise.  ``tune-produced`` holds the songs
of ``tune-band`` arranged as recorded pop is produced (the arrangement follows the sections: sparse
verses, a full, louder chorus, a first verse without drums): paired with ``tune-band``, it shows what a
production that marks the sections does to the analysis.  The ``*-mod`` domains are the same songs with
their last chorus and what follows 1 or 2 semitones higher (the key change of much recorded pop).  The
``*-human`` domains are ``tune-band`` and ``dev-band`` played as people play (``render_corpus.py
--humanize 2``): no two repeats of a section are note for note the same, and they repeat about as
exactly as the real recordings do (``benchmarks/repetition_strength.py``).  The ``*-sung`` domains are
``tune-band`` and ``dev-band`` with the melody sung to lyrics (``render_corpus.py --sing``,
``benchmarks/sing.py``): a chorus to the same words every time, a verse to new ones, as the issue's
real recordings, whose chorus is "the lyric lines sung again", are; the ``*-sung-human`` ones are
also played loosely (``--humanize 2``).  ``tune2-sung-human`` is a second training sample of that
rendering (60 other songs, another seed): a setting whose gain on ``tune-sung-human`` is real gains
there too, before the validation songs are looked at.

FOLDER holds ``NAME.mp3`` (or another audio format) beside ``NAME.json`` in the format of
``shared/corpus/pop909/segments`` (``annotator1``/``annotator2`` with ``sections``, ``phrases``,
``choruses``, ``chorus_reliable``).  Default: ``~/.cache/music-explorer-corpus/pop909``.
``resources/demo`` works too: the demo songs' truth files (pop, rock, reggae, ballad and waltz with
drums and bass, made with the project) are read as one annotator whose phrases are the sections.

Prints, as the mean over songs and over both annotators (mir_eval):
HR.5F and HR3F (``segment.detection``, trim=False), PWF (``segment.pairwise`` with both sides padded to
[0, duration]), chorus frame F1 (0.1 s frames, songs whose ``chorus_reliable`` is true), and repeat
recall / precision as the corpus README defines them.  ``--split`` also prints the two halves of the
corpus apart: ``tune`` (even positions in name order, the songs parameters were tuned on) and
``held-out`` (odd positions).

Also: ``found``, the share of songs with a reliable chorus where a detected chorus starts within 3 s
of a reference chorus's start, and ``func``, the share of the song's time whose function (intro,
verse, pre-chorus, chorus, bridge, instrumental, outro) matches the reference's
(:func:`reference_functions` names POP909's letters).  ``--intervals`` adds each figure's 90 % bootstrap
interval over the domain's songs: how far another sample of as many songs of that rendering could put it
(on 60 songs, found spans about ±.1).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from explorer.analysis.types import FUNCTIONS  # noqa: E402 - the functions a section can have

AUDIO_EXT = (".mp3", ".flac", ".wav", ".ogg", ".opus", ".m4a")
FRAME = 0.1
ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("CORPUS_CACHE", os.path.expanduser("~/.cache/music-explorer-corpus")))
SHARED = Path(os.environ.get("SHARED_CORPUS", "/work/shared/corpus"))
#: Scored domains: name -> folder of annotated audio.  ``dev-*`` are validation only (never tune on
#: them); ``train-*`` are subsets of pop909-train rendered by ``benchmarks/render_corpus.py``.
DOMAINS = {
    "dev-piano": CORPUS / "pop909",
    "dev-band": CORPUS / "pop909-band",
    "train-piano": CORPUS / "train-piano",
    "train-band": CORPUS / "train-band",
    "train-band-b": CORPUS / "train-band-b",
    "tune-piano": CORPUS / "tune-piano",
    "tune-band": CORPUS / "tune-band",
    "tune-produced": CORPUS / "tune-produced",
    "tune-band-mod": CORPUS / "tune-band-mod",
    "tune-produced-mod": CORPUS / "tune-produced-mod",
    "dev-produced": CORPUS / "dev-produced",
    "dev-produced-mod": CORPUS / "dev-produced-mod",
    "tune-band-human": CORPUS / "tune-band-human",
    "dev-band-human": CORPUS / "dev-band-human",
    "tune-sung": CORPUS / "tune-sung",
    "dev-sung": CORPUS / "dev-sung",
    "tune-sung-human": CORPUS / "tune-sung-human",
    "dev-sung-human": CORPUS / "dev-sung-human",
    "tune2-sung-human": CORPUS / "tune2-sung-human",
    "demo": ROOT / "resources" / "demo",
}
REAL = SHARED / "real"
LIBRARY = CORPUS / "debian-music"
BASELINE = Path(__file__).with_name("structure_baseline.json")


def _intervals(items):
    return np.array([[float(x["start"]), float(x["end"])] for x in items], dtype=float).reshape(-1, 2)


def _overlap(a, b):
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def _frames(intervals, duration):
    n = int(np.ceil(duration / FRAME))
    on = np.zeros(n, dtype=bool)
    t = (np.arange(n) + 0.5) * FRAME
    for s, e in intervals:
        on |= (t >= s) & (t < e)
    return on


def score_song(est: dict, ann: dict, duration: float, reliable: bool) -> dict:
    """All figures of one estimated analysis (``Analysis.to_dict()``) against one annotator."""
    import mir_eval

    ref_i = _intervals(ann["sections"])
    ref_l = [x["label"] for x in ann["sections"]]
    est_i = _intervals(est["sections"])
    est_l = [x["label"] for x in est["sections"]]
    out = {}
    for w, key in ((0.5, "HR.5F"), (3.0, "HR3F")):
        out[key] = mir_eval.segment.detection(ref_i, est_i, window=w, trim=False)[2]
    end = max(duration, float(ref_i[-1, 1]), float(est_i[-1, 1]))
    ri, rl = mir_eval.util.adjust_intervals(ref_i, ref_l, t_min=0.0, t_max=end)
    ei, el = mir_eval.util.adjust_intervals(est_i, est_l, t_min=0.0, t_max=end)
    out["PWF"] = mir_eval.segment.pairwise(ri, rl, ei, el, frame_size=FRAME)[2]
    if reliable:
        r = _frames(_intervals(ann["choruses"]), end)
        e = _frames(_intervals(est["choruses"]), end)
        tp = float(np.sum(r & e))
        p = tp / e.sum() if e.sum() else 0.0
        rc = tp / r.sum() if r.sum() else 0.0
        out["chorusF1"] = 2 * p * rc / (p + rc) if p + rc else 0.0
        starts = [float(c["start"]) for c in est["choruses"]]
        out["found"] = float(any(abs(a - float(c["start"])) <= 3.0 for c in ann["choruses"] for a in starts))
        if est["choruses"]:  # how well the chorus's confidence foretells a right pick (chorus F1 >= .5)
            conf = float(np.mean([float(c["confidence"]) for c in est["choruses"]]))
            out["chorus_brier"] = (conf - float(out["chorusF1"] >= 0.5)) ** 2
    ref_f = reference_functions(ann)
    if ref_f is not None:
        out["func"] = _function_accuracy(est["sections"], ann["sections"], ref_f, end)
    groups = _groups(est)
    rec = _repeat_recall(ann["sections"], groups)
    if rec is not None:
        out["repeat_recall"] = rec
    prec = _repeat_precision(ann["phrases"], groups)
    if prec is not None:
        out["repeat_precision"] = prec
    return out


def reference_functions(ann: dict) -> list[str] | None:
    """The function of every reference section: its own ``function`` when the truth names it (demo
    songs); else from POP909's letters: ``i`` intro, ``o`` outro, other lower case instrumental, the
    chorus letter chorus, a melodic letter that always comes right before a chorus and after other
    melodic material pre-chorus, ``X`` (not repeated) bridge, other melodic letters verse."""
    secs = ann["sections"]
    if all("function" in x for x in secs):
        return [x["function"] for x in secs]
    ch = ann.get("chorus_letter")
    labels = [x["label"] for x in secs]
    pre = set()
    for lab in set(labels):
        if not lab.isupper() or lab in (ch, "X"):
            continue
        idx = [i for i, x in enumerate(labels) if x == lab]
        if ch and all(
            i + 1 < len(labels) and labels[i + 1] == ch and i > 0 and labels[i - 1].isupper() and labels[i - 1] != ch
            for i in idx
        ):
            pre.add(lab)
    out = []
    for lab in labels:
        if lab == "i":
            out.append("intro")
        elif lab == "o":
            out.append("outro")
        elif lab.islower():
            out.append("instrumental")
        elif lab == ch:
            out.append("chorus")
        elif lab in pre:
            out.append("pre-chorus")
        elif lab == "X":
            out.append("bridge")
        else:
            out.append("verse")
    return out


def _function_accuracy(est_sections, ref_sections, ref_functions, end) -> float:
    """Share of the reference's span whose estimated function equals the reference function."""
    n = int(np.ceil(end / FRAME))
    t = (np.arange(n) + 0.5) * FRAME
    ref = np.full(n, "", dtype=object)
    est = np.full(n, "", dtype=object)
    for x, f in zip(ref_sections, ref_functions):
        ref[(t >= x["start"]) & (t < x["end"])] = f
    for x in est_sections:
        est[(t >= x["start"]) & (t < x["end"])] = x.get("function", "other")
    on = ref != ""
    return float(np.mean(ref[on] == est[on])) if on.any() else 0.0


def _groups(est: dict) -> list[list[tuple[float, float]]]:
    """Detected groups: sections sharing a label, the choruses, each motif's occurrences."""
    by_label: dict[str, list] = {}
    for s in est["sections"]:
        by_label.setdefault(s["label"], []).append((s["start"], s["end"]))
    groups = [g for g in by_label.values() if len(g) > 1]
    if len(est["choruses"]) > 1:
        groups.append([(c["start"], c["end"]) for c in est["choruses"]])
    groups += [[(o["start"], o["end"]) for o in m["occurrences"]] for m in est["motifs"]]
    return groups


def _repeat_recall(sections, groups):
    secs = [((s["start"], s["end"]), s["label"]) for s in sections]
    pairs = [(a[0], b[0]) for i, a in enumerate(secs) for b in secs[i + 1 :] if a[1] == b[1] and a[1] not in ("X", "x")]
    if not pairs:
        return None
    hit = 0
    for s1, s2 in pairs:
        found = False
        for g in groups:
            c1 = [k for k, m in enumerate(g) if _overlap(m, s1) >= 0.5 * (s1[1] - s1[0])]
            c2 = [k for k, m in enumerate(g) if _overlap(m, s2) >= 0.5 * (s2[1] - s2[0])]
            if any(a != b for a in c1 for b in c2):
                found = True
                break
        hit += found
    return hit / len(pairs)


def _repeat_precision(phrases, groups):
    melodic = [((p["start"], p["end"]), p["label"]) for p in phrases if p["label"].isupper()]

    def home(m):
        best, k = 0.0, None
        for i, (iv, _) in enumerate(melodic):
            o = _overlap(m, iv)
            if o > best:
                best, k = o, i
        return k if k is not None and best >= 0.5 * (m[1] - m[0]) else None

    good = total = 0
    for g in groups:
        homes = [home(m) for m in g]
        for i in range(len(g)):
            for j in range(i + 1, len(g)):
                if homes[i] is None or homes[j] is None:
                    continue
                total += 1
                li, lj = melodic[homes[i]][1], melodic[homes[j]][1]
                good += homes[i] != homes[j] and li == lj and li != "X"
    return good / total if total else None


def _annotations(ref: dict) -> dict:
    """POP909 annotations as they are; a demo song's truth (``resources/demo/*.json``, one plan
    that is exact by construction) as one annotator whose phrases are its sections."""
    if not str(ref.get("schema", "")).startswith("music-explorer/demo-truth"):
        return ref
    ann = {
        "sections": ref["sections"],
        "choruses": ref["choruses"],
        "phrases": [dict(s, label=s["label"]) for s in ref["sections"]],
    }
    return {"annotator1": ann, "chorus_reliable": len(ref["choruses"]) > 1}


def _valid(ann: dict) -> dict:
    """The annotation without sections, phrases or choruses that end before they start (one
    training song's intro runs from 257.9 s to 16.0 s)."""
    out = dict(ann)
    for key in ("sections", "phrases", "choruses"):
        if key in ann:
            out[key] = [x for x in ann[key] if float(x["end"]) > float(x["start"])]
    return out


_CACHE: Path | None = None


def features_key(audio: Path) -> str:
    """Cache key of the features of ``audio``: the file, the decode ``analyze`` does and the feature code."""
    import hashlib

    from explorer.analysis import dsp, filters
    from explorer.analysis import features as fm

    st = audio.stat()
    # the decode as the product does it (ffmpeg, mono at the analysis rate) and every module the features
    # are computed by
    h = hashlib.sha1(f"{audio.resolve()}|{st.st_size}|{st.st_mtime_ns}|ffmpeg mono {fm.SR}".encode())
    for mod in (fm, dsp, filters):
        h.update(Path(mod.__file__).read_bytes())
    return h.hexdigest()[:20]


def use_boundary_network(path: str | Path | None) -> None:
    """Analyse with the boundary network in ``path`` (an ``.npz`` of ``train_boundaries.py``) instead of
    the shipped one; None goes back to the shipped one.  In this process only."""
    from explorer.analysis import boundaries, pipeline
    from explorer.util.modelfiles import models_dir

    pipeline._MODEL = None if path is None else (str(models_dir()), boundaries.read_arrays(Path(path).read_bytes()))


def vocal_score(audio, cache: Path | None = None) -> float | None:
    """The song's vocal score as the product computes it (``genre.model.vocal_score`` of the song decoded
    as ``services.analyze`` decodes it), kept in ``cache`` beside the features; None without models."""
    from explorer.analysis import features as fm
    from explorer.audio.decode import decode
    from explorer.errors import ExplorerError
    from explorer.genre import model as gm

    audio = Path(audio)
    path = None
    if cache is not None:
        path = cache / "voice" / f"{features_key(audio)}-{gm.MODEL_VERSION}.json"
        if path.exists():
            return json.loads(path.read_text())["vocal"]
    try:
        models = gm.load_models(threads=1)
    except ExplorerError:
        return None
    buf = decode(str(audio), sr=fm.SR, mono=True)
    score = gm.vocal_score(models.networks.analyse(buf.mono(), sr=buf.sr), models.networks.tag_names)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"vocal": score}))
        os.replace(tmp, path)
    return score


def analyse_file(audio, cache: Path | None = None) -> tuple[dict, float]:
    """``Analysis.to_dict()`` of one file (features from ``cache`` when there), and the seconds it took."""
    from explorer.analysis import features as fm
    from explorer.analysis import pipeline
    from explorer.analysis.types import Analysis

    audio = Path(audio)
    t = time.perf_counter()
    path = cache / (features_key(audio) + ".npz") if cache is not None else None
    if path is not None and path.exists():
        with np.load(path, allow_pickle=False) as z:
            meta = z["meta"]
            feats = fm.Features(
                sr=int(meta[0]),
                hop_length=int(meta[1]),
                n_frames=int(meta[2]),
                duration=float(meta[3]),
                mel_db=z["mel_db"],
                onset_env=z["onset_env"],
                chroma=z["chroma"],
                mfcc=z["mfcc"],
                rms=z["rms"],
            )
            duration, sr, ch = float(meta[4]), int(meta[5]), int(meta[6])
    else:
        from explorer.audio.decode import decode

        buf = decode(str(audio), sr=fm.SR, mono=True)  # as services.analyze decodes it
        feats = fm.compute(fm.to_mono(buf.samples, buf.sr))
        duration, sr, ch = buf.duration, buf.sr, buf.channels
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp.npz")
            np.savez(
                tmp,
                meta=np.array(
                    [feats.sr, feats.hop_length, feats.n_frames, feats.duration, duration, sr, ch], dtype=float
                ),
                mel_db=feats.mel_db,
                onset_env=feats.onset_env,
                chroma=feats.chroma,
                mfcc=feats.mfcc,
                rms=feats.rms,
            )
            os.replace(tmp, path)
    heard: dict = {}

    def voice():
        heard["vocal_score"] = vocal_score(audio, cache)
        return heard["vocal_score"]

    res = pipeline.from_features(feats, duration=duration, voice=voice)
    res.pop("warnings")
    a = Analysis(file=str(audio), duration=duration, sample_rate=sr, channels=ch, **res)
    # a song that repeats loosely was asked for its vocal score: kept for the reader (``describe``)
    return a.to_dict() | heard, time.perf_counter() - t


def _work(args):
    audio, ref_path = args[:2]
    cache = args[2] if len(args) > 2 else None
    method = args[3] if len(args) > 3 else "ours"
    ref = _annotations(json.loads(Path(ref_path).read_text()))
    est, elapsed = _analyse_with(audio, cache, method)
    scores = {}
    for name in ("annotator1", "annotator2"):
        if name not in ref:
            continue
        ann = _valid(ref[name])
        reliable = bool(ref.get("chorus_reliable", ann.get("chorus_reliable", False)))
        scores[name] = score_song(est, ann, est["duration"], reliable)
    return Path(audio).stem, scores, elapsed, est


KEYS = ("HR.5F", "HR3F", "PWF", "chorusF1", "found", "repeat_recall", "repeat_precision", "func")
SHORT = {
    "HR.5F": "HR.5F",
    "HR3F": "HR3F",
    "PWF": "PWF",
    "chorusF1": "chF1",
    "found": "found",
    "repeat_recall": "repR",
    "repeat_precision": "repP",
    "func": "func",
}


def song_figure(scores: dict, key: str) -> float:
    """One song's figure: the mean over its annotators that have it (NaN when none has)."""
    vals = [s[key] for s in scores.values() if key in s]
    return float(np.mean(vals)) if vals else float("nan")


def _song_figures(rows, key: str) -> np.ndarray:
    """Every song's :func:`song_figure` that exists."""
    per_song = np.array([song_figure(scores, key) for _, scores, *_ in rows], dtype=float)
    return per_song[np.isfinite(per_song)]


def summarise(rows):
    """Mean over songs of the mean over annotators, per figure, with the number of songs that have it."""
    out = {}
    for k in KEYS:
        per_song = _song_figures(rows, k)
        out[k] = (float(per_song.mean()) if per_song.size else float("nan"), int(per_song.size))
    return out


def bootstrap_interval(values, *, draws: int = 2000, seed: int = 0, level: float = 0.9) -> tuple[float, float]:
    """The ``level`` bootstrap interval of the mean of ``values`` (one per song, resampled with replacement;
    the same resamples for every call with as many values)."""
    v = np.asarray(values, dtype=float)
    idx = np.random.default_rng(seed).integers(0, v.size, size=(draws, v.size))
    lo, hi = np.percentile(v[idx].mean(axis=1), [50 * (1 - level), 50 * (1 + level)])
    return float(lo), float(hi)


def intervals(rows) -> dict:
    """Per figure, the 90 % bootstrap interval of :func:`summarise`'s mean over songs: how far another
    sample of as many songs of this rendering could put the figure."""
    return {k: bootstrap_interval(v) for k in KEYS if (v := _song_figures(rows, k)).size}


def _print_summary(title, rows):
    s = summarise(rows)
    cells = "  ".join(f"{k} {v:.3f} (n={n})" for k, (v, n) in s.items())
    print(f"{title:>9} [{len(rows)} songs]  {cells}")


def _pairs(folder: Path) -> list[tuple[Path, Path]]:
    pairs = []
    for ref in sorted(folder.glob("*.json")):
        audio = next((ref.with_suffix(e) for e in AUDIO_EXT if ref.with_suffix(e).exists()), None)
        if audio is not None:
            pairs.append((audio, ref))
    return pairs


def _table(results: dict, baseline: dict) -> None:
    w = max([12, *(len(d) for d in results)])
    head = f"{'domain':<{w}} {'songs':>5}  " + "  ".join(f"{SHORT[k]:>11}" for k in KEYS)
    print(head)
    for dom, rows in results.items():
        now = summarise(rows)
        old = baseline.get(dom, {})
        cells = []
        for k in KEYS:
            v, n = now[k]
            o = old.get(k)
            cells.append(
                f"{v:5.3f}" + (f" ({o:4.2f})" if o is not None and o == o else "       ") if n else f"{'-':>11}"
            )
        print(f"{dom:<{w}} {len(rows):>5}  " + "  ".join(f"{c:>11}" for c in cells))
    print(
        "(previous release in brackets: benchmarks/structure_baseline.json; found = chorus found within 3 s; "
        "func = share of time with the reference function)"
    )
    cells = []
    for dom, rows in results.items():
        vals = [[s["chorus_brier"] for s in sc.values() if "chorus_brier" in s] for _, sc, *_ in rows]
        per_song = [float(np.mean(v)) for v in vals if v]
        if per_song:
            cells.append(f"{dom} {np.mean(per_song):.3f} ({len(per_song)})")
    if cells:
        print(
            "chorus confidence, Brier score against a right pick (chorus F1 >= .5), lower is better (songs): "
            + ", ".join(cells)
        )


def _fmt_t(t: float) -> str:
    return f"{int(t // 60)}:{t % 60:04.1f}"


def describe(est: dict) -> str:
    """What the analysis found in one song, for a reader to judge against the music."""
    from explorer.analysis import pipeline

    meter = est.get("meter")
    lines = [
        f"  tempo {est.get('tempo')} BPM, meter {meter if meter is not None else '?'}, "
        f"{len(est['sections'])} sections, {len(est['choruses'])} choruses"
        + (f"; chorus note: {est['chorus_note']}" if est.get("chorus_note") else "")
        + (
            f"; key change {est['key_change']['semitones']:+d} at {_fmt_t(est['key_change']['at'])}"
            if est.get("key_change")
            else ""
        )
    ]
    if "vocal_score" in est:
        score = est["vocal_score"]
        sung = score is not None and score > pipeline.VOICE_SCORE
        lines[0] += (
            "; repeats loosely, vocal score "
            + ("unknown" if score is None else f"{score:+.3f}")
            + (": sung, longer stretches compared" if sung else "")
        )
    lines.append("  " + " | ".join(f"{_fmt_t(x['start'])} {x['label']} {x['function']}" for x in est["sections"]))
    if est["choruses"]:
        lines.append(
            "  choruses: "
            + ", ".join(f"{_fmt_t(c['start'])}-{_fmt_t(c['end'])} ({c['confidence']:.2f})" for c in est["choruses"])
        )
    return "\n".join(lines)


def _analyse_with(audio, cache, method: str) -> tuple[dict, float]:
    if method == "laplacian":
        import laplacian_recipe

        t = time.perf_counter()
        return laplacian_recipe.analyse(audio), time.perf_counter() - t
    return analyse_file(audio, cache)


def _real(pool, cache, method: str = "ours") -> None:
    files = sorted(p for p in REAL.glob("*") if p.suffix in AUDIO_EXT) if REAL.is_dir() else []
    if not files:
        return
    print(f"\nreal recordings ({REAL}), no annotations: what the analysis finds")
    for f, (est, el) in zip(files, pool.starmap(_analyse_with, [(f, cache, method) for f in files])):
        print(f"{f.stem[:60]} ({est['duration']:.0f} s, {el:.1f} s)")
        print(describe(est))


def library_summary(rows: list[dict]) -> dict:
    """What the analysis makes of a set of unlabelled songs (``Analysis.to_dict()`` each): how many get
    a chorus, how many only an intro and an outro (nothing in between named), how many have one section
    longer than half the song, the median number of sections per minute, and the share of all time in
    each function (:data:`explorer.analysis.types.FUNCTIONS`)."""
    time_in = dict.fromkeys(FUNCTIONS, 0.0)
    for est in rows:
        for x in est["sections"]:
            key = x["function"] if x["function"] in time_in else "other"
            time_in[key] += x["end"] - x["start"]
    total = sum(time_in.values()) or 1.0
    bare = [{x["function"] for x in est["sections"]} <= {"intro", "outro", "other"} for est in rows]
    return {
        "songs": len(rows),
        "chorus": sum(bool(est["choruses"]) for est in rows),
        "intro_outro_only": sum(bare),
        "one_long": sum(
            max((x["end"] - x["start"] for x in est["sections"]), default=0.0) > 0.5 * est["duration"] for est in rows
        ),
        "sections_per_min": float(
            np.median([len(est["sections"]) / max(est["duration"] / 60, 1e-9) for est in rows]) if rows else 0.0
        ),
        "time": {k: v / total for k, v in time_in.items()},
    }


def _library(pool, cache) -> None:
    """The summary of :func:`library_summary` for every folder of :data:`LIBRARY`, one line each."""
    folders = sorted(d for d in LIBRARY.iterdir() if d.is_dir()) if LIBRARY.is_dir() else []
    jobs = [(d.name, f) for d in folders for f in sorted(d.iterdir()) if f.suffix in AUDIO_EXT]
    if not jobs:
        return
    found = pool.starmap(analyse_file, [(f, cache) for _, f in jobs])
    by: dict[str, list[dict]] = {}
    for (name, _), (est, _) in zip(jobs, found):
        by.setdefault(name, []).append(est)
    by["all"] = [est for rows in list(by.values()) for est in rows]
    print(f"\ngame-soundtrack library ({LIBRARY}), no annotations: songs with a chorus, with only an intro and an")
    print("outro, with one section longer than half the song; median sections per minute; share of time by function")
    print(
        f"{'':22s} {'songs':>5s} {'chorus':>6s} {'in/out':>6s} {'long':>5s} {'sec/min':>7s}  "
        + " ".join(f"{f[:5]:>5s}" for f in FUNCTIONS)
    )
    for name, rows in by.items():
        s = library_summary(rows)
        print(
            f"{name[:22]:22s} {s['songs']:5d} {s['chorus']:6d} {s['intro_outro_only']:6d} {s['one_long']:5d} "
            f"{s['sections_per_min']:7.2f}  " + " ".join(f"{s['time'][f]:5.2f}" for f in FUNCTIONS)
        )


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?", help="one folder of annotated audio (default: every domain)")
    ap.add_argument("--domains", help="comma-separated names from DOMAINS (default: all that exist)")
    ap.add_argument("--per-song", action="store_true", help="print every song's figures")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="only the first N songs (of each domain)")
    ap.add_argument("--split", action="store_true", help="also print the tune and held-out halves")
    ap.add_argument("--only", choices=("tune", "held-out"), help="score one half only")
    ap.add_argument("--dump", metavar="DIR", help="write every analysis as JSON into DIR")
    ap.add_argument(
        "--cache", default=str(CORPUS / "features"), help="folder for cached features ('' to compute them every time)"
    )
    ap.add_argument(
        "--no-real", action="store_true", help="skip the unlabelled real recordings and the game-soundtrack library"
    )
    ap.add_argument(
        "--method",
        choices=("ours", "laplacian"),
        default="ours",
        help="the analyser to score: ours, or librosa's Laplacian segmentation recipe (benchmarks/laplacian_recipe.py)",
    )
    ap.add_argument(
        "--intervals",
        action="store_true",
        help="also print each figure's 90 %% bootstrap interval over the songs of its domain",
    )
    ap.add_argument(
        "--save-baseline",
        action="store_true",
        help="store these figures as the previous release's (benchmarks/structure_baseline.json)",
    )
    args = ap.parse_args(argv)
    cache = Path(args.cache) if args.cache else None

    if args.folder:
        domains = {Path(args.folder).name: Path(args.folder)}
    else:
        names = args.domains.split(",") if args.domains else list(DOMAINS)
        domains = {n: DOMAINS[n] for n in names if DOMAINS[n].is_dir()}
    baseline = json.loads(BASELINE.read_text()) if BASELINE.exists() else {}
    if args.method != "ours":
        if args.save_baseline:
            ap.error("--save-baseline stores our own figures only")
        baseline = {}  # the brackets hold our previous release's figures, not another analyser's
    results = {}
    t0 = time.perf_counter()
    with mp.get_context("spawn").Pool(args.workers) as pool:
        for dom, folder in domains.items():
            pairs = _pairs(folder)
            halves = {p[0].stem: ("tune" if i % 2 == 0 else "held-out") for i, p in enumerate(pairs)}
            if args.only:
                pairs = [p for p in pairs if halves[p[0].stem] == args.only]
            if args.limit:
                pairs = pairs[: args.limit]
            if not pairs:
                print(f"{dom}: no annotated audio in {folder}")
                continue
            rows = pool.map(_work, [(a, r, cache, args.method) for a, r in pairs], chunksize=1)
            results[dom] = rows
            if args.dump:
                os.makedirs(Path(args.dump, dom), exist_ok=True)
                for name, _, _, est in rows:
                    Path(args.dump, dom, name + ".json").write_text(json.dumps(est))
            if args.per_song:
                print(f"-- {dom}")
                for name, scores, el, est in rows:
                    cells = "  ".join(
                        f"{SHORT[k]} " + "/".join(f"{s.get(k, float('nan')):.2f}" for s in scores.values())
                        for k in KEYS
                    )
                    print(
                        f"{name} [{halves[name]}] {el:5.1f}s  {cells}  "
                        + " ".join(f"{x['label']}:{x['function'][:5]}" for x in est["sections"])
                    )
            if args.split:
                for h in ("tune", "held-out"):
                    sub = [r for r in rows if halves[r[0]] == h]
                    if sub:
                        _print_summary(f"{dom}:{h}"[-9:], sub)
        wall = time.perf_counter() - t0
        print()
        _table(results, baseline)
        if args.intervals:
            print("90 % bootstrap intervals over songs (another sample of as many songs of the rendering):")
            for dom, rows in results.items():
                cells = "  ".join(f"{SHORT[k]} {lo:.2f}-{hi:.2f}" for k, (lo, hi) in intervals(rows).items())
                print(f"  {dom}: {cells}")
        if not args.folder and not args.no_real:
            _real(pool, cache, args.method)
            if args.method == "ours":
                _library(pool, cache)
    n = sum(len(r) for r in results.values())
    med = np.median([r[2] for rows in results.values() for r in rows]) if n else float("nan")
    print(
        f"\n{n} songs in {wall:.0f} s wall ({args.workers} workers), median {med:.2f} s per song"
        + (" (cached features + analysis)" if cache else " (decode + analyse)")
    )
    if args.save_baseline:
        out = {dom: {k: v for k, (v, m) in summarise(rows).items() if m} for dom, rows in results.items()}
        baseline.update(out)
        BASELINE.write_text(json.dumps(baseline, indent=1, sort_keys=True) + "\n")
        print(f"baseline written to {BASELINE}")


if __name__ == "__main__":
    main()
