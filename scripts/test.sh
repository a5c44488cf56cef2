#!/usr/bin/env bash
# The whole test suite: lint, types, migrations, then pytest twice — on SQLite + the ORM broker
# (with the coverage floor) and on PostgreSQL + Redis (the several-hosts configuration).
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

PG_HOST=${STOAT_TEST_PG_HOST:-127.0.0.1}
REDIS_HOST=${STOAT_TEST_REDIS_HOST:-127.0.0.1}

# Both services are expected on this kind of machine; start whichever is not running.
start_services() {
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
}

export STOAT_DATA_DIR=${STOAT_DATA_DIR:-$(mktemp -d -t stoat-test-XXXX)}
echo "== pytest (Python $("$PY" -c 'import platform; print(platform.python_version())'), SQLite + ORM broker)"
# Both configurations run even when the first fails, so one run shows everything that is broken.
sqlite_status=0
"$PY" -m pytest --cov --cov-report=term -p no:cacheprovider "$@" || sqlite_status=$?

start_services
# Other runs (helpers, CI) share both servers: this run's database, Redis db and queue are its own.
RUN_ID="$(date +%s)_$$_${RANDOM}"
REDIS_DB=$(( (RANDOM % 15) + 1 ))
export DATABASE_URL="postgres://postgres@${PG_HOST}:5432/stoat_${RUN_ID}"
export STOAT_TEST_DB="test_stoat_${RUN_ID}"
export STOAT_BROKER_URL="redis://${REDIS_HOST}:6379/${REDIS_DB}"
export STOAT_QUEUE_NAME="stoat-test-${RUN_ID}"
export STOAT_DATA_DIR=$(mktemp -d -t stoat-test-pg-XXXX)
cleanup() {
    psql -q -h "$PG_HOST" -U postgres -d postgres \
        -c "DROP DATABASE IF EXISTS \"${STOAT_TEST_DB}\" WITH (FORCE)" >/dev/null 2>&1 || true
    redis-cli -h "$REDIS_HOST" -n "$REDIS_DB" --scan --pattern "django_q:${STOAT_QUEUE_NAME}:*" \
        | xargs -r redis-cli -h "$REDIS_HOST" -n "$REDIS_DB" del >/dev/null 2>&1 || true
}
trap cleanup EXIT
echo "== pytest (PostgreSQL $STOAT_TEST_DB + Redis db $REDIS_DB, queue $STOAT_QUEUE_NAME)"
postgres_status=0
"$PY" -m pytest --no-cov -p no:cacheprovider "$@" || postgres_status=$?
echo "== pytest exit status: SQLite + ORM $sqlite_status, PostgreSQL + Redis $postgres_status"
[ "$sqlite_status" = 0 ] && [ "$postgres_status" = 0 ]
