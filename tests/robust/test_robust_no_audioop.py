"""Python 3.13 removed ``audioop`` from the standard library: nothing the program runs may need it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import tone, write_audio


def test_python_without_audioop_decodes_and_analyses(tmp_path):
    """Python 3.13 has no ``audioop`` (nor does a system without pydub's ``pyaudioop``): decoding must not
    need it.  Both modules are made unimportable in a child that runs the real ``analyze``."""
    song = write_audio(tmp_path / "song.mp3", tone(8.0, 22050, channels=2), 22050)
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import sys\nsys.modules['audioop'] = None\nsys.modules['pyaudioop'] = None\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(blocker), os.environ.get("PYTHONPATH", "")])}
    check = subprocess.run(
        [sys.executable, "-c", "import audioop"], env=env, capture_output=True, text=True, timeout=60
    )
    assert check.returncode != 0 and "audioop" in check.stderr  # the blocker works
    proc = subprocess.run(
        [sys.executable, "-m", "explorer", "analyze", "--no-cache", str(song)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout)["duration"] == pytest.approx(8.0, abs=0.2)
