"""Synthesised test songs with a known plan: the ground truth for structure tests and demos.

``make_song(plan="ABABCB")`` renders one section per letter (the same letter = the same music:
chords, melody, drums and instrument colour), and plants a short motif (a one-bar riff on its
own instrument) in the second bar of every section, so the motif recurs across different
sections.  Everything is deterministic for a given ``seed``.

>>> y, sr, truth = make_song("ABAB", sr=11025)
>>> [s.label for s in truth.sections]
['A', 'B', 'A', 'B']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TruthSection:
    start: float
    end: float
    label: str


@dataclass(frozen=True)
class SongTruth:
    """What is really in a synthesised song (all times in seconds).

    Attributes
    ----------
    sections : tuple of TruthSection
        One per plan letter, contiguous; the song has ``lead_in`` s of silence before the first.
    chorus_label : str
        The plan letter that occurs most often (ties: the later first appearance).
    choruses : tuple of (start, end)
        Every occurrence of ``chorus_label``.
    motif : tuple of (start, end)
        Every occurrence of the planted motif (empty when ``motif=False``).
    beats : np.ndarray
        Beat times.
    downbeats : np.ndarray
        Bar starts.
    tempo : float
        Beats per minute.
    duration : float
    """

    sections: tuple[TruthSection, ...]
    chorus_label: str
    choruses: tuple[tuple[float, float], ...]
    motif: tuple[tuple[float, float], ...]
    beats: np.ndarray
    downbeats: np.ndarray
    tempo: float
    duration: float

    @property
    def boundaries(self) -> np.ndarray:
        """Section starts and the end of the last section."""
        return np.array([s.start for s in self.sections] + [self.sections[-1].end])


_SCALE = np.array([0, 2, 4, 5, 7, 9, 11])  # major scale steps
_PROGRESSIONS = [(0, 5, 3, 4), (5, 3, 0, 4), (3, 4, 0, 0), (0, 3, 4, 3), (5, 4, 3, 4), (1, 4, 0, 5)]


def _midi_hz(m):
    return 440.0 * 2.0 ** ((np.asarray(m, dtype=float) - 69) / 12)


def _tone(freq, dur, sr, *, harmonics=(1.0, 0.5, 0.25), decay=3.0, attack=0.005):
    n = max(1, int(dur * sr))
    t = np.arange(n) / sr
    y = sum(a * np.sin(2 * np.pi * freq * (k + 1) * t) for k, a in enumerate(harmonics))
    env = np.minimum(1.0, t / attack) * np.exp(-decay * t)
    return (y * env).astype(np.float32)


def _noise_hit(dur, sr, rng, *, decay, lowpass=None):
    n = max(1, int(dur * sr))
    y = rng.standard_normal(n).astype(np.float32)
    if lowpass:
        k = max(1, int(sr / lowpass))
        y = np.convolve(y, np.ones(k) / k, mode="same").astype(np.float32)
    return y * np.exp(-decay * np.arange(n) / sr).astype(np.float32)


def _kick(sr):
    t = np.arange(int(0.25 * sr)) / sr
    f = 50 + 90 * np.exp(-t * 25)
    return (np.sin(2 * np.pi * np.cumsum(f) / sr) * np.exp(-t * 12)).astype(np.float32)


def _add(out, y, at, gain=1.0):
    i = int(at)
    if i >= out.size:
        return
    j = min(out.size, i + y.size)
    out[i:j] += gain * y[: j - i]


def _section_audio(
    letter_seed: int, bars: int, bar_len: int, beat_len: int, sr: int, motif_bar: int | None, motif_notes, key: int
) -> np.ndarray:
    """Render one section; the same ``letter_seed`` always gives the same audio."""
    rng = np.random.default_rng(letter_seed)
    out = np.zeros(bars * bar_len, dtype=np.float32)
    prog = _PROGRESSIONS[letter_seed % len(_PROGRESSIONS)]
    colour = [(1.0, 0.5, 0.25), (1.0, 0.1, 0.6, 0.1, 0.3), (1.0, 0.8, 0.6, 0.4, 0.2, 0.1)][letter_seed % 3]
    octave = 60 + 12 * (letter_seed % 2)
    melody = rng.choice(7, size=(bars, 8))
    hat = _noise_hit(0.05, sr, rng, decay=80)
    snare = _noise_hit(0.2, sr, rng, decay=18, lowpass=4000)
    kick = _kick(sr)
    for b in range(bars):
        t0 = b * bar_len
        root = _SCALE[prog[b % len(prog)]] + key
        quiet = 0.35 if b == motif_bar else 1.0
        for iv in (0, 4, 7):  # the chord, held for the bar
            _add(out, _tone(_midi_hz(48 + root + iv), bar_len / sr, sr, decay=1.0), t0, 0.12 * quiet)
        _add(out, _tone(_midi_hz(36 + root), bar_len / sr, sr, decay=1.5), t0, 0.25 * quiet)
        for k in range(8):  # eighth-note melody from the scale
            note = octave + key + _SCALE[melody[b, k]]
            _add(
                out,
                _tone(_midi_hz(note), beat_len / 2 / sr, sr, harmonics=colour, decay=6.0),
                t0 + k * beat_len // 2,
                0.18 * quiet,
            )
        for q in range(4):  # drums: kick 1 and 3, snare 2 and 4, hats on eighths
            _add(out, kick if q % 2 == 0 else snare, t0 + q * beat_len, 0.5 if q % 2 == 0 else 0.25)
            _add(out, hat, t0 + q * beat_len, 0.06)
            _add(out, hat, t0 + q * beat_len + beat_len // 2, 0.04)
        if b == motif_bar:
            for k, m in enumerate(motif_notes):
                _add(
                    out,
                    _tone(_midi_hz(m + key), beat_len / 2 / sr, sr, harmonics=(1.0, 0.0, 0.7, 0.0, 0.4), decay=4.0),
                    t0 + k * beat_len // 2,
                    0.35,
                )
    return out


def make_song(
    plan: str = "ABABCB",
    *,
    sr: int = 22050,
    seed: int = 0,
    bpm: float = 120.0,
    bars_per_section: int = 4,
    lead_in: float = 1.0,
    tail: float = 1.0,
    motif: bool = True,
    noise: float = 0.003,
    modulate: int = 0,
) -> tuple[np.ndarray, int, SongTruth]:
    """Render a song whose sections follow ``plan``.

    Parameters
    ----------
    plan : str
        One letter per section; the same letter is the same music.
    sr : int
        Sample rate (Hz).
    seed : int
        Chooses key, progressions, melodies and the motif.
    bpm : float
        Tempo (4/4).
    bars_per_section : int
    lead_in, tail : float
        Silence before the first and after the last section (s).
    motif : bool
        Plant the motif in the second bar of every section.
    noise : float
        RMS of white noise added everywhere (keeps silence from being digital zero).
    modulate : int
        Semitones by which the last occurrence of the chorus and everything after it move (the key
        change of a last chorus); 0 keeps one key throughout.

    Returns
    -------
    y : np.ndarray [shape=(n,), float32]
    sr : int
    truth : SongTruth
    """
    rng = np.random.default_rng(seed)
    key = int(rng.integers(0, 7))
    beat_len = int(round(sr * 60.0 / bpm))
    bar_len = 4 * beat_len
    sec_len = bars_per_section * bar_len
    motif_notes = 84 + rng.choice([0, 3, 5, 7, 10, 12], size=8)
    motif_bar = 1 if motif and bars_per_section > 1 else None
    letter_seeds = {c: seed * 1000 + 17 * (i + 1) for i, c in enumerate(dict.fromkeys(plan))}
    rendered = {
        c: _section_audio(s, bars_per_section, bar_len, beat_len, sr, motif_bar, motif_notes, key)
        for c, s in letter_seeds.items()
    }
    counts = {c: plan.count(c) for c in plan}
    chorus = max(counts, key=lambda c: (counts[c], plan.index(c)))
    up_from = plan.rindex(chorus) if modulate else len(plan)
    raised = {
        c: _section_audio(
            letter_seeds[c], bars_per_section, bar_len, beat_len, sr, motif_bar, motif_notes, key + modulate
        )
        for c in set(plan[up_from:])
    }
    head, foot = int(lead_in * sr), int(tail * sr)
    y = np.zeros(head + len(plan) * sec_len + foot, dtype=np.float32)
    for i, c in enumerate(plan):
        y[head + i * sec_len : head + (i + 1) * sec_len] += (raised if i >= up_from else rendered)[c]
    y += noise * rng.standard_normal(y.size).astype(np.float32)
    y /= max(1.0, float(np.abs(y).max()) / 0.9)

    t_head = head / sr
    sections = tuple(
        TruthSection(t_head + i * sec_len / sr, t_head + (i + 1) * sec_len / sr, c) for i, c in enumerate(plan)
    )
    motifs = ()
    if motif_bar is not None:
        motifs = tuple((s.start + motif_bar * bar_len / sr, s.start + (motif_bar + 1) * bar_len / sr) for s in sections)
    n_beats = len(plan) * bars_per_section * 4
    beats = t_head + np.arange(n_beats) * beat_len / sr
    truth = SongTruth(
        sections=sections,
        chorus_label=chorus,
        choruses=tuple((s.start, s.end) for s in sections if s.label == chorus),
        motif=motifs,
        beats=beats,
        downbeats=beats[::4],
        tempo=60.0 * sr / beat_len,
        duration=y.size / sr,
    )
    return y, sr, truth
