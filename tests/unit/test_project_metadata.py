"""Issue 15.15: a first install prints only what matters (no setuptools deprecation warnings)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_license_is_an_spdx_string_and_the_build_backend_knows_it():
    doc = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    # a TOML table ({ text = "MIT" }) makes setuptools print ~50 lines of deprecation warnings per install
    assert doc["project"]["license"] == "MIT"
    (setuptools,) = [r for r in doc["build-system"]["requires"] if r.startswith("setuptools")]
    assert int(re.search(r">=\s*(\d+)", setuptools).group(1)) >= 77  # SPDX strings from setuptools 77 on
    assert not any("License ::" in c for c in doc["project"].get("classifiers", ()))  # (refused with SPDX)


def test_every_dependency_has_a_tested_range_with_an_upper_bound():
    doc = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    requirements = doc["project"]["dependencies"] + [
        r for extra in doc["project"]["optional-dependencies"].values() for r in extra
    ]
    unbounded = [r for r in requirements if not (">=" in r and "<" in r.replace("<=", "<"))]
    assert not unbounded, f"no tested range (>=lower,<upper): {unbounded}"


def test_the_console_script_is_the_entry_module():
    doc = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    # the entry module may open the window; the headless CLI (explorer.cli) never imports Qt
    assert doc["project"]["scripts"] == {"music-explorer": "explorer.__main__:main"}
