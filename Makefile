# stoat's two entry points: `make run` (the app) and `make test` (everything CI checks).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test setup setup-dev check bench bench-configs load

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Reinstall only when the dependency list changed.
$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

setup: $(VENV)/.installed

setup-dev: $(VENV)/.installed-dev

# exec: serve replaces the shell, so the SIGTERM make passes on to its child reaches serve.
run: setup
	$(PY) manage.py migrate --noinput
	exec $(PY) manage.py serve

test: setup-dev
	PY=$(PY) bash scripts/test.sh

check: setup-dev
	PY=$(PY) bash scripts/test.sh --checks-only

bench: setup-dev
	$(PY) -m benchmarks

# The scan benchmarks on SQLite + ORM broker and on PostgreSQL + Redis, side by side.
bench-configs: setup-dev
	$(PY) -m benchmarks.configs

load: setup-dev
	$(PY) -m benchmarks.load
