# flametop: every target creates .venv and installs from scratch when needed.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: venv tools demo test lint bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

# Real consumers of our exports (go tool pprof, speedscope's schema, headless Chromium).
tools:
	bash tests/install_tools.sh

demo: venv
	$(BIN)/flametop demo

lint: venv
	$(BIN)/ruff check samplers tui tests bench
	$(BIN)/ruff format --check samplers tui tests bench
	$(BIN)/mypy samplers

test: venv tools lint
	$(BIN)/python -m pytest -q

bench: venv
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache
