"""Render audio with exactly known beats, downbeats and metre, for tuning and scoring the beat tracker.

Usage::

    python benchmarks/render_beat_corpus.py [--out DIR] [--songs 30] [--seconds 75] [--workers 2]

Writes ``DIR/<domain>/NAME.flac`` beside ``NAME.json`` (``{"domain", "beats", "downbeats", "meter",
"tempo"}``, seconds and BPM) for these domains, all from the training MIDI of POP909
(``shared/corpus/pop909-train``) or composed here:

``piano``   the POP909 arrangement as it is (melody, bridge and piano on the GM piano);
``band``    the same notes on other instruments, with a bass line on the chord roots and a drum kit;
``tempo``   piano or band with the whole tempo map scaled (x0.8, x1.15, x0.9, x1.07: the truth tempo
            falls between the analysis frames' BPM grid), every other one also with swung eighths or a
            slowly breathing tempo (±6 %, "rubato");
``triple``  the POP909 songs in 3/4 (piano and band) and waltzes, jazz in swing and 6/8 pieces composed
            with the demo-song machinery of ``tools/make_demo_songs.py`` and a small 6/8 writer.

The beat of a POP909 file is one MIDI quarter (480 ticks); its phase is where the notes' onsets
cluster within the quarter, and the bar phase comes from the human phrase annotations (phrases start on
downbeats).  A 6/8 piece's beat is the dotted quarter (two beats per bar).  Default DIR:
``~/.cache/music-explorer-corpus/beats``.  Deterministic for the same tools.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing as mp
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import mido
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

CORPUS = ROOT.parent.parent / "shared" / "corpus"
if not CORPUS.exists():
    CORPUS = Path("/work/shared/corpus")
SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
OUT = Path.home() / ".cache" / "music-explorer-corpus" / "beats"

MELODY_PROGRAMS = (73, 65, 81, 40, 56, 71, 11)
BRIDGE_PROGRAMS = (48, 89, 61, 52, 19)
PIANO_PROGRAMS = (4, 25, 16, 27, 0, 46)
BASS_PROGRAMS = (33, 34, 32, 38)


# ------------------------------------------------------------------------------------- MIDI helpers
def _absolute(track) -> list[tuple[int, mido.Message]]:
    out, t = [], 0
    for msg in track:
        t += msg.time
        out.append((t, msg))
    return out


def _relative(events: list[tuple[int, mido.Message]]) -> mido.MidiTrack:
    events = sorted(
        events,
        key=lambda e: (
            e[0],
            0 if getattr(e[1], "type", "") == "note_off" or (e[1].type == "note_on" and e[1].velocity == 0) else 1,
        ),
    )
    track, now = mido.MidiTrack(), 0
    for t, msg in events:
        t = max(int(t), now)
        track.append(msg.copy(time=int(t - now)))
        now = t
    return track


def tempo_map(mid: mido.MidiFile) -> list[tuple[int, int]]:
    """(tick, microseconds per quarter) of every tempo change, starting at tick 0."""
    out = [(0, 500000)]
    for tr in mid.tracks:
        for t, msg in _absolute(tr):
            if msg.type == "set_tempo":
                if t == 0:
                    out[0] = (0, msg.tempo)
                else:
                    out.append((t, msg.tempo))
    return sorted(set(out))


def ticks_to_seconds(ticks: np.ndarray, tmap: list[tuple[int, int]], tpb: int) -> np.ndarray:
    ticks = np.asarray(ticks, dtype=float)
    starts = np.array([t for t, _ in tmap], dtype=float)
    us = np.array([u for _, u in tmap], dtype=float)
    secs = np.concatenate([[0.0], np.cumsum(np.diff(starts) * us[:-1] / tpb / 1e6)])
    k = np.searchsorted(starts, ticks, side="right") - 1
    return secs[k] + (ticks - starts[k]) * us[k] / tpb / 1e6


def seconds_to_ticks(sec: float, tmap, tpb: int) -> float:
    lo, hi = 0.0, 1e8
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if ticks_to_seconds(np.array([mid]), tmap, tpb)[0] < sec:
            lo = mid
        else:
            hi = mid
    return lo


def note_onsets(mid: mido.MidiFile) -> np.ndarray:
    out = []
    for tr in mid.tracks:
        out += [t for t, m in _absolute(tr) if m.type == "note_on" and m.velocity > 0]
    return np.array(sorted(out), dtype=float)


def beat_phase(onsets: np.ndarray, tpb: int) -> float:
    """The tick offset within the quarter where the onsets cluster (the beat's phase)."""
    r = onsets % tpb
    hist = np.bincount((r // 10).astype(int), minlength=tpb // 10 + 1).astype(float)
    hist = np.convolve(np.concatenate([hist[-2:], hist, hist[:2]]), np.ones(5), "same")[2:-2]
    mode = (int(np.argmax(hist)) + 0.5) * 10
    d = (r - mode + tpb / 2) % tpb - tpb / 2
    near = np.abs(d) < 40
    return float((mode + np.median(d[near])) % tpb) if near.any() else mode


# ------------------------------------------------------------------------------------- POP909 variants
def _downbeat_offset(orig_mid, seg, beat_ticks, bpb) -> int:
    """Index (mod ``bpb``) of the first downbeat among ``beat_ticks``, from the phrase starts."""
    tmap, tpb = tempo_map(orig_mid), orig_mid.ticks_per_beat
    votes = np.zeros(bpb)
    for s in seg["annotator1"]["phrases"]:
        tk = seconds_to_ticks(s["start"], tmap, tpb)
        k = int(np.argmin(np.abs(beat_ticks - tk)))
        if abs(beat_ticks[k] - tk) < 0.3 * tpb:
            votes[k % bpb] += 1
    return int(np.argmax(votes))


def pop909_beats(mid: mido.MidiFile, seg: dict, bpb: int) -> tuple[np.ndarray, int, float]:
    """The beats of a POP909 MIDI file in ticks, the index of its first downbeat among them and the
    beat's phase within the quarter (ticks).

    The beat is one quarter whose phase is where the notes' onsets cluster (:func:`beat_phase`: a
    POP909 file's beats lie off its tick grid); the bars start where the annotated phrases start
    (:func:`_downbeat_offset`).
    """
    tpb = mid.ticks_per_beat
    ons = note_onsets(mid)
    phase = beat_phase(ons, tpb)
    first = phase + tpb * np.floor((ons.min() - phase) / tpb + 0.25)
    beat_ticks = np.arange(first, ons.max() + tpb, tpb)
    return beat_ticks, _downbeat_offset(mid, seg, beat_ticks, bpb), phase


def band_tracks(
    mid: mido.MidiFile, beat_ticks: np.ndarray, bpb: int, down0: int, rng: random.Random, *, drums: bool = True
) -> list[mido.MidiTrack]:
    """Re-orchestrate: new programs on the three tracks, a root bass line and a drum kit."""
    programs = [rng.choice(MELODY_PROGRAMS), rng.choice(BRIDGE_PROGRAMS), rng.choice(PIANO_PROGRAMS)]
    tracks = [mid.tracks[0]]
    piano_notes = []
    for i, tr in enumerate(mid.tracks[1:4]):
        ev = []
        for t, m in _absolute(tr):
            if m.type == "program_change":
                m = m.copy(program=programs[i])
            if i == 2 and m.type == "note_on" and m.velocity > 0:
                piano_notes.append((t, m.note))
            ev.append((t, m))
        tracks.append(_relative(ev))
    tpb = mid.ticks_per_beat
    pn = np.array(piano_notes, dtype=float).reshape(-1, 2)
    bass, kit = [(0, mido.Message("program_change", channel=4, program=rng.choice(BASS_PROGRAMS)))], []
    for k in range(down0 % bpb, beat_ticks.size, bpb):
        bar = beat_ticks[k : k + bpb]
        for j, t in enumerate(bar):
            t = int(round(t))
            if j in ((0, 2) if bpb == 4 else (0,)):
                near = pn[np.abs(pn[:, 0] - t) < tpb // 4, 1] if pn.size else np.zeros(0)
                if near.size:
                    p = int(near.min())
                    p = 28 + (p - 28) % 12
                    bass.append((t, mido.Message("note_on", channel=4, note=p, velocity=92)))
                    bass.append((t + int(1.6 * tpb), mido.Message("note_off", channel=4, note=p, velocity=0)))
            if drums:
                hits = [(0, 42, 60), (tpb // 2, 42, 45)]
                if j == 0 or (bpb == 4 and j == 2):
                    hits.append((0, 36, 100))
                elif bpb == 4:
                    hits.append((0, 38, 90))
                for off, key, vel in hits:
                    kit.append((t + off, mido.Message("note_on", channel=9, note=key, velocity=vel)))
                    kit.append((t + off + tpb // 8, mido.Message("note_off", channel=9, note=key, velocity=0)))
    tracks.append(_relative(bass))
    if kit:
        tracks.append(_relative(kit))
    return tracks


def swing_track(track, beat_ticks_phase: float, tpb: int) -> mido.MidiTrack:
    """Move every event on a straight off-beat eighth to two thirds of the beat."""
    ev = []
    for t, m in _absolute(track):
        r = (t - beat_ticks_phase) % tpb
        if abs(r - tpb / 2) <= tpb / 12:
            t = t + int(round(2 * tpb / 3 - r))
        ev.append((t, m))
    return _relative(ev)


def retempo(mid: mido.MidiFile, factor: float, *, rubato: float = 0.0, beat_ticks=None) -> None:
    """Scale the tempo map (``factor`` > 1 is faster); with ``rubato``, also let it breathe by
    ±``rubato`` over a 32-beat cycle (a tempo change on every beat)."""
    tmap = tempo_map(mid)
    for tr in mid.tracks:
        ev = [(t, m) for t, m in _absolute(tr) if m.type != "set_tempo"]
        tr[:] = _relative(ev)
    points = [(t, u) for t, u in tmap]
    if rubato and beat_ticks is not None:
        starts = np.array([t for t, _ in tmap])
        points = []
        for k, t in enumerate(beat_ticks):
            if t < 0:
                continue
            u = tmap[int(np.searchsorted(starts, t, side="right") - 1)][1]
            points.append((int(round(t)), u * (1 + rubato * np.sin(2 * np.pi * k / 32))))
        points = [(0, points[0][1])] + points
    ev = [(t, mido.MetaMessage("set_tempo", tempo=int(round(u / factor)))) for t, u in points]
    ev += [(t, m) for t, m in _absolute(mid.tracks[0]) if m.type != "end_of_track"]
    mid.tracks[0] = _relative(ev)


def pop909_item(
    song: str, domain: str, variant: dict, seconds: float, *, base: Path = CORPUS / "pop909-train"
) -> tuple[mido.MidiFile, dict]:
    """The MIDI of one POP909 song made into ``variant`` and its truth up to ``seconds``."""
    seg = json.loads((base / "segments" / f"{song}.json").read_text())
    mid = mido.MidiFile(str(base / "midi" / f"{song}.mid"))
    tpb = mid.ticks_per_beat
    bpb = int(seg.get("beats_per_bar", 4))
    beat_ticks, down0, phase = pop909_beats(mid, seg, bpb)
    rng = random.Random(f"{song}-{domain}-{variant}")
    if variant.get("band"):
        mid.tracks[:] = band_tracks(mid, beat_ticks, bpb, down0, rng, drums=variant.get("drums", True))
    if variant.get("swing"):
        mid.tracks[1:] = [swing_track(tr, phase, tpb) for tr in mid.tracks[1:]]
    retempo(mid, variant.get("factor", 1.0), rubato=variant.get("rubato", 0.0), beat_ticks=beat_ticks)
    times = ticks_to_seconds(beat_ticks, tempo_map(mid), tpb)
    keep = times < seconds - 1.0
    idx = np.flatnonzero(keep)
    truth = {
        "beats": times[keep].round(4).tolist(),
        "downbeats": times[idx[(idx - down0) % bpb == 0]].round(4).tolist(),
        "meter": bpb,
        "tempo": float(60.0 / np.median(np.diff(times[keep]))),
    }
    return mid, truth


# ------------------------------------------------------------------------------------- composed pieces
def demo_style_item(kind: str, k: int, seconds: float) -> tuple[mido.MidiFile, dict]:
    import make_demo_songs as demo

    rng = random.Random(f"{kind}-{k}")
    if kind == "waltz":
        base = demo.SONGS[4]
        style = dataclasses.replace(
            base,
            slug=f"waltz{k}",
            bpm=rng.choice([96.0, 112.5, 133.0, 171.0, 121.0, 144.5]),
            seed=100 + k,
            tonic=rng.randint(55, 67),
            drum_kit=None if k % 2 else 0,
            programs={**base.programs, "melody": rng.choice(MELODY_PROGRAMS), "chords": rng.choice((25, 0, 21, 46))},
        )
    else:  # swung jazz
        base = demo.SONGS[3]
        style = dataclasses.replace(
            base,
            slug=f"swing{k}",
            bpm=rng.choice([101.5, 118.0, 92.5, 131.0]),
            seed=200 + k,
            tonic=rng.randint(55, 67),
            swing=rng.choice([0.62, 0.66, 0.7]),
        )
    parts, plan = demo.arrange(style)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.mid"
        demo.write_midi(style, parts, path)
        mid = mido.MidiFile(str(path))
    spb = 60.0 / style.bpm
    n = int(min(plan["beats"], (seconds - 1.0) / spb))
    beats = np.arange(n) * spb
    return mid, {
        "beats": beats.round(4).tolist(),
        "downbeats": beats[:: style.meter].round(4).tolist(),
        "meter": style.meter,
        "tempo": style.bpm,
    }


def six_eight_item(k: int, seconds: float) -> tuple[mido.MidiFile, dict]:
    """A 6/8 piece: bass on the two dotted-quarter beats, broken chords in eighths, a melody."""
    rng = random.Random(f"68-{k}")
    dq_bpm = rng.choice([58.0, 66.5, 72.0, 79.0, 63.0])
    tpb, e = 480, 240
    tonic = rng.randint(55, 64)
    minor = k % 2 == 1
    scale = (0, 2, 3, 5, 7, 8, 10) if minor else (0, 2, 4, 5, 7, 9, 11)
    progs = [[0, 5, 3, 4], [0, 3, 4, 0], [5, 3, 0, 4]]
    sections = [rng.choice(progs) for _ in range(3)]
    plan = [0, 1, 0, 1, 2, 1]
    bars = []
    for s in plan:
        bars += sections[s] * 2
    n_bars = int((seconds - 1.0) / (2 * 60.0 / dq_bpm))
    bars = (bars * 4)[:n_bars]
    mid = mido.MidiFile(type=1, ticks_per_beat=tpb)
    meta = mido.MidiTrack(
        [
            mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(dq_bpm * 1.5), time=0),
            mido.MetaMessage("time_signature", numerator=6, denominator=8, time=0),
        ]
    )
    mid.tracks.append(meta)
    bass = [(0, mido.Message("program_change", channel=0, program=rng.choice(BASS_PROGRAMS)))]
    arp = [(0, mido.Message("program_change", channel=1, program=rng.choice((0, 24, 46, 4))))]
    mel = [(0, mido.Message("program_change", channel=2, program=rng.choice(MELODY_PROGRAMS)))]
    kit = []
    rhythms = [
        [(0, 3), (3, 3)],
        [(0, 2), (2, 1), (3, 3)],
        [(0, 3), (3, 2), (5, 1)],
        [(0, 6)],
        [(0, 1), (1, 1), (2, 1), (3, 3)],
    ]
    motif = {s: [(rng.choice(rhythms), [rng.randint(0, 6) for _ in range(4)]) for _ in range(8)] for s in range(3)}

    def note(ev, ch, t, length, p, v):
        ev.append((t, mido.Message("note_on", channel=ch, note=p, velocity=v)))
        ev.append((t + length, mido.Message("note_off", channel=ch, note=p, velocity=0)))

    for b, deg in enumerate(bars):
        t0 = b * 6 * e
        root = tonic + scale[deg] - 24
        third = tonic + scale[(deg + 2) % 7] + (12 if deg + 2 >= 7 else 0) - 12
        fifth = tonic + scale[(deg + 4) % 7] + (12 if deg + 4 >= 7 else 0) - 12
        note(bass, 0, t0, int(2.6 * e), root, 95)
        note(bass, 0, t0 + 3 * e, int(2.6 * e), root + 7, 80)
        for i, p in enumerate([root + 12, fifth, root + 24, third + 12, root + 24, fifth]):
            note(arp, 1, t0 + i * e, int(0.9 * e), p, 78 if i in (0, 3) else 58)
        rh, degs = motif[plan[(b // 8) % len(plan)]][b % 8]
        for j, (on, length) in enumerate(rh):
            p = tonic + 12 + scale[(deg + degs[j % 4]) % 7]
            note(mel, 2, t0 + on * e, int(length * e * 0.95), p, 85 if on in (0, 3) else 70)
        if k % 2 == 0:
            for i in range(6):
                note(kit, 9, t0 + i * e, 40, 42, 55 if i in (0, 3) else 38)
            note(kit, 9, t0, 40, 36, 100)
            note(kit, 9, t0 + 3 * e, 40, 37, 70)
    for ev in (bass, arp, mel, kit):
        if ev:
            mid.tracks.append(_relative(ev))
    spb = 60.0 / dq_bpm
    beats = np.arange(2 * len(bars)) * spb
    return mid, {
        "beats": beats.round(4).tolist(),
        "downbeats": beats[::2].round(4).tolist(),
        "meter": 2,
        "tempo": dq_bpm,
        "time_signature": "6/8",
    }


# ------------------------------------------------------------------------------------- rendering
def truncate(mid: mido.MidiFile, seconds: float) -> None:
    """Drop everything after ``seconds`` (so that only the excerpt is synthesised)."""
    end = seconds_to_ticks(seconds, tempo_map(mid), mid.ticks_per_beat)
    for i, tr in enumerate(mid.tracks):
        ev = [(t, m) for t, m in _absolute(tr) if t <= end and m.type != "end_of_track"]
        chans = {m.channel for _, m in ev if hasattr(m, "channel")}
        ev += [(int(end), mido.Message("control_change", channel=c, control=123, value=0)) for c in chans]
        mid.tracks[i] = _relative(ev)


def render(mid: mido.MidiFile, out: Path, seconds: float) -> None:
    truncate(mid, seconds + 0.5)
    with tempfile.TemporaryDirectory() as tmp:
        mpath, wav = Path(tmp) / "x.mid", Path(tmp) / "x.wav"
        mid.save(str(mpath))
        subprocess.run(
            ["fluidsynth", "-q", "-ni", "-g", "0.8", "-r", "44100", "-F", str(wav), SOUNDFONT, str(mpath)],
            check=True,
            stdout=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
        subprocess.run(
            [
                "ffmpeg",
                "-nostdin",
                "-v",
                "error",
                "-y",
                "-i",
                str(wav),
                "-t",
                f"{seconds:.2f}",
                "-ac",
                "1",
                "-ar",
                "22050",
                str(out),
            ],
            check=True,
        )


def _job(args) -> str:
    domain, name, maker, seconds, out_dir = args
    dst = out_dir / domain / f"{name}.flac"
    if dst.exists() and dst.with_suffix(".json").exists():
        return f"{domain}/{name} (kept)"
    dst.parent.mkdir(parents=True, exist_ok=True)
    kind, a, b = maker
    try:
        if kind == "pop909":
            mid, truth = pop909_item(a, domain, b, seconds)
        elif kind == "demo":
            mid, truth = demo_style_item(a, b, seconds)
        else:
            mid, truth = six_eight_item(b, seconds)
        render(mid, dst, seconds)
    except (ValueError, OSError, subprocess.CalledProcessError) as exc:
        return f"{domain}/{name} FAILED: {exc}"
    truth["domain"] = domain
    dst.with_suffix(".json").write_text(json.dumps(truth))
    return f"{domain}/{name}"


def plan(n_songs: int) -> list[tuple[str, str, tuple]]:
    """(domain, name, maker) of every item: songs spread over the training list, the 3/4 ones apart."""
    segs = sorted((CORPUS / "pop909-train" / "segments").glob("*.json"))
    four, three = [], []
    for p in segs:
        (three if json.loads(p.read_text()).get("beats_per_bar") == 3 else four).append(p.stem)
    step = max(1, len(four) // n_songs)
    songs = four[::step][:n_songs]
    items = []
    factors = (0.8, 1.15, 0.9, 1.07)
    for i, s in enumerate(songs):
        items.append(("piano", f"{s}", ("pop909", s, {})))
        items.append(("band", f"{s}", ("pop909", s, {"band": True, "drums": i % 4 != 3})))
        v = {"factor": factors[i % 4], "band": i % 2 == 0}
        if i % 3 == 1:
            v["swing"] = True
        elif i % 3 == 2:
            v["rubato"] = 0.06
        items.append(
            (
                "tempo",
                f"{s}_x{v['factor']}{'_swing' if v.get('swing') else ''}{'_rubato' if v.get('rubato') else ''}",
                ("pop909", s, v),
            )
        )
    for i, s in enumerate(three[:: max(1, len(three) // 8)][:8]):
        items.append(("triple", f"{s}_piano", ("pop909", s, {})))
        items.append(("triple", f"{s}_band", ("pop909", s, {"band": True, "drums": i % 2 == 0})))
    for k in range(6):
        items.append(("triple", f"waltz{k}", ("demo", "waltz", k)))
    for k in range(4):
        items.append(("triple", f"six_eight{k}", ("68", None, k)))
    for k in range(4):
        items.append(("tempo", f"jazz_swing{k}", ("demo", "swing", k)))
    return items


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--songs", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=75.0)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    jobs = [(d, n, m, args.seconds, args.out) for d, n, m in plan(args.songs)]
    with mp.Pool(args.workers) as pool:
        for msg in pool.imap_unordered(_job, jobs):
            print(msg, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
