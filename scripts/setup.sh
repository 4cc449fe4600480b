#!/usr/bin/env bash
# Install everything Music Explorer needs to run and to be tested, then return quickly on later calls.
#   system packages (Debian/Ubuntu): installed with apt-get when run as root, otherwise named in a message;
#   Python packages: into .venv inside the repository, reinstalled only when pyproject.toml changes.
# PYTHON=python3.13 sets the interpreter; a venv then lives in VENV (the Makefile passes .venv-3.13), so that
# the suite can run on each supported Python without replacing the default .venv.
set -euo pipefail
cd "$(dirname "$0")/.."

# What each package is for:
#   ffmpeg                      decoding every format; ffprobe
#   gcc python3-dev             building simpleaudio-patched (it ships as source only)
#   libasound2-dev              ALSA headers for simpleaudio; alsa-utils for aplay diagnostics
#   python3-venv                the virtual environment
#   libegl1 … libdbus-1-3       Qt's xcb and offscreen platform plugins
#   xvfb xauth                  screenshot tests on a virtual screen
#   fluidsynth fluid-soundfont-gm  rendering MIDI test songs
PKGS=(ffmpeg gcc libc6-dev python3-dev python3-venv libasound2-dev alsa-utils
      libegl1 libgl1 libglib2.0-0 libfontconfig1 libfreetype6 libdbus-1-3 libxkbcommon0 libxkbcommon-x11-0
      libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0
      libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxcb-xfixes0 libx11-xcb1 libxrender1 libxi6
      xvfb xauth fluidsynth fluid-soundfont-gm fonts-dejavu-core)

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
else
  command -v ffmpeg >/dev/null || missing+=(ffmpeg)
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing system packages: ${missing[*]}" >&2
    echo "setup: install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

PY=${PYTHON:-python3}
VENV=${VENV:-.venv}
if ! command -v "$PY" >/dev/null 2>&1; then
  echo "setup: $PY is not installed" >&2
  exit 1
fi
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "setup: Python 3.11 or newer is needed ($PY is $("$PY" --version 2>&1))" >&2
  exit 1
fi
if ! "$PY" -c 'import sys; sys.exit(sys.version_info[:2] > (3, 13))'; then
  echo "setup: warning: $("$PY" --version 2>&1) is newer than the versions tested (3.11 to 3.13)" >&2
fi
if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating $VENV with $("$PY" --version 2>&1)"
  "$PY" -m venv "$VENV"
fi
stamp=$VENV/.stamp-$(sha1sum pyproject.toml | cut -c1-12)
if [ ! -f "$stamp" ]; then
  echo "setup: installing Python packages into $VENV (a few minutes the first time)"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  # setuptools warns on every editable install that a folder named like the package may shadow it: that
  # folder is this checkout, so the warning says nothing to a user installing it
  PYTHONWARNINGS="ignore:Editable installation" "$VENV/bin/python" -m pip install -q -e '.[dev]'
  rm -f "$VENV"/.stamp-*
  touch "$stamp"
fi
