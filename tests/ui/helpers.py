"""Helpers of the window's tests: a synthetic song, a hand-made analysis, real mouse events."""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QCoreApplication, QElapsedTimer, QEvent, QPoint, QPointF, Qt, QTimer
from PySide6.QtGui import QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from explorer.analysis.types import Analysis, Chorus, Motif, Occurrence, Section

SR = 22050
PART = 1.5  # seconds per section of the synthetic song


#: Songs of the scanned test library (``scanned`` in conftest.py): three families of two songs,
#: soft sines, bright square waves, noise bursts.
SONGS = (("sine", 220.0), ("sine", 247.0), ("square", 880.0), ("square", 990.0), ("noise", 0.0), ("noise", 1.0))


def family_song(kind: str, f0: float, seed: int, duration: float = 6.0, sr: int = SR) -> np.ndarray:
    """A mono song of one of the :data:`SONGS` families (``sine``, ``square`` or ``noise``)."""
    t = np.arange(int(duration * sr)) / sr
    pulse = np.sin(2 * np.pi * 2 * t) > 0
    if kind == "sine":
        y = 0.4 * np.sin(2 * np.pi * f0 * t)
    elif kind == "square":
        y = 0.25 * np.sign(np.sin(2 * np.pi * f0 * t))
    else:
        y = 0.3 * np.random.default_rng(seed).standard_normal(len(t)) * pulse
    return (y * (0.6 + 0.4 * pulse)).astype(np.float32)


def synth_song(parts: str = "ABAB", sr: int = SR, part: float = PART) -> np.ndarray:
    """A stereo song of ``part``-second sections; A = a 330 Hz chord, B = 495 Hz with a pulse."""
    n = int(round(part * sr))
    t = np.arange(n) / sr
    blocks = []
    for p in parts:
        if p == "A":
            y = 0.3 * np.sin(2 * np.pi * 330 * t) + 0.15 * np.sin(2 * np.pi * 415.3 * t)
        else:
            y = 0.35 * np.sin(2 * np.pi * 495 * t) * (0.6 + 0.4 * (np.sin(2 * np.pi * 4 * t) > 0))
        blocks.append(y)
    y = np.concatenate(blocks).astype(np.float32)
    return np.stack([y, 0.8 * y], axis=1)


def make_known_analysis(path: str, duration: float) -> Analysis:
    """A B A B sections (B = chorus), two choruses, two motifs, beats every 0.5 s."""
    q = duration / 4
    labels = [("A", "verse"), ("B", "chorus"), ("A", "verse"), ("B", "chorus")]
    sections = tuple(Section(i * q, (i + 1) * q, lab, fn, 0.8) for i, (lab, fn) in enumerate(labels))
    choruses = (Chorus(q, 2 * q, 0.9), Chorus(3 * q, 4 * q, 0.85))
    motifs = (
        Motif(
            0,
            (Occurrence(0.2, 0.7), Occurrence(3 * q / 2 + 0.2, 3 * q / 2 + 0.7), Occurrence(2 * q + 0.2, 2 * q + 0.7)),
            0.9,
        ),
        Motif(1, (Occurrence(q + 0.1, q + 0.5), Occurrence(3 * q + 0.1, 3 * q + 0.5)), 0.7),
    )
    beats = tuple(np.arange(0.0, duration, 0.5))
    n = len(beats)
    idx = np.arange(n)
    R = (np.equal.outer(idx % 6 < 3, idx % 6 < 3)).astype(np.float32)
    return Analysis(
        file=path,
        duration=duration,
        sample_rate=SR,
        channels=2,
        tempo=120.0,
        beats=beats,
        downbeats=beats[::4],
        sections=sections,
        choruses=choruses,
        motifs=motifs,
        recurrence=R,
        recurrence_times=np.append(np.asarray(beats), duration),
    )


