"""AudioBuffer → Analysis, in stages, reporting progress and honouring cancellation.

The one entry point that the CLI, the GUI worker and the library scanner all call.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from explorer.analysis.types import Analysis
from explorer.audio.buffer import AudioBuffer
from explorer.errors import Cancelled

#: Bumped whenever a change alters results: it is part of every cache key.
ANALYSIS_VERSION = "0.1"

ProgressFn = Callable[[float, str], None]
CancelFn = Callable[[], bool]


def analyze(buffer: AudioBuffer, *, progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> Analysis:
    """Analyse one decoded song.

    Parameters
    ----------
    buffer : AudioBuffer
    progress : callable(fraction, stage) or None
        Called between stages with the fraction done (0–1) and the stage name.
    cancel : callable() -> bool or None
        Polled between stages; raises :class:`~explorer.errors.Cancelled` when it returns True.

    Returns
    -------
    Analysis
    """
    timings: dict[str, float] = {}

    def stage(name: str, frac: float):
        if cancel is not None and cancel():
            raise Cancelled(f"{buffer.path}: analysis cancelled", path=buffer.path)
        if progress is not None:
            progress(frac, name)

    t = time.perf_counter()
    stage("done", 1.0)
    timings["total"] = time.perf_counter() - t
    return Analysis(file=buffer.path, duration=buffer.duration, sample_rate=buffer.sr, channels=buffer.channels,
                    timings=timings, warnings=buffer.warnings, version=ANALYSIS_VERSION)
