"""Render POP909 MIDI songs in other arrangements, for training and for evaluation across renderings.

Usage::

    python benchmarks/render_corpus.py SRC OUT --style band [--every K] [--limit N] [--jobs 1] [--seed 0] \\
        [--skip FOLDER,FOLDER] [--modulate] [--humanize [LEVEL]]

SRC is a corpus folder with ``midi/NNN.mid`` and ``segments/NNN.json`` (``shared/corpus/pop909`` or
``pop909-train``).  OUT receives ``pop909_NNN.mp3`` and ``pop909_NNN.json`` (the annotation with every
time rescaled to the rendered tempo, plus a ``render`` record of the choices made).  ``--skip`` leaves out
the songs that other rendered folders hold (by file name), so that new training material shares no song
with the evaluation subsets.

Styles
------
``piano``
    The corpus's own rendering (all three tracks on the FluidR3 piano), for training material that looks
    like the dev set.
``band``
    Seeded per song: the tempo scaled by 0.88–1.12, the key moved by up to 4 semitones, the melody on a
    lead instrument (flute, violin, sax, trumpet, clarinet, square lead, voice, overdriven guitar), the
    second voice on strings/brass/pad/choir, the accompaniment on electric piano/organ/guitars/piano, a
    bass line (the lowest accompaniment note of every half bar, played on the beats) and a drum kit
    (one of three grooves, absent in one song in six), one of two soundfonts (FluidR3, TimGM6mb), the
    synthesiser's reverb at a random room size, and noise at 28–45 dB below the signal.  The bass and
    the drums play on the song's own beats and bars (``render_beat_corpus.pop909_beats``), which in a
    POP909 file lie off its tick grid.

``produced``
    ``band``, arranged the way recorded pop is produced: the arrangement follows the song's sections.
    Intros, outros and instrumental stretches get keys and bass only; verses add a light kit (kick on
    the downbeat, hi-hat or ride) and keep the second voice soft; choruses get the whole kit with a
    crash on their first downbeat, the second voice at full strength and every part louder (about
    +3 dB). In three songs of five the first verse has no drums at all, so the first time a verse is
    heard it sounds sparser than later. Repeats of one section therefore differ in timbre (the first
    verse against the second), and the chorus is the loudest, fullest part.

``--modulate`` (``band`` and ``produced``)
    The key change of much recorded pop: from the start of the song's last annotated chorus (first
    annotator, songs with at least two) every pitched part, the bass included, moves up by 1 or 2
    semitones (chosen per song, apart from the other draws, so that a song's arrangement is the same
    with and without it).  The ``render`` record says where and by how much (``modulation``).

``--humanize`` (``band`` and ``produced``)
    A POP909 file repeats a section note for note, and a rendering of it repeats exactly; people do not.
    Every note of the three parts is moved in time (spread 3 % of a beat) and in velocity (spread 10);
    12 % of the melody's notes, 20 % of the second voice's and of the accompaniment's are left out, and 8 %
    of the melody's are played a semitone or a tone off, each drawn anew, so that no two repeats of a
    section are the same (the variations of a sung verse, a pianist's voicings).  ``--humanize LEVEL``
    multiplies these shares and spreads by LEVEL (a share at most 60 %).  The draws come from a generator
    of their own: with the same ``--seed`` the arrangement is the one without ``--humanize``.

``--sing`` (``band`` and ``produced``)
    The melody is sung to lyrics instead of played (``benchmarks/sing.py``): every note a syllable
    whose vowel colours its harmonics, a chorus sung to the same words every time and every other
    phrase to new ones, a sung pitch (glides, vibrato, drift), a singer and a room of their own, the
    voice 0–5 dB above the band.  The voice's draws come from a generator of their own: with the same
    ``--seed`` the band is the one without ``--sing``.

With ``piano`` and ``band`` the structure annotations decide only where the bars start (the phrases start
on downbeats); nothing in the arrangement marks a section (no fills or crashes at section starts), so the
sections must be found from the music.  With ``produced`` the sections shape the arrangement, as in most
recorded pop.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import render_beat_corpus as rbc  # noqa: E402

SOUNDFONTS = ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/sounds/sf2/TimGM6mb.sf2")
LEADS = (73, 40, 65, 56, 71, 80, 53, 29, 11)
SECONDS = (48, 49, 61, 89, 52, 68)
KEYS = (4, 5, 16, 24, 25, 0, 1, 26)
BASSES = (33, 34, 32, 38, 35)
SR = 22050
#: ``--humanize``: the share of notes left out per part (melody, second voice, accompaniment), the share of
#: melody notes played a tone or semitone off (a sung variation), the timing spread (share of a beat) and the
#: velocity spread of every note.
HUMAN_DROP = {0: 0.12, 1: 0.2, 2: 0.2}
HUMAN_BEND = 0.08
HUMAN_TIMING = 0.03
HUMAN_VELOCITY = 10.0


def _rng(song: str, style: str, seed: int) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(f"{song}/{style}/{seed}".encode()))


def _abs_events(track):
    t = 0
    for msg in track:
        t += msg.time
        yield t, msg


#: Arrangement levels of ``produced``: 1 keys and bass, 2 a verse (light kit), 3 a chorus (everything).
LEVEL_VELOCITY = {0: {1: 0.95, 2: 1.0, 3: 1.15}, 1: {1: 0.4, 2: 0.45, 3: 1.0}, 2: {1: 0.85, 2: 0.9, 3: 1.15}}


def section_levels(ann: dict, mid, rng: np.random.Generator):
    """``produced``: the arrangement level of every MIDI tick, from the song's annotation (first
    annotator), as a function of the tick; and whether the first verse has no drums."""
    a = ann["annotator1"]
    tmap, tpb = rbc.tempo_map(mid), mid.ticks_per_beat
    choruses = [(c["start"], c["end"]) for c in a.get("choruses", [])]
    first_chorus = min((c[0] for c in choruses), default=float("inf"))
    bare_first_verse = bool(rng.random() < 0.6)
    spans = []
    for ph in a["phrases"]:
        mid_t = 0.5 * (ph["start"] + ph["end"])
        if any(c0 <= mid_t < c1 for c0, c1 in choruses):
            level = 3
        elif ph["kind"].startswith("melodic"):
            level = 1.5 if (bare_first_verse and ph["end"] <= first_chorus + 0.5) else 2
        elif ph["kind"] == "instrumental-interlude":
            level = 2
        else:
            level = 1
        spans.append((rbc.seconds_to_ticks(ph["start"], tmap, tpb), rbc.seconds_to_ticks(ph["end"], tmap, tpb), level))

    def level_at(tick: float) -> float:
        for t0, t1, lv in spans:
            if t0 - tpb / 4 <= tick < t1 - tpb / 4:  # a pick-up just before a phrase belongs to it
                return lv
        return 1

    chorus_starts = [rbc.seconds_to_ticks(c0, tmap, tpb) for c0, _ in choruses]
    return level_at, chorus_starts, bare_first_verse


def last_chorus_start(ann: dict) -> float | None:
    """Where the song's last annotated chorus starts (first annotator, seconds), when it has two or more."""
    choruses = sorted(float(c["start"]) for c in ann["annotator1"].get("choruses", []))
    return choruses[-1] if len(choruses) >= 2 else None


