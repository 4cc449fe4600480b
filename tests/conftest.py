"""Fixtures every test can use: isolated user folders, audio made on the spot, captured playback.

Area-specific fixtures live in the conftest.py of their own folder.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

# Qt tests run offscreen unless a test asks for a real (virtual) screen itself.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import TIME_FACTOR, budget  # noqa: E402


def pytest_report_header(config):
    return f"time limits x{TIME_FACTOR:.1f} (tests/timing.py; MUSIC_EXPLORER_TEST_TIME_FACTOR)"


def pytest_collection_modifyitems(config, items):
    """pytest-timeout's limit of each test (its ``timeout`` marker, or the ini's ``timeout``) is a hang
    guard for an idle machine: scale it like every other limit (tests/timing.py)."""
    default = config.getoption("timeout", None) or config.getini("timeout") or 0
    for item in items:
        marker = item.get_closest_marker("timeout")
        seconds = default
        if marker is not None:
            seconds = marker.args[0] if marker.args else marker.kwargs.get("timeout", default)
        if seconds and float(seconds) > 0:
            item.add_marker(pytest.mark.timeout(budget(float(seconds))), append=False)


@pytest.fixture(scope="session", autouse=True)
def _no_helper_left():
    """The window's analysis helper (a process, started by the first analysis of a test) is ended after
    the last test, as the application ends it when it quits, instead of running on until exit."""
    yield
    helper = sys.modules.get("explorer.services.analysis_helper")
    if helper is not None:
        helper.shutdown()


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Every test gets its own data, cache and config folders: no test touches the user's library."""
    home = tmp_path_factory.mktemp("home")
    for var in ("XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME"):
        d = home / var.lower()
        d.mkdir()
        monkeypatch.setenv(var, str(d))
    yield


ALSA_CAPTURE_CONF = """pcm.!default {{
    type file
    slave {{ pcm {{ type null }} }}
    file "{path}"
    format "wav"
}}
ctl.!default {{ type hw card 0 }}
"""


class Capture:
    """Where playback through the ALSA ``type file`` device lands."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.path = folder / "captured.wav"
        self.conf = folder / "asound.conf"
        self.conf.write_text(ALSA_CAPTURE_CONF.format(path=self.path))

    def read(self) -> tuple[np.ndarray, int]:
        """The int16 samples played last, shape (n, channels), and their rate."""
        import soundfile as sf

        data, sr = sf.read(str(self.path), dtype="int16", always_2d=True)
        return data, sr

    def clear(self):
        if self.path.exists():
            self.path.unlink()


@pytest.fixture
def alsa_capture(tmp_path, monkeypatch) -> Capture:
    """Make simpleaudio play into a WAV file instead of a sound card (set before the first play)."""
    cap = Capture(tmp_path)
    monkeypatch.setenv("ALSA_CONFIG_PATH", str(cap.conf))
    return cap


def write_audio(path: Path, y: np.ndarray, sr: int, *, codec_args: tuple[str, ...] = ()) -> Path:
    """Write float samples ``y`` (n,) or (n, ch) to ``path`` with ffmpeg (format from the extension)."""
    from badfiles import encode

    return encode(path, y, sr, *codec_args)


@pytest.fixture
def make_audio(tmp_path):
    """Factory: ``make_audio(name, y, sr, *codec_args)`` writes a file in a temp folder and returns its path."""

    def make(name: str, y: np.ndarray, sr: int, *codec_args: str) -> Path:
        return write_audio(tmp_path / name, y, sr, codec_args=codec_args)

    return make


def tone(duration: float, sr: int, freq: float = 440.0, channels: int = 1, amp: float = 0.5) -> np.ndarray:
    """A sine tone, shape (n, channels), each channel a little higher in pitch so they differ."""
    t = np.arange(int(round(duration * sr))) / sr
    return np.stack([amp * np.sin(2 * np.pi * freq * (1 + 0.1 * c) * t) for c in range(channels)], axis=1).astype(
        np.float32
    )


@pytest.fixture(scope="session")
def have_ffmpeg():
    if not shutil.which("ffmpeg"):
        pytest.fail("ffmpeg is not installed: run `make test`, which installs it")
    return True
