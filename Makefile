# Everything a fresh machine needs is made here: only Python 3.11+ and make are assumed.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test install sandbox screenshots bench bench-smoke clean

run: install
	$(BIN)/bonjoro-tui

# The layer contracts and the types first ([tool.importlinter], [tool.mypy] in pyproject.toml),
# then the tests. lint-imports takes ~0.2 s; mypy ~6 s on a clean clone, ~0.3 s once its cache
# (.mypy_cache) is there. tests/test_architecture.py runs both again, for pytest alone.
# On every core (pytest-xdist). Suites that must see each other's tests in one process are
# pinned to one worker by an xdist_group (tests/adversarial: the secrets scan reads what the
# suite before it produced; tests/interop: one Django server). PYTEST_WORKERS=0 runs serially.
PYTEST_WORKERS ?= auto
test: install
	$(BIN)/lint-imports
	$(BIN)/mypy bonjoro_tui
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

install: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	# pip compiles what it installs but not an editable project: compile ours too, so that a
	# start-up does not compile every module from source (PYTHONDONTWRITEBYTECODE may be set).
	$(BIN)/python -m compileall -q bonjoro_tui
	touch $(STAMP)

sandbox: install
	$(BIN)/bonjoro-tui sandbox

# SVGs of each screen at 120x36, driven against the sandbox with a fixed clock (see scripts/screenshots.py).
screenshots: install
	$(BIN)/python scripts/screenshots.py

# Benchmarks against Textual's and httpx's own floor, side by side (docs/PERFORMANCE.md); about 5–6 minutes
# (tmux for the real-terminal rows; without it they say "skipped: no tmux").
# BENCH_QUICK=1 (or make bench-smoke) runs a few repetitions only, to check it still works.
bench: install
	$(BIN)/python -m bench

bench-smoke: install
	BENCH_QUICK=1 $(BIN)/python -m bench

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .import_linter_cache .mypy_cache
