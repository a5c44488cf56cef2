#!/usr/bin/env bash
# The whole test suite: lint, types, migrations, then pytest on SQLite + the ORM broker (with the
# coverage floor), under Python 3.10, and on PostgreSQL + Redis (the several-hosts configuration).
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
# Every configuration runs even when one fails, so one run shows everything that is broken.
failed=()

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
LOGS=$(mktemp -d -t stoat-test-logs-XXXX)
# Built while the first pass runs: pip mostly waits on the network and the disk.
(
  if [ ! -x .venv310/bin/python ] || [ pyproject.toml -nt .venv310/.installed ]; then
    "$PY310" -m venv .venv310
    .venv310/bin/python -m pip install --quiet --upgrade pip
    .venv310/bin/python -m pip install --quiet -e ".[dev]"
    touch .venv310/.installed
  fi
) >"$LOGS/venv310.log" 2>&1 &
VENV310=$!

echo "== browser setup"; PY="$PY" bash scripts/browser-setup.sh
run_pytest "$PY" "SQLite + ORM broker, with coverage" --cov --cov-report=term "$@" \
  || failed+=("SQLite + ORM")

if ! wait "$VENV310"; then
  cat "$LOGS/venv310.log" >&2
  echo "== the Python 3.10 venv could not be built" >&2
  exit 1
fi

# PostgreSQL and Redis are expected on this kind of machine; start whichever is not running.
PG_HOST=${STOAT_TEST_PG_HOST:-127.0.0.1}
REDIS_HOST=${STOAT_TEST_REDIS_HOST:-127.0.0.1}
if ! pg_isready -q -h "$PG_HOST" -p 5432; then
  echo "== starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
  for _ in $(seq 50); do pg_isready -q -h "$PG_HOST" -p 5432 && break; sleep 0.2; done
fi
if ! redis-cli -h "$REDIS_HOST" -p 6379 ping >/dev/null 2>&1; then
  echo "== starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 50); do redis-cli -h "$REDIS_HOST" ping >/dev/null 2>&1 && break; sleep 0.2; done
fi

# Other runs (helpers, CI) share both servers: this run's database, Redis db and queue are its own.
RUN_ID="$(date +%s)_$$_${RANDOM}"
REDIS_DB=$(( (RANDOM % 15) + 1 ))
STOAT_TEST_DB="test_stoat_${RUN_ID}"
STOAT_QUEUE_NAME="stoat-test-${RUN_ID}"
cleanup() {  # what an interrupted run would leave behind
  psql -q -h "$PG_HOST" -U postgres -d postgres \
    -c "DROP DATABASE IF EXISTS \"${STOAT_TEST_DB}\" WITH (FORCE)" >/dev/null 2>&1 || true
  redis-cli -h "$REDIS_HOST" -n "$REDIS_DB" --scan --pattern "django_q:${STOAT_QUEUE_NAME}:*" \
    | xargs -r redis-cli -h "$REDIS_HOST" -n "$REDIS_DB" del >/dev/null 2>&1 || true
}
trap cleanup EXIT

# The last two passes side by side: the suite mostly waits on the workers and servers it starts
# (a whole run keeps about a third of two cores busy), so together they take little more than
# the longer one. Each writes its own log, shown when it ends.
run_pytest .venv310/bin/python "SQLite + ORM broker" -m "not browser" -q \
  >"$LOGS/py310.log" 2>&1 &
PASS310=$!
# The browser journeys start their own server on its own SQLite, so they ran in the first pass.
(
  export DATABASE_URL="postgres://postgres@${PG_HOST}:5432/stoat_${RUN_ID}"
  export STOAT_TEST_DB STOAT_QUEUE_NAME
  export STOAT_BROKER_URL="redis://${REDIS_HOST}:6379/${REDIS_DB}"
  run_pytest "$PY" "PostgreSQL + Redis (db $REDIS_DB, queue $STOAT_QUEUE_NAME)" --no-cov -q \
    -m "not browser" "$@"
) >"$LOGS/postgres.log" 2>&1 &
PASSPG=$!
wait "$PASS310" || failed+=("Python 3.10")
cat "$LOGS/py310.log"
wait "$PASSPG" || failed+=("PostgreSQL + Redis")
cat "$LOGS/postgres.log"

if [ ${#failed[@]} -gt 0 ]; then
  echo "== pytest failed on: ${failed[*]}" >&2
  exit 1
fi
