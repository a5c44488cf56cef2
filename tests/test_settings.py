from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.signals import request_finished, request_started
from django.db import connection

from stoat import settings as stoat_settings


def test_a_postgres_url_selects_postgresql_with_the_test_database_named_by_env(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://stoat:secret@db.internal:6543/library")
    monkeypatch.setenv("STOAT_TEST_DB", "test_library_run_42")

    config = stoat_settings.database_config()

    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["NAME"], config["HOST"], config["PORT"]) == ("library", "db.internal", 6543)
    assert config["TEST"] == {"NAME": "test_library_run_42"}
    assert "init_command" not in config.get("OPTIONS", {})


def test_without_a_url_sqlite_runs_in_wal_mode_in_the_data_folder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("STOAT_TEST_DB", raising=False)

    config = stoat_settings.database_config()

    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert "journal_mode=WAL" in config["OPTIONS"]["init_command"]
    assert str(config["TEST"]["NAME"]).endswith("test.sqlite3")


@pytest.mark.django_db
@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="WAL is SQLite's journal mode; PostgreSQL has none"
)
def test_the_sqlite_database_really_is_in_wal_mode() -> None:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"


@pytest.mark.django_db(transaction=True)
def test_a_database_connection_is_kept_from_one_request_to_the_next() -> None:
    # Opening one and setting its pragmas cost as much as the rest of a progress poll.
    request_started.send(sender=None)
    connection.ensure_connection()
    first = connection.connection
    request_finished.send(sender=None)
    request_started.send(sender=None)
    connection.ensure_connection()
    assert connection.connection is first
    request_finished.send(sender=None)


@pytest.mark.parametrize(("given", "expected"), [(None, (os.cpu_count() or 1) + 1), ("5", 5)])
def test_a_qcluster_runs_one_worker_more_than_the_cores_unless_told(
    given: str | None, expected: int
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "STOAT_WORKERS"}
    if given is not None:
        env["STOAT_WORKERS"] = given
    code = "from stoat import settings; print(settings.Q_CLUSTER['workers'])"
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert int(done.stdout) == expected
