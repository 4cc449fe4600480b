"""A sung melody for the corpus renders: a voice with lyrics, vibrato, consonants and a room.

``render_corpus.py --sing`` gives a POP909 song's melody to this voice instead of a MIDI instrument.
What it adds to a render is what a singer adds to a recording:

- every note is a syllable, a consonant (a hiss, a burst, a hum or nothing) and a vowel whose
  formants colour the note's harmonics, so that the voice's timbre changes with the words;
- the words follow the song as lyrics do: a chorus is sung to the same words every time, every other
  phrase (a verse's lines above all) to new words, so the repeats of a verse match in melody and
  harmony but not in timbre, and the repeats of a chorus match in all three;
- the pitch is sung, not played: each note is scooped into from below or glided into from the note
  before, long notes get a vibrato (5–6.5 Hz, 20–45 cents) and the pitch drifts a little throughout;
- a singer of their own per song (formants of a man's or a woman's voice, the melody moved by an
  octave into the singer's range) in a room of their own (a reverberation of 0.5–1.5 s).

The synthesis is additive: harmonics of the sung pitch up to 5 kHz, each weighted by the vowel's
formant envelope at its frequency, the envelope moving from one vowel to the next over 60 ms.
"""

from __future__ import annotations

import zlib

import numpy as np

#: Formant frequencies (Hz) of five vowels, an adult male voice (Peterson and Barney's averages).
VOWELS = {
    "a": (730.0, 1090.0, 2440.0),
    "e": (530.0, 1840.0, 2480.0),
    "i": (270.0, 2290.0, 3010.0),
    "o": (570.0, 840.0, 2410.0),
    "u": (300.0, 870.0, 2240.0),
}
#: Relative gains and bandwidths (Hz) of the three formants.
FORMANT_GAIN = (1.0, 0.5, 0.25)
FORMANT_WIDTH = (90.0, 110.0, 170.0)
#: Consonants: the band of their noise (Hz, None for none), their length (s) and their level.
CONSONANTS = {
    "s": ((4000.0, 9000.0), 0.08, 0.25),
    "sh": ((1800.0, 5000.0), 0.09, 0.25),
    "f": ((1000.0, 8000.0), 0.07, 0.12),
    "t": ((2000.0, 8000.0), 0.02, 0.5),
    "k": ((1000.0, 4000.0), 0.025, 0.45),
    "p": ((300.0, 3000.0), 0.015, 0.45),
    "m": (None, 0.05, 0.0),
    "n": (None, 0.05, 0.0),
    "l": (None, 0.04, 0.0),
    "": (None, 0.0, 0.0),
}
TOP_HZ = 5000.0
CONTROL_S = 0.005


def notes_of(midi, channel: int = 0) -> list[tuple[float, float, int, int]]:
    """The notes of one channel of a ``mido.MidiFile``: (start s, end s, pitch, velocity), in time order."""
    t = 0.0
    held: dict[int, list[tuple[float, int]]] = {}
    out = []
    for msg in midi:  # mido plays the file through its tempo map: msg.time is in seconds
        t += msg.time
        if msg.type not in ("note_on", "note_off") or msg.channel != channel:
            continue
        if msg.type == "note_on" and msg.velocity > 0:
            held.setdefault(msg.note, []).append((t, msg.velocity))
        elif held.get(msg.note):
            t0, vel = held[msg.note].pop(0)
            if t > t0:
                out.append((t0, t, int(msg.note), int(vel)))
    return sorted(out)


def lyrics(notes, phrases, *, chorus_letter: str | None, song: str, seed: int) -> list[tuple[str, str]]:
    """A syllable (consonant, vowel) for every note.

    ``phrases`` are (start s, end s, letter) of the song's melodic phrases.  The k-th phrase of a run of
    the chorus letter gets the same words wherever the run occurs; every other phrase gets words of its
    own.  A note outside every phrase gets words of its own too.  One note in ten continues the syllable
    before it (a melisma: no consonant, the same vowel).
    """
    keys = []
    run_pos, prev_letter = 0, None
    for start, end, letter in phrases:
        run_pos = run_pos + 1 if letter == prev_letter else 0
        prev_letter = letter
        if chorus_letter is not None and letter == chorus_letter:
            keys.append((start, end, f"{song}/{seed}/chorus/{run_pos}"))
        else:
            keys.append((start, end, f"{song}/{seed}/line/{len(keys)}"))
    cons = list(CONSONANTS)
    vows = list(VOWELS)
    cons_p = np.array([4, 2, 2, 4, 3, 2, 3, 3, 3, 4], dtype=float)
    cons_p /= cons_p.sum()
    gens: dict[str, np.random.Generator] = {}
    out: list[tuple[str, str]] = []
    for i, (t0, _t1, _p, _v) in enumerate(notes):
        key = next((k for a, b, k in keys if a - 0.15 <= t0 < b - 0.15), f"{song}/{seed}/free/{i}")
        g = gens.setdefault(key, np.random.default_rng(zlib.crc32(key.encode())))
        melisma = g.random() < 0.1
        c = str(g.choice(cons, p=cons_p))
        v = str(g.choice(vows))
        if melisma and out:
            out.append(("", out[-1][1]))
        else:
            out.append((c, v))
    return out


def _envelope(freqs: np.ndarray, formants: np.ndarray) -> np.ndarray:
    """Gain of the vocal tract at ``freqs`` [shape=(K, T)] for ``formants`` [shape=(3, T)]."""
    g = np.full(freqs.shape, 0.02)
    for j in range(3):
        g += FORMANT_GAIN[j] / (1.0 + ((freqs - formants[j]) / FORMANT_WIDTH[j]) ** 2)
    return g


