# make run   - install what is missing, then open Music Explorer on the bundled demo songs
# make test  - install what is missing, then run every test (what CI runs)
.PHONY: setup run test bench bundle clean

setup:
	@bash scripts/setup.sh

run: setup
	.venv/bin/music-explorer resources/demo

test: setup
	@bash scripts/test.sh

bench: setup
	.venv/bin/python benchmarks/run_all.py

bundle: setup
	.venv/bin/python -m pip install -q -e '.[packaging]'
	.venv/bin/pyinstaller --noconfirm --clean --distpath dist --workpath build packaging/music-explorer.spec

clean:
	rm -rf build dist .pytest_cache
