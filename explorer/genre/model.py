"""Describe a track for the library: genre probabilities and a fixed-length sound embedding.

PLACEHOLDER being replaced by the genre work (musicnn ONNX + classifier); the interface
``describe(buffer) -> TrackDescription`` stays.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from explorer.analysis.types import Genre
from explorer.audio.buffer import AudioBuffer


@dataclass(frozen=True, eq=False)
class TrackDescription:
    genre: Genre = field(default_factory=Genre)
    #: Fixed-length float32 vector; cosine similarity between two of them = "sounds like".
    embedding: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))


def describe(buffer: AudioBuffer) -> TrackDescription:
    import librosa

    y = buffer.mono()
    if buffer.sr != 22050:
        y = librosa.resample(y, orig_sr=buffer.sr, target_sr=22050)
    mf = librosa.feature.mfcc(y=y, sr=22050, n_mfcc=20)
    emb = np.concatenate([mf.mean(axis=1), mf.std(axis=1)]).astype(np.float32)
    return TrackDescription(Genre(None, {}), emb)
