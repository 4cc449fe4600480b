"""Score the beat tracker (beats, downbeats, tempo, metre) on material with known beats, before and after.

Usage::

    python benchmarks/eval_beats.py [--workers 2] [--limit N] [--per-song] [--before REV] [--domains a,b]

Domains, side by side:

``piano`` ``band`` ``tempo`` ``triple``
    renders of the POP909 *training* MIDI and of pieces composed for the purpose
    (``benchmarks/render_beat_corpus.py``, in ``~/.cache/music-explorer-corpus/beats``): parameters are
    chosen on these only;
``dev``
    the 60 POP909 dev songs as piano (``~/.cache/music-explorer-corpus/pop909/pop909_NNN.mp3``), with the
    truth beats taken from ``shared/corpus/pop909/midi`` (validation only): ``dev-piano`` below by its
    older name;
``demo``
    the five demo songs (``resources/demo``, truth files with beats, downbeats and time signature);
``real``
    the six unlabelled recordings in ``shared/corpus/real``: only what the tracker finds;
``tune-band``, ``dev-band-human``, … (any name of ``eval_structure.DOMAINS`` but ``demo``)
    the structure corpora's renders (``benchmarks/render_corpus.py``), with the beats of their MIDI at the
    tempo each song was rendered at: how the tracker does on the material the structure stages are scored
    on (the ``dev-*`` ones are validation songs).

Figures: beat F and downbeat F (``mir_eval.beat.f_measure``, 70 ms window, the first 5 s trimmed as
mir_eval does), tempo error (|estimate - truth| in BPM, octave errors counted as they are; the truth is
the median inter-beat interval) and the share of songs within 0.5 BPM, the share at twice or half the
truth's tempo (an octave error: the estimate halved or doubled is within 0.5 BPM), metre accuracy (the tracked bar,
beats per bar times the beat period, within 5 % of the true bar), and the beat stage's time per song.
"Before" is the tracker of git revision REV, loaded from its source (default: the revision before
sub-frame beats came in, the parent of the first commit whose ``beats.py`` mentions ``beat_times``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import multiprocessing as mp
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from eval_structure import DOMAINS  # noqa: E402

CACHE = Path.home() / ".cache" / "music-explorer-corpus"
CORPUS = Path("/work/shared/corpus") if Path("/work/shared/corpus").exists() else ROOT.parent / "shared" / "corpus"
FEATS = Path("/tmp/music-explorer-beat-features")
TRAIN_DOMAINS = ("piano", "band", "tempo", "triple")
AUDIO_EXT = (".flac", ".mp3", ".ogg", ".opus", ".wav")

_BEFORE = None

#: The structure corpora's renders, by ``eval_structure``'s names (their truth: :func:`render_truth`).
STRUCTURE_DOMAINS = {k: v for k, v in DOMAINS.items() if k != "demo"}


def _load_before(rev: str):
    """Import ``explorer/analysis/beats.py`` as it is at git revision ``rev``."""
    src = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{rev}:explorer/analysis/beats.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "beats_before.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location("beats_before", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["beats_before"] = mod
    spec.loader.exec_module(mod)
    return mod


def items(domains: list[str], limit: int | None) -> list[tuple[str, str, Path, dict | None]]:
    """(domain, name, audio, truth or None) of every song to score."""
    out = []
    for d in domains:
        found = []
        if d in TRAIN_DOMAINS:
            for js in sorted((CACHE / "beats" / d).glob("*.json")):
                audio = js.with_suffix(".flac")
                if audio.exists():
                    found.append((d, js.stem, audio, json.loads(js.read_text())))
        elif d == "demo":
            for js in sorted((ROOT / "resources" / "demo").glob("*.json")):
                t = json.loads(js.read_text())
                found.append(
                    (
                        d,
                        js.stem,
                        js.parent / t["file"],
                        {
                            "beats": t["beats"],
                            "downbeats": t["downbeats"],
                            "meter": t["time_signature"][0],
                            "tempo": float(t["tempo"]),
                        },
                    )
                )
        elif d == "dev" or d in STRUCTURE_DOMAINS:
            for js in sorted(STRUCTURE_DOMAINS["dev-piano" if d == "dev" else d].glob("pop909_*.json")):
                audio = js.with_suffix(".mp3")
                if audio.exists():
                    found.append((d, js.stem, audio, {"render": str(js)}))
        elif d == "real":
            for audio in sorted((CORPUS / "real").glob("*.ogg")):
                found.append((d, audio.stem[:40], audio, None))
        out += found[:limit] if limit else found
    return out


def render_truth(meta: Path, *, dev: bool) -> dict:
    """Beats of a ``render_corpus.py`` song (``meta`` is its JSON): its MIDI's, at the tempo it was rendered at."""
    import render_beat_corpus as rbc

    factor = float(json.loads(meta.read_text()).get("render", {}).get("tempo_factor", 1.0))
    sid = meta.stem.split("_")[1]
    _, truth = rbc.pop909_item(sid, "render", {}, 1e9, base=CORPUS / ("pop909" if dev else "pop909-train"))
    return {
        "beats": [t / factor for t in truth["beats"]],
        "downbeats": [t / factor for t in truth["downbeats"]],
        "meter": truth["meter"],
        "tempo": truth["tempo"] * factor,
    }


