"""A packaged install: read-only package folders, no writable HOME, nothing written for a third party.

- D8: with the packages read-only and HOME not writable, ``analyze`` works, and numba (librosa's JIT,
  which compiles on first use and needs a writable cache) is never imported — nor is librosa, nor scipy
  or scikit-learn (slow to import).
- D2: onnxruntime's telemetry (a device ID and an event queue under
  ``~/.cache/Microsoft/DeveloperTools/.onnxruntime/``) is never written by ``genre predict`` or ``analyze``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from conftest import write_audio
from songgen import make_song

ROOT = Path(__file__).resolve().parents[2]

# Runs the real CLI's main() in this interpreter and reports what was imported and what was written
# under the folders that a packaged install makes read-only (an audit hook refuses every write there,
# as a read-only file system would, and records it; it also works as root, who ignores permissions).
_WRAPPER = r"""
import json, os, sys
readonly = [os.path.realpath(p) for p in sys.argv[1].split(os.pathsep)]
report_path = sys.argv[2]
attempts = []
WRITE = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC

def _inside(path):
    try:
        p = os.path.realpath(os.fsdecode(path))
    except (TypeError, ValueError):
        return False
    return any(p == r or p.startswith(r + os.sep) for r in readonly)

def _refuse(event, path):
    attempts.append([event, os.fsdecode(path)])
    raise PermissionError(30, "Read-only file system", os.fsdecode(path))

def hook(event, args):
    if event == "open" and args[0] is not None and not isinstance(args[0], int) and (args[2] or 0) & WRITE:
        if _inside(args[0]):
            _refuse(event, args[0])
    elif event in ("os.mkdir", "os.remove", "os.rmdir", "os.chmod", "os.truncate", "os.utime", "os.symlink"):
        if not isinstance(args[0], int) and _inside(args[0]):
            _refuse(event, args[0])
    elif event in ("os.rename", "os.link"):
        for p in args[:2]:
            if not isinstance(p, int) and _inside(p):
                _refuse(event, p)

sys.addaudithook(hook)
from explorer.cli.main import main
try:
    rc = main(sys.argv[3:])
except SystemExit as e:
    rc = e.code
sys.stdout.flush()
with open(report_path, "w") as f:
    json.dump({"rc": rc, "attempts": attempts, "numba": sorted(m for m in sys.modules if m.split(".")[0] == "numba"),
               "librosa": sorted(m for m in sys.modules if m.split(".")[0] == "librosa"),
               "scipy": sorted(m for m in sys.modules if m.split(".")[0] in ("scipy", "sklearn")),
               "llvmlite": "llvmlite" in sys.modules}, f)
