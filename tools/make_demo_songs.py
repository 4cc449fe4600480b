#!/usr/bin/env python3
"""Compose, render and encode the demo songs in ``resources/demo/``.

Five short songs in different styles, each with a real verse/chorus form and a hook
that comes back in every chorus.  Each is written as a General MIDI file with
``mido``, rendered with FluidSynth and the FluidR3 GM soundfont, trimmed, peak-normalised
and encoded with ffmpeg (Opus 56 kbit/s or Ogg Vorbis), next to the MIDI file and a ground-truth JSON
file holding the section plan, choruses, hook occurrences, beats and downbeats in
seconds, so tests and benchmarks can score the analysis on them.

Everything is deterministic: the melodies come from a random generator seeded per
song, and the same tools give the same files.

Usage::

    .venv/bin/python tools/make_demo_songs.py [--out resources/demo] [--only SLUG]

Needs ``mido`` (the ``dev`` extra), ``fluidsynth``, ``ffmpeg`` and
``/usr/share/sounds/sf2/FluidR3_GM.sf2`` (Debian: fluidsynth, fluid-soundfont-gm, ffmpeg).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import mido
import numpy as np
import soundfile as sf

SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
RATE = 44100
TPB = 480  # MIDI ticks per beat
NOTE_NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]  # pitch classes, C = 0
TAIL = 2.5  # seconds kept after the last bar (the final chord rings out, then fades)
GAIN = 0.8
PEAK = 10 ** (-4.5 / 20)  # -4.5 dBFS before encoding: lossy codecs overshoot by up to ~3 dB

MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)
NUMERALS = {"I": 0, "II": 2, "III": 4, "IV": 5, "V": 7, "VI": 9, "VII": 11}
QUALITIES = {
    "maj": (0, 4, 7),
    "min": (0, 3, 7),
    "dim": (0, 3, 6),
    "5": (0, 7, 12),
    "sus4": (0, 5, 7),
    "7": (0, 4, 7, 10),
    "maj7": (0, 4, 7, 11),
    "m7": (0, 3, 7, 10),
    "m7b5": (0, 3, 6, 10),
    "6": (0, 4, 7, 9),
    "m9": (0, 3, 7, 10, 14),
    "maj9": (0, 4, 7, 11, 14),
}

# General MIDI percussion keys
KICK, SNARE, CLAP, RIM, HAT, PEDAL_HAT, OPEN_HAT, CRASH, RIDE, TAMB, SHAKER, TOM_LO, TOM_HI = (
    36,
    38,
    39,
    37,
    42,
    44,
    46,
    49,
    51,
    54,
    70,
    45,
    50,
)

FUNCTION_LABEL = {"intro": "i", "verse": "A", "chorus": "B", "bridge": "C", "outro": "o"}


# ---------------------------------------------------------------------------------- harmony
@dataclass(frozen=True)
class Chord:
    root: int  # semitones above the key's tonic
    intervals: tuple[int, ...]

    @property
    def minor(self) -> bool:
        return len(self.intervals) > 1 and self.intervals[1] == 3


def parse_chord(symbol: str) -> Chord:
    """A roman numeral relative to the tonic: ``I``, ``vi``, ``bVII``, ``ii7``, ``Imaj7``, ``V7``, ``I5``."""
    s = symbol
    shift = 0
    while s and s[0] in "b#":
        shift += -1 if s[0] == "b" else 1
        s = s[1:]
    i = 0
    while i < len(s) and s[i].upper() in "IV":
        i += 1
    numeral, suffix = s[:i], s[i:]
    root = (NUMERALS[numeral.upper()] + shift) % 12
    lower = numeral.islower()
    if suffix in ("", None):
        quality = "min" if lower else "maj"
    elif suffix == "7":
        quality = "m7" if lower else "7"
    elif suffix == "9":
        quality = "m9" if lower else "maj9"
    else:
        quality = suffix
    return Chord(root, QUALITIES[quality])


# ---------------------------------------------------------------------------------- song model
@dataclass
class Note:
    beat: float  # from the start of the song
    length: float  # beats
    pitch: int
    velocity: int


@dataclass
class Part:
    name: str
    program: int
    channel: int
    volume: int = 100
    pan: int = 64
    reverb: int = 40
    notes: list[Note] = field(default_factory=list)


@dataclass
class Style:
    """Everything that makes one song: tempo, key, form, harmony and the instruments' patterns."""

    slug: str
    title: str
    genre: str
    bpm: float
    meter: int  # beats per bar
    tonic: int  # MIDI note of the tonic in the melody's octave
    minor: bool
    form: list[tuple[str, int]]  # (function, bars)
    progressions: dict[str, list[str]]  # function -> chord per bar (cycled)
    programs: dict[str, int]  # part name -> GM program
    drum_kit: int | None  # GM drum kit (bank 128 program) or None for no drums
    patterns: dict[str, str]  # part name -> pattern name
    rhythms: dict[str, list[tuple[float, float]]]  # phrase kind -> (onset, length) in beats, two bars
    seed: int
    swing: float = 0.5  # where the off-beat eighth falls within the beat (0.5 straight, ~0.66 swung)
    codec: str = "opus"
    melody_range: tuple[int, int] = (-3, 9)  # scale degrees around the tonic


