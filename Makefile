SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
# Test processes (pytest-xdist): each has its own embedded PostgreSQL and browser; the
# suite waits on sockets, timers and browsers more than it computes, so two halve it
# on a 2-core machine. PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= 2
# Where `make run` serves (loopback by default, as the CLI does).
HOST ?= 127.0.0.1
PORT ?= 8000
# The embedded PostgreSQL data dir that `clean` stops and removes (the CLI default).
DATA_DIR := .dispatch112

# ---------------------------------------------------------------------------
# APT_PACKAGES: system packages the tests need, as DEBIAN_PACKAGE:COMMAND pairs.
# A package is installed only when COMMAND is neither on PATH nor in a
# /usr/lib/postgresql/*/bin directory. Add new test dependencies here.
# ---------------------------------------------------------------------------
APT_PACKAGES := postgresql:initdb sip-tester:sipp chromium:chromium chromium-driver:chromedriver

.PHONY: help venv run test test-deps lint clean

help:
	@echo "make venv       create $(VENV) and install the project with its test extras"
	@echo "make run        load the Parepare city pack and demo data, serve"
	@echo "make test       run the test suite (extra pytest args: PYTEST_ARGS=...)"
	@echo "make test-deps  install missing system packages the tests need (root only)"
	@echo "make lint       ruff check"
	@echo "make clean      stop the embedded PostgreSQL, remove $(VENV) and $(DATA_DIR)"

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/pip install -e '.[test]'
	touch $@

# The demo loads the city pack shipped in the package (dispatch/cities/parepare): the
# kecamatan and kelurahan on the map, the gazetteer's kelurahan and health facilities;
# and, the first time, 90 days of made-up past so that the reports have data.
run: venv
	$(BIN)/dispatch112 demo --history 90
	$(BIN)/dispatch112 serve --host $(HOST) --port $(PORT)

test: venv test-deps
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# Idempotent and quick when everything is present: one `command -v` per package.
test-deps:
	@have() { command -v "$$1" >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/$$1" >/dev/null; }; \
	missing=(); \
	for spec in $(APT_PACKAGES); do \
	  have "$${spec#*:}" || missing+=("$${spec%%:*}"); \
	done; \
	if [ $${#missing[@]} -eq 0 ]; then exit 0; fi; \
	if [ "$$(id -u)" -ne 0 ]; then \
	  echo "test-deps: missing system packages: $${missing[*]}" >&2; \
	  echo "test-deps: install them as root: apt-get install $${missing[*]}" >&2; \
	  echo "test-deps: (without them the tests that need them fail or are skipped)" >&2; \
	  exit 0; \
	fi; \
	echo "test-deps: installing $${missing[*]}"; \
	export DEBIAN_FRONTEND=noninteractive; \
	log=$$(mktemp); \
	if ! { apt-get update -qq && \
	       apt-get install -y -qq --no-install-recommends "$${missing[@]}"; } </dev/null >"$$log" 2>&1; then \
	  tail -n 40 "$$log" >&2; rm -f "$$log"; echo "test-deps: apt-get failed" >&2; exit 1; \
	fi; \
	rm -f "$$log"; echo "test-deps: installed $${missing[*]}"

lint: venv
	$(BIN)/ruff check .

# The venv's python can see a pip-installed server package; db.embedded is stdlib-only, so
# the system python will do when the venv is gone.
clean:
	@if [ -d "$(DATA_DIR)/pgdata" ]; then \
	  py=$(PYTHON); [ -x $(BIN)/python ] && py=$(BIN)/python; \
	  $$py -m db.embedded stop --data-dir "$(DATA_DIR)" || true; \
	fi
	rm -rf $(VENV) $(DATA_DIR)
