"""Fixtures of the robustness tests: the folder of bad files (made once per run) and a way for root to meet
file permissions."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from badfiles import make_cases
from timing import budget


@pytest.fixture(scope="session")
def bad_cases(tmp_path_factory) -> dict:
    """name → :class:`badfiles.Case`, all made in one session folder."""
    return {c.name: c for c in make_cases(tmp_path_factory.mktemp("bad"))}


@pytest.fixture(scope="session")
def run_without_root_powers():
    """``run(args)``: run this Python with ``args`` as root *without* the capabilities that bypass file
    permissions (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), so that a root test run (as in CI) sees a permission
    check as a user would.  Skips when not root: then the caller can test directly."""
    if os.geteuid() != 0:
        pytest.skip("not root: permission checks apply to this user directly")
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv (util-linux) is not installed: cannot drop root's file-permission powers")

    def run(args):
        return subprocess.run(
            [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--", sys.executable, *args],
            capture_output=True,
            text=True,
            timeout=budget(120),
        )

    return run