"""


@pytest.fixture(scope="module")
def song(tmp_path_factory):
    y, sr, _ = make_song("ABAB", sr=22050, seed=3, bars_per_section=2)
    return write_audio(tmp_path_factory.mktemp("song") / "song.mp3", y, sr)


def _package_folders() -> list[str]:
    import explorer

    folders = {
        sysconfig.get_paths()["purelib"],
        sysconfig.get_paths()["platlib"],
        str(Path(explorer.__file__).resolve().parent),
        str(ROOT / "resources"),
    }
    return sorted(folders)


def _run(tmp_path, env_overrides: dict[str, str | None], *argv: str) -> tuple[subprocess.CompletedProcess, dict]:
    report = tmp_path / "report.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    env.pop("ORT_DISABLE_TELEMETRY", None)  # the product must switch it off itself
    for k, v in env_overrides.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # a packaged install has its bytecode already
    cmd = [sys.executable, "-c", _WRAPPER, os.pathsep.join(_package_folders()), str(report), *argv]
    r = subprocess.run(
        cmd, capture_output=True, text=True, env=env, timeout=600, stdin=subprocess.DEVNULL, cwd=tmp_path
    )
    assert report.exists(), r.stderr
    return r, json.loads(report.read_text())


def test_analyze_on_a_read_only_install_without_a_home_never_loads_numba(song, tmp_path):
    cache = tmp_path / "cache"
    r, rep = _run(tmp_path, {"HOME": "/nonexistent", "XDG_CACHE_HOME": str(cache)}, "analyze", "--", str(song))
    assert r.returncode == 0 and rep["rc"] == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["sections"] and doc["genre"]["label"]
    assert rep["numba"] == [] and not rep["llvmlite"], f"numba was imported: {rep['numba'][:5]}"
    assert rep["librosa"] == [], f"librosa was imported: {rep['librosa'][:5]}"
    # the analysis is numpy's: importing scipy would cost a third of a second of every analysis process
    assert rep["scipy"] == [], f"scipy or scikit-learn was imported: {rep['scipy'][:5]}"
    assert rep["attempts"] == [], f"writes into the installed packages: {rep['attempts'][:5]}"
    assert not Path("/nonexistent").exists()
    # the cache went where XDG says, and a second run is answered from it
    assert any(cache.rglob("*.mxa"))
    r2, rep2 = _run(tmp_path, {"HOME": "/nonexistent", "XDG_CACHE_HOME": str(cache)}, "analyze", "--", str(song))
    assert r2.returncode == 0 and json.loads(r2.stdout)["sections"] == doc["sections"]


def test_analyze_and_genre_predict_write_no_telemetry(song, tmp_path):
    """Under a fresh HOME (XDG folders unset) nothing but our own folders appears."""
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home)}
    for var in ("XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME"):
        env[var] = None  # unset: platformdirs and onnxruntime fall back to HOME's folders
    for argv in (
        ("genre", "predict", "--", str(song)),
        ("analyze", "--no-cache", "--", str(song)),
        ("analyze", "--", str(song)),
        ("genre", "predict", "--json", "--", str(song)),
    ):
        r, rep = _run(tmp_path, env, *argv)
        assert r.returncode == 0 and rep["rc"] == 0, (argv, r.stderr)
    written = sorted(str(p.relative_to(home)) for p in home.rglob("*"))
    assert not [p for p in written if "Microsoft" in p or "onnxruntime" in p.lower()], written
    assert all(p.split(os.sep)[:2] in ([".cache"], [".cache", "music-explorer"]) for p in written), written


def test_cached_genre_predict_does_not_load_the_networks(song, tmp_path):
    """`genre predict` on an analysed song answers from the cache: the same genre, without importing onnxruntime,
    scipy, scikit-learn, librosa or the analysis stages."""
    cache = tmp_path / "cache"
    env = {"XDG_CACHE_HOME": str(cache)}
    r, _ = _run(tmp_path, env, "analyze", "--", str(song))
    assert r.returncode == 0, r.stderr
    genre = json.loads(r.stdout)["genre"]
    heavy = (
        "onnxruntime",
        "scipy",
        "sklearn",
        "librosa",
        "numba",
        "explorer.analysis.pipeline",
        "explorer.analysis.structure",
        "explorer.genre.features",
    )
    probe = (
        "import sys; from explorer.cli.main import main; "
        "rc = main(['genre', 'predict', '--json', '--', sys.argv[1]]);"
        f"loaded = [m for m in {heavy!r} if m in sys.modules]; print(loaded or 'NO-ORT'); sys.exit(rc)"
    )
    r = subprocess.run(
        [sys.executable, "-c", probe, str(song)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
    )
    assert r.returncode == 0, r.stderr
    line, marker = r.stdout.strip().splitlines()
    assert marker == "NO-ORT"
    doc = json.loads(line)
    assert doc["label"] == genre["label"]
    # the same probabilities (each side rounds for its own output: the last digit may differ)
    assert doc["probabilities"] == pytest.approx(genre["probabilities"], abs=2e-4)


@pytest.mark.skipif(not shutil.which("unshare"), reason="needs util-linux's unshare")
def test_analyze_on_a_really_read_only_mount(song, tmp_path):
    """The same on package folders mounted read-only (a user namespace; skipped where the kernel refuses one)."""
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("user namespaces are not available here")
    mounts = " && ".join(f"mount --bind -o ro '{p}' '{p}'" for p in _package_folders() if os.path.isdir(p))
    cache = tmp_path / "cache"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    env.update(HOME="/nonexistent", XDG_CACHE_HOME=str(cache), PYTHONDONTWRITEBYTECODE="1")
    script = (
        f"{mounts} && exec '{sys.executable}' -c 'import sys; from explorer.cli.main import main; "
        f"rc = main(sys.argv[1:]);"
        f" assert \"numba\" not in sys.modules; sys.exit(rc)' analyze -- '{song}'"
    )
    r = subprocess.run(
        ["unshare", "-rm", "sh", "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["sections"]