def open_and_wait(qtbot, window, path, *, timeout: int = 60000) -> int:
    """Open ``path`` and wait until its job has ended (audio, analysis or error); the request id."""
    with qtbot.waitSignal(window.jobEnded, timeout=timeout) as blocker:
        rid = window.open_song(str(path))
    assert blocker.args == [rid]
    return rid


def open_audio(qtbot, window, path, *, timeout: int = 20000) -> int:
    """Open ``path`` and wait only for its waveform."""
    with qtbot.waitSignal(window.audioReady, timeout=timeout):
        rid = window.open_song(str(path))
    return rid


def view_point(plot, x: float, y: float) -> QPoint:
    """Viewport pixel of data point (x, y) in a pyqtgraph plot of the window's waveform view."""
    QCoreApplication.processEvents()  # pending layout changes (a lane just shown) move the plots
    scene = plot.vb.mapViewToScene(QPointF(x, y))
    return plot.scene().views()[0].mapFromScene(scene)


def viewport_of(plot):
    return plot.scene().views()[0].viewport()


def drag(plot, x0: float, x1: float, y: float = 0.0, steps: int = 8) -> None:
    """Press at data x0, move to x1 in steps, release: a real left-button drag."""
    vp = viewport_of(plot)
    a, b = view_point(plot, x0, y), view_point(plot, x1, y)
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, a)
    for k in range(1, steps + 1):
        p = a + (b - a) * (k / steps)
        QTest.qWait(20)  # pyqtgraph drops moves closer than its rate limit: a drag must not become a click
        QTest.mouseMove(vp, p)
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, b, 10)


def click(plot, x: float, y: float, *, double: bool = False) -> None:
    """A left click at data (x, y); ``double``: then the press–double-click–release a real double-click
    sends (QTest.mouseDClick sends an extra press that pyqtgraph would take as a second single click)."""
    vp = viewport_of(plot)
    p = view_point(plot, x, y)
    QTest.mouseClick(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, p)
    if double:
        ev = QMouseEvent(
            QEvent.Type.MouseButtonDblClick,
            QPointF(p),
            QPointF(vp.mapToGlobal(p)),
            Qt.MouseButton.LeftButton,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
        QApplication.sendEvent(vp, ev)
        QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, p)


def hover(plot, x: float, y: float) -> None:
    """Move the mouse (no button) to data (x, y); pyqtgraph drops moves closer than its rate limit."""
    QTest.qWait(40)
    QTest.mouseMove(viewport_of(plot), view_point(plot, x, y))


def wait_played(qtbot, window, timeout: int = 10000) -> None:
    """Wait until playback has started and ended by itself."""
    qtbot.waitUntil(lambda: window.player.state == "stopped", timeout=timeout)
    assert window.player.wait(5)


#: Most CPU time (ms) the GUI thread may use between two heartbeats: a turn of the event loop does a
#: slice of work; a decode, an analysis or a scan on the GUI thread would take seconds.
CPU_GAP_MS = 250


class Heartbeat:
    """A 10 ms QTimer whose gaps (ms) show how long the GUI thread's event loop was blocked.

    ``gaps`` are wall-clock gaps: they also grow when the machine is busy (other processes, the
    GIL held by another thread).  ``cpu_gaps`` are the CPU time (ms) the GUI thread itself used
    between two beats: work done on the GUI thread shows there whatever the load.
    """

    def __init__(self, interval_ms: int = 10):
        self.gaps: list[int] = []
        self.cpu_gaps: list[float] = []
        self._clock = QElapsedTimer()
        self._timer = QTimer()
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._beat)

    def _beat(self):
        now, cpu = self._clock.elapsed(), time.thread_time()
        self.gaps.append(now - self._last)
        self.cpu_gaps.append((cpu - self._last_cpu) * 1000)
        self._last, self._last_cpu = now, cpu

    def start(self):
        self._clock.start()
        self._last, self._last_cpu = self._clock.elapsed(), time.thread_time()
        self._timer.start()

    def stop(self):
        self._timer.stop()

    def stalls(self, limit_ms: int = 50) -> list[int]:
        return [g for g in self.gaps if g > limit_ms]
