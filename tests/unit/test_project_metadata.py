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