def bar_length(beats: np.ndarray, downbeats: np.ndarray) -> float:
    if downbeats.size >= 2:
        return float(np.median(np.diff(downbeats)))
    return float("nan")


def score(est_beats, est_down, est_tempo, truth) -> dict:
    import mir_eval

    ref_b = mir_eval.beat.trim_beats(np.asarray(truth["beats"], dtype=float))
    ref_d = mir_eval.beat.trim_beats(np.asarray(truth["downbeats"], dtype=float))
    eb = mir_eval.beat.trim_beats(np.asarray(est_beats, dtype=float))
    ed = mir_eval.beat.trim_beats(np.asarray(est_down, dtype=float))
    out = {
        "beatF": mir_eval.beat.f_measure(ref_b, eb) if eb.size else 0.0,
        "downF": mir_eval.beat.f_measure(ref_d, ed) if ed.size else 0.0,
    }
    true_tempo = 60.0 / float(np.median(np.diff(truth["beats"])))
    out["tempo_err"] = abs(est_tempo - true_tempo) if est_tempo else float("inf")
    out["tempo_ok"] = float(out["tempo_err"] <= 0.5)
    # the neighbouring metrical level: twice or half the truth's tempo (0.5 BPM at the truth's level)
    octave = min(abs(est_tempo / 2 - true_tempo), abs(est_tempo * 2 - true_tempo)) if est_tempo else float("inf")
    out["octave"] = float(octave <= 0.5)
    true_bar = bar_length(np.asarray(truth["beats"]), np.asarray(truth["downbeats"]))
    est_bar = bar_length(np.asarray(est_beats), np.asarray(est_down))
    out["meter_ok"] = float(abs(est_bar - true_bar) <= 0.05 * true_bar) if np.isfinite(est_bar) else 0.0
    return out


def _before_result(feats):
    g = _BEFORE.track(feats)
    bt = feats.frames_to_time(g.beat_frames)
    down = bt[g.downbeat_index] if g.steady else np.zeros(0)
    return (bt if g.steady else np.zeros(0)), down, g.tempo, g.beats_per_bar


def _after_result(feats):
    from explorer.analysis import beats as beats_mod

    g = beats_mod.track(feats)
    bt = g.beat_times
    down = bt[g.downbeat_index] if g.steady else np.zeros(0)
    return (bt if g.steady else np.zeros(0)), down, g.tempo, g.beats_per_bar


def _init(rev):
    global _BEFORE
    _BEFORE = _load_before(rev)


def features(audio: Path):
    """The features the beat stage reads (cached in FEATS: only the 12 lowest mel bands are kept)."""
    from eval_structure import features_key

    from explorer.analysis import features as F

    key = FEATS / (features_key(audio) + ".npz")
    if key.exists():
        z = np.load(key)
        return F.Features(
            sr=int(z["sr"]),
            hop_length=int(z["hop"]),
            n_frames=int(z["n"]),
            duration=float(z["duration"]),
            mel_db=z["mel_db"],
            onset_env=z["onset_env"],
            chroma=z["chroma"],
            mfcc=np.zeros((1, int(z["n"])), np.float32),
            rms=z["rms"],
        )
    from explorer.audio.decode import decode

    buf = decode(str(audio), sr=F.SR, mono=True)  # as services.analyze decodes it
    f = F.compute(F.to_mono(buf.samples, buf.sr))
    FEATS.mkdir(parents=True, exist_ok=True)
    np.savez(
        key,
        sr=f.sr,
        hop=f.hop_length,
        n=f.n_frames,
        duration=f.duration,
        mel_db=f.mel_db[:12],
        onset_env=f.onset_env,
        chroma=f.chroma,
        rms=f.rms,
    )
    return f


