#!/usr/bin/env bash
# The whole test suite: lint, types, migrations, pytest with coverage, then the suite under Python 3.10.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
BIN=$(dirname "$PY")

echo "== ruff check"; "$BIN/ruff" check .
echo "== ruff format --check"; "$BIN/ruff" format --check .
echo "== mypy"; "$BIN/mypy" stoat tests benchmarks
echo "== makemigrations --check"
STOAT_DATA_DIR=$(mktemp -d) "$PY" manage.py makemigrations --check --dry-run
[ "${1:-}" = "--checks-only" ] && exit 0

export STOAT_DATA_DIR=${STOAT_DATA_DIR:-$(mktemp -d -t stoat-test-XXXX)}
echo "== pytest (Python $("$PY" -c 'import platform; print(platform.python_version())'), SQLite + ORM broker)"
"$PY" -m pytest --cov --cov-report=term -p no:cacheprovider "$@"
