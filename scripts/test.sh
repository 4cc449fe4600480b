#!/usr/bin/env bash
# The whole test suite, as CI runs it: the import contracts, then pytest under `python -X dev`
# (faulthandler on) inside a virtual X server, so that the screenshot tests get a real screen
# while every other Qt test runs offscreen.
# VENV names the virtual environment (default .venv; `make test PYTHON=python3.13` passes .venv-3.13).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
"$VENV/bin/lint-imports"
export PYTHONFAULTHANDLER=1
args=("$@")
if command -v xvfb-run >/dev/null 2>&1 && [ -z "${DISPLAY:-}" ]; then
  exec xvfb-run -a -s "-screen 0 1600x1000x24" "$VENV/bin/python" -X dev -m pytest "${args[@]}"
else
  exec "$VENV/bin/python" -X dev -m pytest "${args[@]}"
fi
