# flametop: every target creates .venv and installs from scratch when needed.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# The Rust extension native/ (flametop_native, the in-process sampler). Its stamp holds the
# features it was built with ("none" when cargo is missing), so installing cargo or
# libunwind-dev later triggers a build, as does a change to native/'s sources.
NATIVE_STAMP := $(VENV)/.native-stamp
NATIVE_LOG := $(VENV)/native-build.log
NATIVE_DEPS := $(wildcard native/src/*.rs) native/Cargo.toml native/Cargo.lock native/pyproject.toml
# 1: a failed native build fails the target (make test); 0: one line and carry on (make demo).
NATIVE_REQUIRED ?= 0
CARGO := $(shell command -v cargo 2>/dev/null)

# What native/ should be built with here: none (no cargo), extension, or extension,unwind
# (py-spy's `unwind` feature, for --native in-process, needs Debian's libunwind-dev).
define native_features
if ! command -v cargo >/dev/null 2>&1; then echo none; \
elif ls /usr/include/libunwind.h /usr/include/*/libunwind.h >/dev/null 2>&1 \
  || pkg-config --exists libunwind 2>/dev/null; then echo extension,unwind; \
else echo extension; fi
endef

.PHONY: venv native tools demo test test-fast lint bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	# bytecode up front, as a wheel install does: start-up is mostly imports, and an
	# editable install under PYTHONDONTWRITEBYTECODE would compile every module each run
	$(BIN)/python -m compileall -q samplers tui
	touch $(STAMP)

# Forget the native stamp when the features it was built with are not what this machine
# supports now (cargo or libunwind-dev installed or removed since), then build if out of date.
native: $(STAMP)
	@want=$$($(native_features)); \
	if [ -f $(NATIVE_STAMP) ] && [ "$$(cat $(NATIVE_STAMP))" != "$$want" ]; then rm -f $(NATIVE_STAMP); fi
	@$(MAKE) --no-print-directory -s $(NATIVE_STAMP) NATIVE_REQUIRED=$(NATIVE_REQUIRED)

$(NATIVE_STAMP): $(STAMP) $(NATIVE_DEPS)
	@want=$$($(native_features)); \
	if [ "$$want" = none ]; then \
	  echo "cargo not found: flametop will sample with the py-spy CLI backend (install Rust to build native/)"; \
	  echo none > $@; exit 0; \
	fi; \
	if [ "$$want" = extension ]; then \
	  echo "libunwind-dev not found: native/ built without 'unwind'; --native will use the py-spy CLI backend"; \
	fi; \
	echo "building native/ (flametop_native, -F $$want; log: $(NATIVE_LOG))"; \
	if VIRTUAL_ENV=$(CURDIR)/$(VENV) $(BIN)/maturin develop --release -m native/Cargo.toml -F $$want \
	    >$(NATIVE_LOG) 2>&1; then \
	  echo "$$want" > $@; \
	else \
	  echo "native/ build failed (see $(NATIVE_LOG)): flametop will sample with the py-spy CLI backend"; \
	  if [ "$(NATIVE_REQUIRED)" = 1 ]; then tail -n 30 $(NATIVE_LOG); exit 1; fi; \
	fi

venv: $(STAMP) native

# Real consumers of our exports (go tool pprof, headless Chromium), tmux, libunwind-dev (apt).
tools:
	bash tests/install_tools.sh

demo: venv
	$(BIN)/flametop demo

lint: $(STAMP)
	$(BIN)/ruff check samplers tui tests bench
	$(BIN)/ruff format --check samplers tui tests bench
	$(BIN)/mypy samplers tui
ifneq ($(CARGO),)
	cd native && cargo fmt --check
	cd native && cargo clippy --release -F extension -- -D warnings
endif

# tools first: the native build's `unwind` feature needs libunwind-dev from apt.
test:
	@$(MAKE) --no-print-directory tools
	@$(MAKE) --no-print-directory native NATIVE_REQUIRED=1
	@$(MAKE) --no-print-directory lint
ifneq ($(CARGO),)
	# the features of the extension's build (less pyo3), so py-spy's build is reused
	cd native && if ls /usr/include/libunwind.h /usr/include/*/libunwind.h >/dev/null 2>&1; \
	  then cargo test --release -F unwind; else cargo test --release; fi
endif
	$(BIN)/python -m pytest -q

test-fast: venv
	$(BIN)/python -m pytest -q -m "not slow"

bench: native
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache
