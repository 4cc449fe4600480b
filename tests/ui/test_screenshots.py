"""Screenshots of the real window under Xvfb, for a person to look at (tests/_artifacts/*.png).

Runs the app in a subprocess with ``QT_QPA_PLATFORM=xcb`` on the X display that ``xvfb-run``
(scripts/test.sh) provides, on three of the bundled demo songs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from timing import budget

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "_artifacts"
DEMO = ROOT / "resources" / "demo"


@pytest.mark.xvfb
@pytest.mark.slow
@pytest.mark.timeout(420)
def test_screenshots_of_the_window_with_a_song(tmp_path):
    if not os.environ.get("DISPLAY"):
        pytest.skip("no X display: run under xvfb-run (scripts/test.sh does) to take screenshots")
    songs = sorted(p for p in DEMO.iterdir() if p.suffix in (".opus", ".ogg"))[:3]
    if len(songs) < 3:
        pytest.fail(f"{DEMO}: the demo songs are missing")
    folder = tmp_path / "songs"
    folder.mkdir()
    for p in songs:
        shutil.copy(p, folder / p.name)
    env = dict(os.environ, QT_QPA_PLATFORM="xcb")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "ui" / "screenshot_app.py"), str(folder), str(ARTIFACTS)],
        capture_output=True,
        text=True,
        env=env,
        timeout=budget(400),
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["analysed"], summary
    assert summary["sections"] > 0 and summary["banner"] == "", summary
    assert songs[0].stem in summary["title"]  # (the library names an untagged song by its file stem)
    from PySide6.QtGui import QImage

    # the window at 1440×900 and 1920×1080, light and dark: no label cut in the song view, sidebar, library
    assert set(summary["layouts"]) == {f"window-{w}-{m}" for w in ("1440x900", "1920x1080") for m in ("light", "dark")}
    assert all(cut == [] for cut in summary["layouts"].values()), summary["layouts"]
    for name in ("main", "structure", "matrix", *summary["layouts"]):
        img = QImage(summary["saved"][name])
        assert not img.isNull() and img.width() > 200 and img.height() > 100, name
        # not a blank picture: many distinct colours
        colours = {img.pixel(x, y) for x in range(0, img.width(), 7) for y in range(0, img.height(), 7)}
        assert len(colours) > 20, name