def arrange(
    mid,
    *,
    beats_per_bar: int,
    rng: np.random.Generator,
    beat_ticks,
    down0: int,
    levels=None,
    chorus_starts=(),
    modulation: tuple[int, int] | None = None,
    human: np.random.Generator | None = None,
    human_level: float = 1.0,
):
    """A band arrangement of a POP909 MIDI file (``mido.MidiFile``), and the choices made.

    ``beat_ticks`` [shape=(n_beats,)] are the song's beats in MIDI ticks and ``down0`` the index of
    its first downbeat among them (``render_beat_corpus.pop909_beats``): the bass and the drums play on these.
    ``levels`` (``produced``, see :func:`section_levels`) gives the arrangement level of a tick, and
    ``chorus_starts`` the ticks where choruses start (a crash on the downbeat nearest each).
    ``modulation`` = (tick, semitones): every pitched note that starts at or after the tick (a quarter
    beat of pick-up included) is moved by the semitones.
    ``human``, a generator of its own: the song's three parts are played as people play them, so that no
    two repeats of a section are the same (see ``--humanize``), ``human_level`` times as freely.
    """
    import mido

    def level(t):
        return 3 if levels is None else levels(t)

    ppq = mid.ticks_per_beat
    factor = float(rng.uniform(0.88, 1.12))
    shift = int(rng.integers(-4, 5))
    progs = {0: int(rng.choice(LEADS)), 1: int(rng.choice(SECONDS)), 2: int(rng.choice(KEYS))}
    bass_prog = int(rng.choice(BASSES))
    groove = int(rng.integers(0, 4)) if rng.random() > 1 / 6 else -1
    out = mido.MidiFile(type=1, ticks_per_beat=ppq)
    meta = mido.MidiTrack()
    notes_piano = []
    last = 0
    events = []
    sounding: dict[tuple[int, int], list[int]] = {}  # (channel, note) -> the shift of each note held

    played: dict[tuple[int, int], list[tuple[bool, int, int]]] = {}  # (channel, note) -> (kept, shift, delay)

    def humanise(msg):
        """(kept, pitch shift, delay in ticks) of a note_on, and the same record for its note_off."""
        if human is None:
            return True, 0, 0
        key = (msg.channel, msg.note)
        if msg.type == "note_on" and msg.velocity > 0:
            drop = min(0.6, human_level * HUMAN_DROP.get(msg.channel, 0.0))
            kept = bool(human.random() >= drop)
            bent = msg.channel == 0 and human.random() < human_level * HUMAN_BEND
            bend = int(human.choice((-2, -1, 1, 2))) if bent else 0
            delay = int(round(human.normal(0.0, human_level * HUMAN_TIMING * ppq)))
            played.setdefault(key, []).append((kept, bend, delay))
            return kept, bend, delay
        held = played.get(key)
        return held.pop(0) if held else (True, 0, 0)

    def key_shift(t, msg):
        if msg.type == "note_on" and msg.velocity > 0:
            up = modulation[1] if modulation is not None and t >= modulation[0] - ppq / 4 else 0
            sounding.setdefault((msg.channel, msg.note), []).append(up)
            return up
        held = sounding.get((msg.channel, msg.note))
        return held.pop(0) if held else 0

    for tr in mid.tracks:
        for t, msg in _abs_events(tr):
            last = max(last, t)
            if msg.is_meta:
                if msg.type == "set_tempo":
                    events.append((t, 0, msg.copy(tempo=int(round(msg.tempo / factor)))))
                elif msg.type == "time_signature":
                    events.append((t, 0, msg.copy()))
                continue
            if msg.type == "program_change":
                continue
            if msg.type in ("note_on", "note_off"):
                kept, bend, delay = humanise(msg)
                note = min(127, max(0, msg.note + shift + key_shift(t, msg) + bend))
                vel = msg.velocity
                if msg.type == "note_on" and vel > 0:
                    gain = 1.0 if levels is None else LEVEL_VELOCITY.get(msg.channel, {}).get(int(level(t)), 1.0)
                    vel = int(np.clip(vel * gain * (0.9 if msg.channel == 2 else 1.0) + rng.normal(0, 4), 1, 127))
                    if human is not None:
                        vel = int(np.clip(vel + human.normal(0, human_level * HUMAN_VELOCITY), 1, 127))
                    if msg.channel == 2:
                        notes_piano.append((t, note))
                if kept:
                    events.append((max(0, t + delay), 1, msg.copy(note=note, velocity=vel)))
            elif msg.type == "control_change":
                events.append((t, 1, msg.copy()))
    for ch, p in progs.items():
        events.append((0, 0, mido.Message("program_change", channel=ch, program=p)))
    events.append((0, 0, mido.Message("program_change", channel=3, program=bass_prog)))
    events.append((0, 0, mido.Message("control_change", channel=0, control=7, value=110)))
    events.append((0, 0, mido.Message("control_change", channel=1, control=7, value=80)))
    events.append((0, 0, mido.Message("control_change", channel=2, control=7, value=85)))
    events.append((0, 0, mido.Message("control_change", channel=3, control=7, value=100)))
    # bass and drums follow the song's own beats and bars (its MIDI beats lie off the tick grid)
    bt = np.asarray(beat_ticks, dtype=float)
    if notes_piano and bt.size > beats_per_bar:
        arr = np.array(notes_piano)
        first, end = int(arr[:, 0].min()), int(arr[:, 0].max())
        beat_len = np.diff(bt, append=bt[-1] + (bt[-1] - bt[-2]))
        # bass: lowest accompaniment note starting in each half bar, on every beat of it
        half = max(1, beats_per_bar // 2)
        ext = np.append(bt, bt[-1] + beat_len[-1] * np.arange(1, half + 1))
        cur = None
        for j in range(down0 % half, bt.size, half):
            lo = bt[j] - beat_len[j] / 8
            hi = ext[j + half] - beat_len[j] / 8
            if hi < first or lo > end:
                continue
            inside = arr[(arr[:, 0] >= lo) & (arr[:, 0] < hi)]
            if inside.size:
                low = int(inside[:, 1].min())
                cur = 28 + (low - 28) % 12
            if cur is None:
                continue
            for i in range(j, min(j + half, bt.size)):
                b = int(round(bt[i]))
                if b < 0:  # a beat before the file's first tick
                    continue
                events.append((b, 2, mido.Message("note_on", channel=3, note=cur, velocity=int(rng.integers(80, 100)))))
                off = b + int(beat_len[i] * 0.85)
                events.append((off, 1, mido.Message("note_off", channel=3, note=cur, velocity=0)))
        # drums from the first accompaniment note to the last, on the song's bars
        if groove >= 0:
            for j in range(down0 % beats_per_bar, bt.size, beats_per_bar):
                if bt[j] + beats_per_bar * beat_len[j] < first or bt[j] > end:
                    continue
                for k in range(min(beats_per_bar, bt.size - j)):
                    t, blen = int(round(bt[j + k])), float(beat_len[j + k])
                    if t < 0:
                        continue
                    lv = level(t)
                    if lv < 2:
                        continue
                    hits = []
                    if lv < 3:  # a verse: kick on the downbeat, hi-hat (or ride) on the beats
                        hits += ([36] if k == 0 else []) + [51 if groove == 3 else 42]
                    elif groove in (0, 1):
                        hits += [36] if k % 2 == 0 else [38]
                        hits += [42]
                    elif groove == 2:
                        hits += [36] + ([38] if k % 2 == 1 else []) + [42]
                    else:
                        hits += ([36] if k == 0 else []) + ([37] if k == beats_per_bar - 1 else []) + [51]
                    for h in hits:
                        v = int(np.clip(rng.normal(95 if h in (36, 38) else 70, 6), 30, 127))
                        events.append((t, 2, mido.Message("note_on", channel=9, note=h, velocity=v)))
                        events.append((t + int(blen / 4), 1, mido.Message("note_off", channel=9, note=h, velocity=0)))
                    if lv >= 3 and groove in (1, 2):  # off-beat hi-hat
                        t2 = int(round(bt[j + k] + blen / 2))
                        events.append((t2, 2, mido.Message("note_on", channel=9, note=42, velocity=55)))
                        events.append((t2 + int(blen / 4), 1, mido.Message("note_off", channel=9, note=42, velocity=0)))
        if groove >= 0 and levels is not None:
            downs = bt[down0 % beats_per_bar :: beats_per_bar]
            for c in chorus_starts:
                t = int(round(downs[int(np.argmin(np.abs(downs - c)))])) if downs.size else int(c)
                if t >= 0:
                    events.append((t, 2, mido.Message("note_on", channel=9, note=49, velocity=105)))
                    events.append((t + ppq, 1, mido.Message("note_off", channel=9, note=49, velocity=0)))
    events.sort(key=lambda e: (e[0], e[1]))
    prev = 0
    for t, _, msg in events:
        meta.append(msg.copy(time=t - prev))
        prev = t
    out.tracks.append(meta)
    return out, {
        "tempo_factor": round(factor, 4),
        "transpose": shift,
        "programs": progs,
        "bass": bass_prog,
        "groove": groove,
    }


def _scale_times(obj, s: float):
    if isinstance(obj, dict):
        return {
            k: (
                round(v * s, 3)
                if k in ("start", "end", "midi_end_time") and isinstance(v, (int, float))
                else _scale_times(v, s)
            )
            for k, v in obj.items()
        }
    if isinstance(obj, list):
        return [_scale_times(v, s) for v in obj]
    return obj


def _voice_rng(song: str, seed: int) -> np.random.Generator:
    """The voice's own draws (``--sing``), apart from the arrangement's: the singer, then, from a fresh
    generator of the same seed, the singing and the mix."""
    return np.random.default_rng(zlib.crc32(f"{song}/voice/{seed}".encode()))


def _sung_melody(arr, mid, ann: dict, song: str, seed: int, info: dict):
    """``--sing``: take the melody (channel 0) out of the arrangement ``arr`` of ``mid`` and return what
    the voice sings instead: (notes in the singer's range, syllables, female) (see ``sing.py``).

    The words are set to the score's notes (``mid``'s melody at the arrangement's tempo), and every note
    the arrangement plays takes the syllable of the score's note nearest it: with ``--humanize`` a left
    out note takes its syllable with it, and the notes after it keep theirs, as a singer's do."""
    import sing

    notes = sing.notes_of(arr, 0)
    track = arr.tracks[0]
    t, kept = 0, []
    for msg in track:  # drop the melody's notes, keep every delta time
        t += msg.time
        if msg.type in ("note_on", "note_off") and msg.channel == 0:
            continue
        kept.append((t, msg))
    track.clear()
    prev = 0
    for t, msg in kept:
        track.append(msg.copy(time=t - prev))
        prev = t
    female = bool(_voice_rng(song, seed).random() < 0.5)
    notes, moved = sing.in_range(notes, female=female)
    a = ann["annotator1"]
    factor = info["tempo_factor"]
    phrases = [
        (p["start"] / factor, p["end"] / factor, p["label"]) for p in a["phrases"] if p["kind"].startswith("melodic")
    ]
    score = [(t0 / factor, t1 / factor, p, v) for t0, t1, p, v in sing.notes_of(mid, 0)]
    words = sing.lyrics(score, phrases, chorus_letter=a.get("chorus_letter"), song=song, seed=seed)
    onsets = np.array([n[0] for n in score])
    nearest = [int(np.argmin(np.abs(onsets - n[0]))) if onsets.size else -1 for n in notes]
    syllables = [words[j] if j >= 0 else ("", "a") for j in nearest]
    info["voice"] = {"female": female, "octaves": moved // 12}
    return notes, syllables, female


def _mix_voice(y: np.ndarray, sung, sr: int, info: dict, *, rng: np.random.Generator) -> np.ndarray:
    """The band ``y`` [shape=(n, channels)] with the voice on top, 0–5 dB above the band where it sings."""
    import sing

    notes, syllables, female = sung
    v = sing.sing(notes, syllables, duration=y.shape[0] / sr, sr=sr, rng=rng, female=female)
    v = sing.room(v, sr=sr, rng=rng)[: y.shape[0]]
    gain_db = float(rng.uniform(0.0, 5.0))
    band = float(np.sqrt(np.mean(y**2))) + 1e-9
    active = np.abs(v) > 0.01 * (np.abs(v).max() + 1e-9)
    level = float(np.sqrt(np.mean(v[active] ** 2))) if active.any() else 1.0
    v = v * (band * 10 ** (gain_db / 20) / max(level, 1e-9))
    info["voice"]["db_over_band"] = round(gain_db, 1)
    return y + v[:, None]


def render_one(args) -> str:
    src, out, song, style, seed, modulate, humanize, voice = args
    import mido
    import soundfile as sf

    dst = Path(out, f"pop909_{song}.mp3")
    if dst.exists() and dst.with_suffix(".json").exists():
        return f"{song}: cached"
    ann = json.loads(Path(src, "segments", f"{song}.json").read_text())
    rng = _rng(song, style, seed)
    mid = mido.MidiFile(Path(src, "midi", f"{song}.mid"))
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp, "x.wav")
        if style == "piano":
            midp, info, sf2, room = Path(src, "midi", f"{song}.mid"), {"style": "piano"}, SOUNDFONTS[0], None
        else:
            bpb = int(ann.get("beats_per_bar", 4))
            beat_ticks, down0, _ = rbc.pop909_beats(mid, ann, bpb)
            levels, starts, bare = section_levels(ann, mid, rng) if style == "produced" else (None, (), False)
            start = last_chorus_start(ann) if modulate else None
            tick = None if start is None else int(rbc.seconds_to_ticks(start, rbc.tempo_map(mid), mid.ticks_per_beat))
            # drawn apart from the arrangement's generator: the song sounds the same up to the key change
            up = 1 + zlib.crc32(f"{song}/modulate".encode()) % 2
            arr, info = arrange(
                mid,
                beats_per_bar=bpb,
                rng=rng,
                beat_ticks=beat_ticks,
                down0=down0,
                levels=levels,
                chorus_starts=starts,
                modulation=None if tick is None else (tick, up),
                human=np.random.default_rng(zlib.crc32(f"{song}/human/{seed}".encode())) if humanize else None,
                human_level=float(humanize or 0.0),
            )
            if humanize:
                info["humanized"] = float(humanize)
            sung = _sung_melody(arr, mid, ann, song, seed, info) if voice else None
            if start is not None:
                info["modulation"] = {"semitones": up, "at": round(start / info["tempo_factor"], 3)}
            if style == "produced":
                info["bare_first_verse"] = bare
            info["grid"] = "song beats"
            midp = Path(tmp, "x.mid")
            arr.save(midp)
            sf2 = SOUNDFONTS[int(rng.integers(0, len(SOUNDFONTS)))]
            room = float(rng.uniform(0.2, 0.8))
            info.update(style=style, soundfont=Path(sf2).name, room=round(room, 2))
        cmd = ["fluidsynth", "-q", "-ni", "-g", "0.6", "-r", str(SR), "-F", str(wav)]
        if room is not None:
            cmd += ["-o", f"synth.reverb.room-size={room}", "-o", "synth.reverb.level=0.5"]
        subprocess.run(cmd + [sf2, str(midp)], check=True, capture_output=True)
        if style != "piano":
            y, sr = sf.read(wav, dtype="float32", always_2d=True)
            if sung is not None:
                y = _mix_voice(y, sung, sr, info, rng=_voice_rng(song, seed))
            snr = float(rng.uniform(28, 45))
            p = float(np.mean(y**2)) + 1e-12
            noise = rng.standard_normal(y.shape).astype(np.float32)
            noise = np.cumsum(noise, axis=0) * 0.02  # a little low-frequency tilt (brown + white)
            noise -= noise.mean(axis=0)
            noise = noise / (np.std(noise) + 1e-9) + rng.standard_normal(y.shape).astype(np.float32)
            noise *= np.sqrt(p / 10 ** (snr / 10) / (np.mean(noise**2) + 1e-12))
            y = y + noise
            y *= 0.5 / max(1e-6, float(np.abs(y).max()))
            sf.write(wav, y, sr)
            info["snr_db"] = round(snr, 1)
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(wav), "-b:a", "128k", str(dst)], check=True)
    scale = 1.0 / info.get("tempo_factor", 1.0)
    ann = _scale_times(ann, scale)
    ann["render"] = info
    dst.with_suffix(".json").write_text(json.dumps(ann))
    return f"{song}: {info}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src")
    ap.add_argument("out")
    ap.add_argument("--style", choices=("piano", "band", "produced"), default="band")
    ap.add_argument("--every", type=int, default=1, help="take every K-th song (name order)")
    ap.add_argument("--offset", type=int, default=0, help="start at this position")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--skip",
        default="",
        help="comma-separated folders of rendered songs: leave out the songs they hold (before --offset and --every)",
    )
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--modulate", action="store_true", help="move the last chorus and what follows up 1 or 2 semitones")
    ap.add_argument(
        "--humanize",
        type=float,
        nargs="?",
        const=1.0,
        default=0.0,
        metavar="LEVEL",
        help="play every note as a person would, no repeat exact (LEVEL scales the variation; 1 without a value)",
    )
    ap.add_argument("--sing", action="store_true", help="the melody sung, with lyrics (benchmarks/sing.py)")
    args = ap.parse_args(argv)
    if args.sing and args.style == "piano":
        ap.error("--sing needs --style band or produced")
    if args.modulate and args.style == "piano":
        ap.error("--modulate needs --style band or produced")
    if args.humanize and args.style == "piano":
        ap.error("--humanize needs --style band or produced")
    missing = [f for f in SOUNDFONTS if not Path(f).exists()] if args.style != "piano" else []
    if missing:  # fluidsynth would fall back to its default soundfont without a word, and the renders would differ
        ap.error(f"soundfont missing: {', '.join(missing)} (apt-get install fluid-soundfont-gm timgm6mb-soundfont)")
    held = {p.stem.removeprefix("pop909_") for f in filter(None, args.skip.split(",")) for p in Path(f).glob("*.json")}
    songs = sorted(p.stem for p in Path(args.src, "midi").glob("*.mid") if p.stem not in held)
    songs = songs[args.offset :: args.every]
    if args.limit:
        songs = songs[: args.limit]
    os.makedirs(args.out, exist_ok=True)
    work = [(args.src, args.out, s, args.style, args.seed, args.modulate, args.humanize, args.sing) for s in songs]
    with mp.Pool(args.jobs) as pool:
        for line in pool.imap(render_one, work):
            print(line, flush=True)


if __name__ == "__main__":
    sys.exit(main())