def scale_pitch(style: Style, degree: int) -> int:
    scale = MINOR if style.minor else MAJOR
    return style.tonic + 12 * (degree // 7) + scale[degree % 7]


def chord_degrees(style: Style, chord: Chord) -> set[int]:
    """Scale degrees (mod 7) whose pitch class belongs to ``chord``."""
    scale = MINOR if style.minor else MAJOR
    pcs = {(chord.root + iv) % 12 for iv in chord.intervals}
    return {d for d in range(7) if scale[d] in pcs}


# ---------------------------------------------------------------------------------- melody
def make_phrase(
    style: Style,
    rng: random.Random,
    chords: list[Chord],
    rhythm: list[tuple[float, float]],
    start_degree: int,
    end_on: int | None = None,
) -> list[tuple[float, float, int]]:
    """A two-bar melodic phrase: chord tones on strong beats, steps in between.

    Returns (onset beat within the phrase, length in beats, scale degree) triples.
    """
    lo, hi = style.melody_range
    out = []
    prev = start_degree
    for k, (onset, length) in enumerate(rhythm):
        chord = chords[min(int(onset // style.meter), len(chords) - 1)]
        tones = chord_degrees(style, chord)
        strong = abs(onset - round(onset)) < 1e-6 and (round(onset) % style.meter in (0, 2 if style.meter == 4 else 0))
        last = k == len(rhythm) - 1
        if last and end_on is not None:
            candidates = [d for d in range(lo, hi + 1) if d % 7 == end_on % 7]
        elif strong:
            candidates = [d for d in range(lo, hi + 1) if d % 7 in tones]
        else:
            candidates = [d for d in (prev - 2, prev - 1, prev + 1, prev + 2, prev) if lo <= d <= hi]
        weights = [1.0 / (1 + abs(d - prev)) ** 1.5 for d in candidates]
        if not last:
            # a gentle pull back to the middle of the range keeps the line singable
            mid = (lo + hi) / 2
            weights = [w / (1 + 0.15 * abs(d - mid)) for w, d in zip(weights, candidates)]
        prev = rng.choices(candidates, weights)[0]
        out.append((onset, length, prev))
    return out


# ---------------------------------------------------------------------------------- accompaniment patterns
def swung(style: Style, beat: float) -> float:
    whole = int(beat)
    frac = beat - whole
    if abs(frac - 0.5) < 1e-6:
        return whole + style.swing
    return beat


def voicing(chord: Chord, center: int, tonic_pc: int) -> list[int]:
    """Chord tones placed closely around ``center`` (a MIDI note)."""
    root = tonic_pc + chord.root
    base = root + 12 * round((center - 6 - root) / 12)
    return [base + iv for iv in chord.intervals]


def chords_pattern(name: str, style: Style, chord: Chord, bar_beat: float, energy: float, rng: random.Random):
    m = style.meter
    tonic_pc = style.tonic % 12
    v = int(62 + 30 * energy)
    notes = []
    if name == "block":  # sustained, one per bar
        for p in voicing(chord, 60, tonic_pc):
            notes.append(Note(bar_beat, m - 0.05, p, v - 10))
    elif name == "piano_pop":  # root in the left hand, chord on every beat with a push into beat 3
        low = voicing(chord, 48, tonic_pc)[0]
        notes.append(Note(bar_beat, m, low, v - 5))
        for b in (0, 1, 2, 2.5, 3) if energy > 0.6 else (0, 1.5, 2, 3):
            for p in voicing(chord, 64, tonic_pc):
                notes.append(Note(bar_beat + b, 0.45, p, v - 12 + (6 if b in (0, 2) else 0)))
    elif name == "power":  # palm-muted eighth-note power chords
        root = tonic_pc + chord.root
        base = root + 12 * round((45 - root) / 12)
        for i in range(2 * m):
            accent = i % 4 == 0
            length = 0.45 if energy > 0.5 else (m - 0.1 if i == 0 else 0)
            if length == 0:
                continue
            for p in (base, base + 7, base + 12):
                notes.append(Note(bar_beat + i * 0.5, length, p, v - (0 if accent else 12)))
    elif name == "comp":  # jazz piano comping: rootless-ish voicings, Charleston rhythm
        for b, length in ((0, 1.2), (1.5, 0.8)) if energy > 0.5 else ((0, m - 0.2),):
            for p in voicing(chord, 62, tonic_pc)[1:] + [voicing(chord, 50, tonic_pc)[0]]:
                notes.append(Note(bar_beat + swung(style, b), length, p, v - 18 + rng.randint(-4, 4)))
    elif name == "waltz":  # guitar: bass note on one, chord on two and three
        vc = voicing(chord, 57, tonic_pc)
        notes.append(Note(bar_beat, 0.9, vc[0] - 12, v - 5))
        for b in (1, 2):
            for k, p in enumerate(vc + [vc[0] + 12]):
                notes.append(Note(bar_beat + b + 0.02 * k, 0.8, p, v - 18))
    elif name == "arp":  # sixteenth-note arpeggio over two octaves
        vc = voicing(chord, 64, tonic_pc)
        seq = vc + [p + 12 for p in vc]
        order = [0, 1, 2, 3, 4, 3, 2, 1] if len(seq) >= 5 else [0, 1, 2, 1]
        for i in range(4 * m):
            notes.append(
                Note(
                    bar_beat + i * 0.25, 0.22, seq[order[i % len(order)] % len(seq)], v - 25 + (10 if i % 4 == 0 else 0)
                )
            )
    return notes


def bass_pattern(name: str, style: Style, chord: Chord, next_chord: Chord, bar_beat: float, energy: float):
    m = style.meter
    tonic_pc = style.tonic % 12
    root = tonic_pc + chord.root
    r = root + 12 * round((38 - root) / 12)
    fifth = r + 7 if r + 7 <= 47 else r - 5
    v = int(70 + 30 * energy)
    notes = []
    if name == "pop":
        for b, p, length in ((0, r, 1.4), (1.5, r, 0.5), (2, fifth, 0.9), (3, r + 12, 0.4), (3.5, r, 0.45)):
            notes.append(Note(bar_beat + b, length, p, v - (0 if b in (0, 2) else 10)))
    elif name == "eighths":
        for i in range(2 * m):
            notes.append(Note(bar_beat + i * 0.5, 0.45, r, v - (0 if i % 2 == 0 else 8)))
    elif name == "offbeat":  # electronic: octave bounce on the off-beats
        for i in range(m):
            notes.append(Note(bar_beat + i, 0.25, r, v - 15))
            notes.append(Note(bar_beat + i + 0.5, 0.4, r + 12, v))
    elif name == "walk":  # walking bass: root, chord tones, chromatic approach to the next root
        nroot = tonic_pc + next_chord.root
        nr = nroot + 12 * round((38 - nroot) / 12)
        third = r + chord.intervals[1]
        line = [r, third, r + 7, nr + (1 if nr < r + 7 else -1)]
        for i, p in enumerate(line[:m]):
            notes.append(Note(bar_beat + i, 0.95, p, v - (0 if i == 0 else 10)))
    elif name == "waltz":
        notes.append(Note(bar_beat, 2.8, r, v))
    elif name == "sustain":
        notes.append(Note(bar_beat, m - 0.1, r, v))
    return notes


def drum_bar(
    name: str, style: Style, bar_beat: float, energy: float, fill: bool, crash: bool, rng: random.Random
) -> list[Note]:
    m = style.meter
    hits: list[tuple[float, int, int]] = []
    if name == "pop":
        for i in range(2 * m):
            hits.append((i * 0.5, HAT, 70 if i % 2 == 0 else 55))
        hits += [
            (0, KICK, 100),
            (1.75 if energy > 0.6 else 2.5, KICK, 80),
            (2, KICK, 95),
            (1, SNARE, 95),
            (3, SNARE, 100),
        ]
        if energy < 0.4:
            hits = [(b, k, v) for b, k, v in hits if k != SNARE] + [(1, RIM, 70), (3, RIM, 70)]
    elif name == "rock":
        for i in range(2 * m):
            hits.append((i * 0.5, RIDE if energy > 0.8 else HAT, 85 if i % 2 == 0 else 65))
        hits += [(0, KICK, 110), (1, SNARE, 110), (2, KICK, 105), (2.5, KICK, 90), (3, SNARE, 110)]
    elif name == "four":
        for i in range(m):
            hits.append((i, KICK, 115 if energy > 0.6 else 80))  # the kick drops back outside the choruses
            hits.append((i + 0.5, OPEN_HAT if energy > 0.6 else HAT, 75))
            hits.append((i + 0.25, HAT, 45))
            hits.append((i + 0.75, HAT, 50))
        if energy > 0.4:
            hits += [(1, CLAP, 95), (3, CLAP, 95)]
    elif name == "brush":
        for b in range(m):
            hits.append((b, RIDE, 60 + rng.randint(-5, 5)))
            if b % 2 == 1:
                hits.append((swung(style, b + 0.5), RIDE, 50))
                hits.append((b, PEDAL_HAT, 55))
        hits += [(0, KICK, 45), (1, SNARE, 38), (3, SNARE, 40)]
    elif name == "folk":
        hits += [(0, KICK, 80)]
        if energy > 0.4:
            hits += [(1, TAMB, 60), (2, TAMB, 55)]
        if energy > 0.7:
            hits += [(1.5, SHAKER, 40), (2.5, SHAKER, 40)]
    if fill:
        # the last beat(s) of the bar turn into a tom/snare run into the next section
        start = m - 2 if m == 4 else m - 1
        hits = [h for h in hits if h[0] < start or h[1] in (KICK,)]
        toms = [SNARE, SNARE, TOM_HI, TOM_HI, TOM_LO, TOM_LO, SNARE, SNARE]
        for i in range(4 * (m - start)):
            hits.append((start + i * 0.25, toms[i % len(toms)] if name != "folk" else TAMB, 70 + 4 * i))
    if crash:
        hits.append((0, CRASH, 105 if name != "brush" else 60))
    return [Note(bar_beat + b, 0.2, key, min(127, v)) for b, key, v in hits]


# ---------------------------------------------------------------------------------- arranging
ENERGY = {"intro": 0.35, "verse": 0.55, "chorus": 0.9, "bridge": 0.45, "outro": 0.35}


def arrange(style: Style) -> tuple[list[Part], dict]:
    """Write every part of the song and return them with the ground-truth plan (in beats)."""
    rng = random.Random(style.seed)
    m = style.meter
    chords_of = {f: [parse_chord(c) for c in prog] for f, prog in style.progressions.items()}

    def bars_chords(function: str, n: int, offset: int = 0) -> list[Chord]:
        prog = chords_of[function]
        return [prog[(offset + i) % len(prog)] for i in range(n)]

    # the melodic material, written once per section type and reused every time it comes back
    top = style.melody_range[1]
    hook = make_phrase(style, rng, bars_chords("chorus", 2), style.rhythms["hook"], start_degree=4)
    answer = make_phrase(style, rng, bars_chords("chorus", 2, 2), style.rhythms["answer"], hook[-1][2])
    cadence = make_phrase(style, rng, bars_chords("chorus", 2, 2), style.rhythms["cadence"], hook[-1][2], end_on=0)
    verse_a = make_phrase(style, rng, bars_chords("verse", 2), style.rhythms["verse"], 2)
    verse_b = make_phrase(style, rng, bars_chords("verse", 2, 2), style.rhythms["verse2"], verse_a[-1][2])
    verse_end = make_phrase(style, rng, bars_chords("verse", 2, 2), style.rhythms["verse2"], verse_a[-1][2], end_on=4)
    bridge_a = make_phrase(style, rng, bars_chords("bridge", 2), style.rhythms["bridge"], min(top, 7))
    bridge_b = make_phrase(style, rng, bars_chords("bridge", 2, 2), style.rhythms["bridge"], bridge_a[-1][2], end_on=4)

    p = style.programs
    parts = {
        "melody": Part("melody", p["melody"], 0, volume=110, pan=64, reverb=50),
        "chords": Part("chords", p["chords"], 1, volume=84, pan=44, reverb=45),
        "bass": Part("bass", p["bass"], 2, volume=100, pan=64, reverb=15),
        "pad": Part("pad", p["pad"], 3, volume=64, pan=84, reverb=70),
        "tease": Part("tease", p["tease"], 4, volume=92, pan=76, reverb=60),
    }
    drums = Part("drums", style.drum_kit or 0, 9, volume=98, reverb=30)

    sections, hooks = [], []
    beat = 0.0
    form = style.form
    for si, (function, bars) in enumerate(form):
        energy = ENERGY[function]
        next_fn = form[si + 1][0] if si + 1 < len(form) else None
        chords = bars_chords(function if function in chords_of else "verse", bars)
        if function == "outro":
            chords = bars_chords("chorus", bars)
            chords[-1] = parse_chord("i" if style.minor else "I")
        sections.append((beat, beat + bars * m, function))
        # --- melody
        phrases: list[tuple[int, list, str]] = []  # (bar offset, phrase, part)
        if function == "verse":
            phrases = [
                (0, verse_a, "melody"),
                (2, verse_b, "melody"),
                (4, verse_a, "melody"),
                (6, verse_end, "melody"),
            ][: bars // 2]
        elif function == "chorus":
            phrases = [(0, hook, "melody"), (2, answer, "melody"), (4, hook, "melody"), (6, cadence, "melody")]
            phrases = phrases[: bars // 2]
        elif function == "bridge":
            phrases = [
                (0, bridge_a, "melody"),
                (2, bridge_b, "melody"),
                (4, bridge_a, "melody"),
                (6, bridge_b, "melody"),
            ][: bars // 2]
        elif function == "intro" and bars >= 4:
            phrases = [(bars - 4, hook, "tease")]  # the hook, foreshadowed on another instrument
        elif function == "outro":
            phrases = [(0, hook, "tease")]
        for bar_off, phrase, part in phrases:
            b0 = beat + bar_off * m
            if phrase is hook:
                hooks.append((b0, b0 + 2 * m))
            vel = 96 if function == "chorus" else 84
            for onset, length, degree in phrase:
                parts[part].notes.append(
                    Note(b0 + swung(style, onset), length * 0.95, scale_pitch(style, degree), vel + rng.randint(-6, 6))
                )
                if function == "chorus" and part == "melody" and style.patterns.get("double"):
                    # the chorus melody doubled an octave up on the pad's instrument for lift
                    parts["pad"].notes.append(
                        Note(b0 + swung(style, onset), length * 0.95, scale_pitch(style, degree) + 12, vel - 30)
                    )
        # --- accompaniment
        for b in range(bars):
            bb = beat + b * m
            chord = chords[b]
            nxt = chords[b + 1] if b + 1 < bars else bars_chords(next_fn, 1)[0] if next_fn in chords_of else chord
            last_bar = next_fn is None and b == bars - 1
            if last_bar:
                for p_ in voicing(chord, 60, style.tonic % 12):
                    parts["chords"].notes.append(Note(bb, m * 1.5, p_, 80))
                parts["bass"].notes.append(Note(bb, m * 1.5, voicing(chord, 38, style.tonic % 12)[0], 90))
                if style.drum_kit is not None:
                    drums.notes.append(Note(bb, 0.3, CRASH, 80))
                continue
            pattern = (
                style.patterns["chords_" + function]
                if "chords_" + function in style.patterns
                else style.patterns["chords"]
            )
            parts["chords"].notes += chords_pattern(pattern, style, chord, bb, energy, rng)
            bass = style.patterns.get("bass_" + function, style.patterns["bass"])
            if not (function == "intro" and b < bars // 2):
                parts["bass"].notes += bass_pattern(bass, style, chord, nxt, bb, energy)
            if function in ("chorus", "bridge") and not style.patterns.get("double"):
                for p_ in voicing(chord, 67, style.tonic % 12):
                    parts["pad"].notes.append(Note(bb, m - 0.05, p_, 50 if function == "chorus" else 42))
            if style.drum_kit is not None and not (function == "intro" and b < bars // 2):
                drum_style = style.patterns["drums"]
                fill = b == bars - 1 and next_fn in ("chorus", "bridge", "verse")
                crash = b == 0 and function in ("chorus", "outro") or (b == 0 and function == "verse" and si > 1)
                drums.notes += drum_bar(drum_style, style, bb, energy, fill, crash, rng)
        beat += bars * m
    plan = {"sections": sections, "hooks": hooks, "beats": beat}
    ordered = [parts[k] for k in ("melody", "chords", "bass", "pad", "tease")]
    if style.drum_kit is not None:
        ordered.append(drums)
    return ordered, plan


def write_midi(style: Style, parts: list[Part], path: Path) -> None:
    mid = mido.MidiFile(type=1, ticks_per_beat=TPB)
    meta = mido.MidiTrack()
    meta.append(mido.MetaMessage("track_name", name=style.title, time=0))
    meta.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(style.bpm), time=0))
    meta.append(mido.MetaMessage("time_signature", numerator=style.meter, denominator=4, time=0))
    mid.tracks.append(meta)
    for part in parts:
        track = mido.MidiTrack()
        track.append(mido.MetaMessage("track_name", name=part.name, time=0))
        events: list[tuple[int, int, mido.Message]] = [
            (0, 0, mido.Message("control_change", channel=part.channel, control=7, value=part.volume)),
            (0, 0, mido.Message("control_change", channel=part.channel, control=10, value=part.pan)),
            (0, 0, mido.Message("control_change", channel=part.channel, control=91, value=part.reverb)),
            (0, 0, mido.Message("program_change", channel=part.channel, program=part.program)),
        ]
        for n in part.notes:
            on = int(round(n.beat * TPB))
            off = max(on + 1, int(round((n.beat + n.length) * TPB)))
            events.append(
                (
                    on,
                    2,
                    mido.Message("note_on", channel=part.channel, note=n.pitch, velocity=max(1, min(127, n.velocity))),
                )
            )
            events.append((off, 1, mido.Message("note_off", channel=part.channel, note=n.pitch, velocity=0)))
        events.sort(key=lambda e: (e[0], e[1], e[2].bytes()))
        now = 0
        for tick, _, msg in events:
            track.append(msg.copy(time=tick - now))
            now = tick
        mid.tracks.append(track)
    mid.save(str(path))


# ---------------------------------------------------------------------------------- rendering
def render(midi: Path, out: Path, seconds: float, codec: str) -> None:
    """FluidSynth → float WAV → trim, fade, normalise → encoded file."""
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "render.wav"
        subprocess.run(
            ["fluidsynth", "-q", "-ni", "-g", str(GAIN), "-r", str(RATE), "-F", str(wav), SOUNDFONT, str(midi)],
            check=True,
            stdout=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
        y, sr = sf.read(str(wav), dtype="float32", always_2d=True)
        n = int(round(seconds * sr))
        if len(y) < n:
            y = np.concatenate([y, np.zeros((n - len(y), y.shape[1]), np.float32)])
        y = y[:n]
        fade = int(1.5 * sr)
        y[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)[:, None]
        y *= PEAK / max(float(np.abs(y).max()), 1e-9)
        clean = Path(tmp) / "clean.wav"
        sf.write(str(clean), y, sr, subtype="PCM_16")
        if codec == "opus":
            args = ["-c:a", "libopus", "-b:a", "56k", "-vbr", "on", "-compression_level", "10"]
        else:
            args = ["-c:a", "libvorbis", "-q:a", "1"]
        subprocess.run(
            [
                "ffmpeg",
                "-nostdin",
                "-v",
                "error",
                "-y",
                "-i",
                str(clean),
                *args,
                "-map_metadata",
                "-1",
                "-fflags",
                "+bitexact",
                "-flags:a",
                "+bitexact",
                str(out),
            ],
            check=True,
        )


def ground_truth(style: Style, plan: dict, audio_name: str, duration: float) -> dict:
    spb = 60.0 / style.bpm
    sec = [
        {"start": round(a * spb, 3), "end": round(b * spb, 3), "label": FUNCTION_LABEL[f], "function": f}
        for a, b, f in plan["sections"]
    ]
    n_beats = int(round(plan["beats"]))
    bars = []
    for a, b, f in plan["sections"]:
        bars.append(f"{FUNCTION_LABEL[f]}{int(round((b - a) / style.meter))}")
    return {
        "schema": "music-explorer/demo-truth/1",
        "title": style.title,
        "file": audio_name,
        "genre": style.genre,
        "tempo": style.bpm,
        "time_signature": [style.meter, 4],
        "key": f"{NOTE_NAMES[style.tonic % 12]} {'minor' if style.minor else 'major'}",
        "duration": round(duration, 3),
        "label_string": "".join(bars),
        "sections": sec,
        "choruses": [{"start": s["start"], "end": s["end"]} for s in sec if s["function"] == "chorus"],
        "motifs": [
            {
                "id": "hook",
                "occurrences": [{"start": round(a * spb, 3), "end": round(b * spb, 3)} for a, b in plan["hooks"]],
            }
        ],
        "beats": [round(i * spb, 3) for i in range(n_beats)],
        "downbeats": [round(i * spb, 3) for i in range(0, n_beats, style.meter)],
    }


# ---------------------------------------------------------------------------------- the songs
POP_FORM = [
    ("intro", 4),
    ("verse", 8),
    ("chorus", 8),
    ("verse", 8),
    ("chorus", 8),
    ("bridge", 4),
    ("chorus", 8),
    ("outro", 4),
]
STRAIGHT_VERSE = [(0, 1), (1, 0.5), (1.5, 0.5), (2, 1), (3, 1), (4.5, 0.5), (5, 1), (6, 1.5)]

SONGS = [
    Style(
        slug="01_paper_lanterns",
        title="Paper Lanterns",
        genre="pop",
        bpm=116,
        meter=4,
        tonic=67,
        minor=False,
        form=POP_FORM,
        progressions={
            "intro": ["I", "V", "vi", "IV"],
            "verse": ["vi", "iii", "ii", "V"],
            "chorus": ["I", "V", "vi", "IV"],
            "bridge": ["ii", "IV", "vi", "V"],
        },
        programs={"melody": 73, "chords": 0, "bass": 33, "pad": 48, "tease": 11},
        drum_kit=0,
        patterns={"chords": "piano_pop", "bass": "pop", "bass_verse": "sustain", "drums": "pop"},
        rhythms={
            "hook": [(0, 0.5), (0.5, 0.5), (1, 1), (2, 0.5), (2.5, 1), (4, 0.5), (4.5, 0.5), (5, 0.5), (5.5, 1.5)],
            "answer": [(0, 1), (1, 1), (2, 1.5), (4, 0.5), (4.5, 0.5), (5, 2)],
            "cadence": [(0, 0.5), (0.5, 0.5), (1, 1), (2, 1), (3, 1), (4, 3)],
            "verse": STRAIGHT_VERSE,
            "verse2": [(0.5, 0.5), (1, 1), (2, 1), (3, 0.5), (4, 1), (5, 2)],
            "bridge": [(0, 2), (2, 2), (4, 1), (5, 1), (6, 2)],
        },
        seed=11,
        melody_range=(-2, 9),
    ),
    Style(
        slug="02_gravel_road",
        title="Gravel Road",
        genre="rock",
        bpm=138,
        meter=4,
        tonic=64,
        minor=True,
        form=[
            ("intro", 4),
            ("verse", 8),
            ("chorus", 8),
            ("verse", 8),
            ("chorus", 8),
            ("bridge", 8),
            ("chorus", 8),
            ("outro", 4),
        ],
        progressions={
            "intro": ["i5", "bVI5", "bVII5", "i5"],
            "verse": ["i5", "i5", "bVI5", "bVII5"],
            "chorus": ["bIII5", "bVII5", "i5", "bVI5"],
            "bridge": ["iv5", "bVI5", "iv5", "V5"],
        },
        programs={"melody": 29, "chords": 30, "bass": 34, "pad": 18, "tease": 29},
        drum_kit=16,
        patterns={"chords": "power", "chords_verse": "block", "bass": "eighths", "drums": "rock"},
        rhythms={
            "hook": [(0, 1), (1, 0.5), (1.5, 0.5), (2, 2), (4, 0.5), (4.5, 0.5), (5, 0.5), (5.5, 2)],
            "answer": [(0, 1.5), (1.5, 0.5), (2, 1), (3, 1), (4, 3)],
            "cadence": [(0, 0.5), (0.5, 0.5), (1, 0.5), (1.5, 0.5), (2, 1), (4, 3.5)],
            "verse": [(0, 0.5), (0.5, 0.5), (1.5, 0.5), (2, 1), (4, 0.5), (4.5, 0.5), (5, 1)],
            "verse2": [(0, 1), (1.5, 0.5), (2, 1), (3, 1), (4, 2)],
            "bridge": [(0, 3), (3, 1), (4, 4)],
        },
        seed=23,
        melody_range=(0, 11),
    ),
    Style(
        slug="03_neon_tide",
        title="Neon Tide",
        genre="electronic",
        bpm=124,
        meter=4,
        tonic=69,
        minor=True,
        form=[
            ("intro", 4),
            ("verse", 8),
            ("chorus", 8),
            ("verse", 8),
            ("chorus", 8),
            ("bridge", 8),
            ("chorus", 8),
            ("outro", 4),
        ],
        progressions={
            "intro": ["i7", "bVImaj7", "bIIImaj7", "bVII"],
            "verse": ["i7", "bVImaj7", "bIIImaj7", "bVII"],
            "chorus": ["bVI", "bVII", "i", "i"],
            "bridge": ["iv7", "iv7", "bVI", "V"],
        },
        programs={"melody": 81, "chords": 89, "bass": 38, "pad": 90, "tease": 80},
        drum_kit=25,
        patterns={
            "chords": "block",
            "chords_chorus": "arp",
            "chords_bridge": "arp",
            "bass": "offbeat",
            "bass_verse": "sustain",
            "drums": "four",
        },
        rhythms={
            "hook": [
                (0, 0.5),
                (0.75, 0.5),
                (1.5, 0.5),
                (2, 0.75),
                (3, 0.5),
                (4, 0.5),
                (4.75, 0.5),
                (5.5, 0.5),
                (6, 1.5),
            ],
            "answer": [(0, 0.75), (0.75, 0.75), (1.5, 1), (3, 0.5), (4, 2)],
            "cadence": [(0, 0.5), (0.5, 0.5), (1, 0.5), (1.5, 0.5), (2, 1), (4, 3)],
            "verse": [(0, 1.5), (2, 0.5), (2.5, 1), (4, 1.5), (6, 1)],
            "verse2": [(0, 1), (1, 1), (2, 2), (4, 3)],
            "bridge": [(0, 4), (4, 4)],
        },
        seed=37,
        melody_range=(0, 9),
    ),
    Style(
        slug="04_late_light",
        title="Late Light",
        genre="jazz",
        bpm=84,
        meter=4,
        tonic=65,
        minor=False,
        form=[
            ("intro", 2),
            ("verse", 4),
            ("chorus", 4),
            ("verse", 4),
            ("chorus", 4),
            ("bridge", 4),
            ("chorus", 4),
            ("outro", 4),
        ],
        progressions={
            "intro": ["ii7", "V7"],
            "verse": ["Imaj7", "vi7", "ii7", "V7"],
            "chorus": ["IVmaj7", "iii7", "ii7", "V7"],
            "bridge": ["iii7", "VI7", "ii7", "V7"],
        },
        programs={"melody": 66, "chords": 0, "bass": 32, "pad": 49, "tease": 11},
        drum_kit=40,
        patterns={"chords": "comp", "bass": "walk", "drums": "brush"},
        rhythms={
            "hook": [(0, 1.5), (1.5, 0.5), (2, 0.5), (2.5, 1.5), (4.5, 0.5), (5, 0.5), (5.5, 2)],
            "answer": [(0, 1), (1, 0.5), (1.5, 1.5), (4, 3)],
            "cadence": [(0, 0.5), (0.5, 0.5), (1, 1), (2, 2), (4, 3.5)],
            "verse": [(0.5, 0.5), (1, 0.5), (1.5, 1.5), (3.5, 0.5), (4, 2), (6, 1)],
            "verse2": [(0, 0.5), (0.5, 0.5), (1, 2), (4, 3)],
            "bridge": [(0, 1), (1, 1), (2, 2), (4, 3)],
        },
        seed=41,
        swing=0.66,
        codec="vorbis",
        melody_range=(-2, 9),
    ),
    Style(
        slug="05_willow_waltz",
        title="Willow Waltz",
        genre="folk",
        bpm=150,
        meter=3,
        tonic=62,
        minor=False,
        form=[
            ("intro", 4),
            ("verse", 8),
            ("chorus", 8),
            ("verse", 8),
            ("chorus", 8),
            ("bridge", 8),
            ("chorus", 8),
            ("outro", 4),
        ],
        progressions={
            "intro": ["I", "IV", "I", "V"],
            "verse": ["I", "IV", "V", "I"],
            "chorus": ["IV", "I", "V", "vi"],
            "bridge": ["vi", "iii", "IV", "V"],
        },
        programs={"melody": 40, "chords": 25, "bass": 32, "pad": 21, "tease": 73},
        drum_kit=0,
        patterns={"chords": "waltz", "bass": "waltz", "drums": "folk", "double": "yes"},
        rhythms={
            "hook": [(0, 1), (1, 0.5), (1.5, 0.5), (2, 1), (3, 2), (5, 1)],
            "answer": [(0, 1), (1, 1), (2, 1), (3, 3)],
            "cadence": [(0, 0.5), (0.5, 0.5), (1, 1), (2, 1), (3, 3)],
            "verse": [(0, 2), (2, 1), (3, 1), (4, 1), (5, 1)],
            "verse2": [(0, 1), (1, 1), (2, 1), (3, 3)],
            "bridge": [(0, 3), (3, 1.5), (4.5, 1.5)],
        },
        seed=53,
        melody_range=(-2, 9),
    ),
]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "resources" / "demo"))
    ap.add_argument("--only", help="make only the song whose slug contains this")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for style in SONGS:
        if args.only and args.only not in style.slug:
            continue
        parts, plan = arrange(style)
        seconds = plan["beats"] * 60.0 / style.bpm + TAIL
        ext = ".opus" if style.codec == "opus" else ".ogg"
        audio = out / (style.slug + ext)
        midi = out / (style.slug + ".mid")  # kept: the score the audio was rendered from
        write_midi(style, parts, midi)
        render(midi, audio, seconds, style.codec)
        truth = ground_truth(style, plan, audio.name, seconds)
        (out / (style.slug + ".json")).write_text(json.dumps(truth, indent=1) + "\n")
        print(
            f"{audio.name}: {seconds:.1f} s, {audio.stat().st_size / 1024:.0f} KiB, {truth['label_string']}",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
