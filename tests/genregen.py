"""Songs of three clearly different synthetic genres, for training a genre model in tests.

``write_genre_songs(folder, per_genre=5)`` writes ``GENRE/NN.flac`` files tagged with their genre and
one of ``per_genre`` artists (every artist has one song in every genre, so grouping by artist keeps
each genre in every fold).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from conftest import write_audio

SR = 22050
GENRES = ("ambient", "noise", "techno")


def _ambient(rng, seconds):
    t = np.arange(int(seconds * SR)) / SR
    y = np.zeros_like(t)
    for f in rng.uniform(180, 520, 4):
        y += np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.2 * t))
    return 0.15 * y


def _noise(rng, seconds):
    n = int(seconds * SR)
    y = np.clip(rng.normal(0, 1, n) * 3, -1, 1) * 0.5
    beat = int(SR * 60 / rng.uniform(150, 180))
    for i in range(0, n, beat):
        m = min(n - i, SR // 8)
        y[i : i + m] *= np.linspace(1.6, 0.6, m)
    return np.clip(y, -0.9, 0.9)


def _techno(rng, seconds):
    n = int(seconds * SR)
    y = np.zeros(n)
    beat = int(SR * 60 / rng.uniform(124, 132))
    kick_t = np.arange(SR // 6) / SR
    kick = np.sin(2 * np.pi * (50 + 120 * np.exp(-kick_t * 30)) * kick_t) * np.exp(-kick_t * 12)
    hat = rng.normal(0, 1, SR // 30) * np.exp(-np.arange(SR // 30) / 200)
    bass_f = rng.uniform(45, 65)
    for i in range(0, n, beat):
        m = min(n - i, kick.size)
        y[i : i + m] += 0.8 * kick[:m]
        j = i + beat // 2
        if j < n:
            m = min(n - j, hat.size)
            y[j : j + m] += 0.25 * hat[:m]
    t = np.arange(n) / SR
    y += 0.2 * np.sign(np.sin(2 * np.pi * bass_f * t)) * (np.sin(2 * np.pi * t * 60 / (beat / SR) / 2) > 0)
    return np.clip(y, -0.95, 0.95)


MAKERS = {"ambient": _ambient, "noise": _noise, "techno": _techno}


def write_genre_songs(folder: Path, *, per_genre: int = 5, seconds: float = 6.0, genres=GENRES) -> list[Path]:
    paths = []
    for g_i, genre in enumerate(genres):
        (folder / genre).mkdir(parents=True, exist_ok=True)
        for k in range(per_genre):
            rng = np.random.default_rng(100 * g_i + k)
            y = MAKERS[genre](rng, seconds).astype(np.float32)[:, None]
            path = folder / genre / f"{k:02d}.flac"
            write_audio(
                path,
                y,
                SR,
                codec_args=(
                    "-metadata",
                    f"title={genre} {k}",
                    "-metadata",
                    f"artist=Artist {k}",
                    "-metadata",
                    f"genre={genre.title()}",
                ),
            )
            paths.append(path)
    return paths
