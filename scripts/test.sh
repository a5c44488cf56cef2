#!/usr/bin/env bash
# The whole test suite: lint, types, migrations, pytest with coverage, then pytest under Python 3.10.
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

run_pytest() {  # python, label, pytest args...
  local py=$1 label=$2; shift 2
  echo "== pytest: $label (Python $("$py" -c 'import platform; print(platform.python_version())'))"
  STOAT_DATA_DIR=$(mktemp -d -t stoat-test-XXXX) "$py" -m pytest -p no:cacheprovider "$@"
}

echo "== browser setup"; PY="$PY" bash scripts/browser-setup.sh
run_pytest "$PY" "SQLite + ORM broker, with coverage" --cov --cov-report=term "$@"

# The oldest Python stoat supports gets the suite too, in a venv of its own.
PY310=""
for candidate in python3.10 /root/.pyenv/versions/3.10*/bin/python3.10 /usr/bin/python3.10; do
  if "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
    PY310=$candidate; break
  fi
done
if [ -z "$PY310" ]; then
  echo "Python 3.10 was not found: install it (pyenv or your distribution) to prove 3.10 support." >&2
  exit 1
fi
if [ ! -x .venv310/bin/python ] || [ pyproject.toml -nt .venv310/.installed ]; then
  "$PY310" -m venv .venv310
  .venv310/bin/python -m pip install --quiet --upgrade pip
  .venv310/bin/python -m pip install --quiet -e ".[dev]"
  touch .venv310/.installed
fi
run_pytest .venv310/bin/python "SQLite + ORM broker" -m "not browser" -q