def _band_noise(n: int, band: tuple[float, float], sr: int, rng: np.random.Generator) -> np.ndarray:
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1.0 / sr)
    spec[(f < band[0]) | (f > band[1])] = 0
    y = np.fft.irfft(spec, n)
    return y / (np.std(y) + 1e-9)


def sing(notes, syllables, *, duration: float, sr: int, rng: np.random.Generator, female: bool) -> np.ndarray:
    """The voice singing ``notes`` (see :func:`notes_of`, pitches already in the singer's range) to
    ``syllables`` (see :func:`lyrics`), dry, as a float32 array of ``duration`` seconds at ``sr``."""
    n_total = int(np.ceil(duration * sr)) + sr
    y = np.zeros(n_total, dtype=np.float64)
    scale = 1.17 if female else 1.0
    prev_pitch, prev_vowel, prev_end = None, "a", -1.0
    for i, ((t0, t1, pitch, vel), (cons, vowel)) in enumerate(zip(notes, syllables)):
        nxt = notes[i + 1][0] if i + 1 < len(notes) else t1 + 1.0
        legato = nxt - t1 < 0.08
        end = min(nxt, t1 + 0.05) if legato else t1
        dur = max(0.06, end - t0)
        c = np.arange(0.0, dur + CONTROL_S, CONTROL_S)
        # pitch: a glide from the note before (legato) or a scoop from below, vibrato on long notes, drift
        glide_from = (prev_pitch - pitch) if (prev_pitch is not None and t0 - prev_end < 0.08) else -0.6
        glide = glide_from * np.exp(-c / 0.035)
        depth = rng.uniform(0.2, 0.45) * np.clip((c - 0.25) / 0.2, 0, 1) if dur > 0.4 else 0 * c
        vib = depth * np.sin(2 * np.pi * rng.uniform(5.0, 6.5) * c + rng.uniform(0, 2 * np.pi))
        drift = np.cumsum(rng.normal(0, 0.01, c.size))
        drift -= np.linspace(0, drift[-1], c.size)
        f0 = 440.0 * 2 ** ((pitch + glide + vib + drift - 69) / 12)
        # the vowel's formants, moving from the vowel before over 60 ms
        fa = np.array(VOWELS[prev_vowel]) * scale
        fb = np.array(VOWELS[vowel]) * scale
        w = np.clip(c / 0.06, 0, 1)
        formants = fa[:, None] * (1 - w) + fb[:, None] * w
        k = np.arange(1, int(TOP_HZ / (440.0 * 2 ** ((pitch - 69) / 12))) + 2)[:, None]
        amp = _envelope(k * f0[None, :], formants) / k**0.6
        amp[k[:, 0] * f0.max() > TOP_HZ + 500] = 0
        # to samples
        n = int(dur * sr)
        ts = np.arange(n) / sr
        f0s = np.interp(ts, c, f0)
        phase = 2 * np.pi * np.cumsum(f0s) / sr
        a = np.stack([np.interp(ts, c, row) for row in amp])
        voiced = (a * np.sin(k * phase[None, :])).sum(axis=0)
        # loudness: the velocity, a soft attack (longer after a hum), a release, a slight decay
        attack = 0.05 if cons in ("m", "n", "l") else 0.02
        env = np.clip(ts / attack, 0, 1) * np.clip((dur - ts) / 0.05, 0, 1) * np.exp(-ts / 4.0)
        voiced *= env * (vel / 100.0) * 0.1
        s0 = int(t0 * sr)
        seg = y[s0 : s0 + n]
        seg += voiced[: seg.size]
        band, clen, level = CONSONANTS[cons]
        if band is not None and clen > 0:
            m = max(8, int(clen * sr))
            burst = _band_noise(m, band, sr, rng) * np.hanning(m) * level * 0.1 * (vel / 100.0)
            b0 = max(0, s0 - m + int(0.01 * sr))
            y[b0 : b0 + m] += burst[: y[b0 : b0 + m].size]
        prev_pitch, prev_vowel, prev_end = pitch, vowel, end
    y = y[: int(np.ceil(duration * sr))]
    return y.astype(np.float32)


def room(y: np.ndarray, *, sr: int, rng: np.random.Generator) -> np.ndarray:
    """``y`` in a room: a decaying noise tail of 0.5–1.5 s (to -60 dB), mixed at 15–35 %."""
    from scipy.signal import fftconvolve

    rt60 = float(rng.uniform(0.5, 1.5))
    n = int(rt60 * sr)
    t = np.arange(n) / sr
    ir = rng.standard_normal(n) * np.exp(-6.9 * t / rt60)
    ir[: int(0.01 * sr)] = 0  # the first reflections arrive after 10 ms
    ir /= np.sqrt(np.sum(ir**2)) + 1e-9
    wet = fftconvolve(y, ir)[: y.size]
    mix = float(rng.uniform(0.15, 0.35))
    return ((1 - mix) * y + mix * wet * np.std(y) / (np.std(wet) + 1e-9)).astype(np.float32)


def in_range(notes, *, female: bool) -> tuple[list[tuple[float, float, int, int]], int]:
    """The notes moved by whole octaves so that their median lies in the singer's range
    (a woman's around MIDI 67, a man's around 57), and the semitones they moved."""
    if not notes:
        return list(notes), 0
    med = float(np.median([p for _, _, p, _ in notes]))
    centre = 67 if female else 57
    shift = 12 * int(np.round((centre - med) / 12))
    return [(a, b, p + shift, v) for a, b, p, v in notes], shift
