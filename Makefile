# make run          - install what is missing, then open Music Explorer on the bundled demo songs
# make test         - install what is missing, then run every test (what CI runs)
# make test PYTHON=python3.13 - the same on another Python, in its own .venv-3.13 (the default .venv stays)
# make bundle       - the PyInstaller one-folder bundle in dist/music-explorer/
# make test-bundle  - build the bundle, then check its CLI and its window (run before a release)
.PHONY: setup run test bench bundle test-bundle clean

# The virtual environment: .venv for the default python3, .venv-X.Y for PYTHON=pythonX.Y.
VENV := $(if $(PYTHON),.venv-$(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null),.venv)
export VENV

setup:
	@bash scripts/setup.sh

run: setup
	$(VENV)/bin/music-explorer resources/demo

test: setup
	@bash scripts/test.sh

bench: setup
	$(VENV)/bin/python benchmarks/run_all.py

bundle: setup
	$(VENV)/bin/python -m pip install -q -e '.[packaging]'
	$(VENV)/bin/pyinstaller --noconfirm --clean --distpath dist --workpath build packaging/music-explorer.spec

test-bundle: bundle
	$(VENV)/bin/python scripts/test_bundle.py dist/music-explorer/music-explorer

clean:
	rm -rf build dist .pytest_cache
