# make run          - install what is missing, then open Music Explorer on the bundled demo songs
# make check        - the static checks: ruff (lint and format), mypy, the import contracts
# make test         - install what is missing, then make check and every test (what CI runs)
# make test-fast    - the unit tests (without the slow ones) and one window test: the quick loop
# make test PYTHON=python3.13 - the same on another Python, in its own .venv-3.13 (the default .venv stays)
# make bundle       - the PyInstaller one-folder bundle in dist/music-explorer/
# make test-bundle  - build the bundle, then check its CLI and its window (run before a release)
.PHONY: setup run check test test-fast bench bundle test-bundle clean

# The virtual environment: .venv for the default python3, .venv-X.Y for PYTHON=pythonX.Y.
VENV := $(if $(PYTHON),.venv-$(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null),.venv)
export VENV

setup:
	@bash scripts/setup.sh

run: setup
	$(VENV)/bin/music-explorer resources/demo

# Every check runs, even after one failed, so that one run lists all findings.
check: setup
	@status=0; \
	$(VENV)/bin/ruff check . || status=1; \
	$(VENV)/bin/ruff format --check . || status=1; \
	$(VENV)/bin/mypy || status=1; \
	$(VENV)/bin/lint-imports || status=1; \
	exit $$status

test: setup check
	@bash scripts/test.sh

# One window test beside the unit tests: the window opens a song, draws it and analyses it in its helper.
SMOKE_TEST := tests/ui/test_window_open.py::test_open_draws_the_whole_song

test-fast: setup
	@bash scripts/test.sh -q -m "not slow" tests/unit $(SMOKE_TEST)

bench: setup
	$(VENV)/bin/python benchmarks/run_all.py

bundle: setup
	$(VENV)/bin/python -m pip install -q -e '.[packaging]'
	$(VENV)/bin/pyinstaller --noconfirm --clean --distpath dist --workpath build packaging/music-explorer.spec

test-bundle: bundle
	$(VENV)/bin/python scripts/test_bundle.py dist/music-explorer/music-explorer

clean:
	rm -rf build dist .pytest_cache