def run_one(item) -> dict:
    domain, name, audio, truth = item
    feats = features(Path(audio))
    if truth is not None and "render" in truth:
        truth = render_truth(Path(truth["render"]), dev=domain.startswith("dev"))
    res = {"domain": domain, "name": name, "duration": feats.duration}
    for key, fn in (("before", _before_result), ("after", _after_result)):
        t0 = time.perf_counter()
        b, d, tempo, bpb = fn(feats)
        res[key] = {"time": time.perf_counter() - t0, "tempo": tempo, "meter": bpb}
        if truth is not None:
            res[key].update(score(b, d, tempo, truth))
    if truth is not None:
        res["truth"] = {"tempo": 60.0 / float(np.median(np.diff(truth["beats"]))), "meter": truth["meter"]}
    return res


def summary(rows: list[dict], which: str) -> dict:
    keys = ("beatF", "downF", "tempo_err", "tempo_ok", "octave", "meter_ok", "time")
    out = {}
    for k in keys:
        v = np.array([r[which][k] for r in rows if k in r[which]], dtype=float)
        if v.size:
            out[k] = float(np.median(v)) if k == "tempo_err" else float(np.mean(v))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--limit", type=int, default=None, help="at most N songs per domain")
    ap.add_argument("--per-song", action="store_true")
    ap.add_argument("--before", default=None, help="git revision of the 'before' tracker")
    ap.add_argument("--domains", default="piano,band,tempo,triple,dev,demo,real")
    args = ap.parse_args(argv)
    if args.before is None:
        first = subprocess.run(
            [
                "git",
                "-C",
                str(ROOT),
                "log",
                "--format=%H",
                "--reverse",
                "-S",
                "beat_times",
                "--",
                "explorer/analysis/beats.py",
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()[0]
        args.before = f"{first}^"
    _load_before(args.before)  # fails here, once, when that revision's tracker does not import
    todo = items(args.domains.split(","), args.limit)
    t0 = time.time()
    with mp.Pool(args.workers, initializer=_init, initargs=(args.before,)) as pool:
        rows = list(pool.imap(run_one, todo))
    by_domain: dict[str, list[dict]] = {}
    for r in rows:
        by_domain.setdefault(r["domain"], []).append(r)
    w = max([8] + [len(d) for d in by_domain])
    if args.per_song:
        for r in rows:
            t = r.get("truth", {})
            true_tempo = t.get("tempo", float("nan"))
            line = f"{r['domain']:{w}s} {r['name'][:40]:40s} truth {true_tempo:6.1f}/{t.get('meter', '-')}"
            for key in ("before", "after"):
                x = r[key]
                tempo = x["tempo"] or float("nan")
                line += f" | {key[:3]} {tempo:6.1f}/{x['meter']}"
                if "beatF" in x:
                    line += f" F {x['beatF']:.2f} dF {x['downF']:.2f}"
            print(line)
        print()
    print(
        f"{'domain':{w}s} {'n':>3s} | {'beat F':>13s} | {'downbeat F':>13s} | {'tempo err BPM':>13s} | "
        f"{'within .5 BPM':>13s} | {'x2 or /2':>13s} | {'metre ok':>13s} | {'beat stage s':>13s}"
    )
    print(f"{'':{w}s} {'':>3s} | " + " | ".join([f"{'before':>6s} {'after':>6s}"] * 7))
    for d, rs in by_domain.items():
        b, a = summary(rs, "before"), summary(rs, "after")

        def pair(k, fmt="{:6.3f}", a=a, b=b):
            if k not in a:
                return f"{'-':>6s} {'-':>6s}"
            return f"{fmt.format(b[k])} {fmt.format(a[k])}"

        print(
            f"{d:{w}s} {len(rs):3d} | {pair('beatF')} | {pair('downF')} | {pair('tempo_err', '{:6.2f}')} | "
            f"{pair('tempo_ok')} | {pair('octave')} | {pair('meter_ok')} | {pair('time')}"
        )
    if "real" in by_domain:
        print("\nreal recordings (no truth): tempo BPM / beats per bar, before -> after")
        for r in by_domain["real"]:
            b, a = r["before"], r["after"]
            bt = f"{b['tempo']:.1f}" if b["tempo"] else "none"
            at = f"{a['tempo']:.1f}" if a["tempo"] else "none"
            print(f"  {r['name']:40s} {bt:>6s}/{b['meter']} -> {at:>6s}/{a['meter']}")
    print(f"\n{len(rows)} songs in {time.time() - t0:.0f} s (tempo error: median over songs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
