"""Every stoat command run before `migrate` says so in one line, not with a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import OperationalError, ProgrammingError

from stoat.core.commands import missing_schema
from stoat.settings import BASE_DIR

HINT = "run `python manage.py migrate` first"


@pytest.mark.parametrize(
    "args",
    [
        ("scan", "{videos}"),
        ("scan", "{videos}", "--queue"),
        ("jobs",),
        ("cancel", "1"),
        ("library", "list"),
        ("token", "list", "nobody"),
        ("fingerprint",),
        ("watch",),
    ],
    ids=lambda args: " ".join(args[:2]),
)
def test_a_command_on_a_database_never_migrated_says_to_migrate(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    videos = tmp_path / "videos"
    videos.mkdir()
    # A fresh SQLite database, whatever database this test run uses.
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "STOAT_BROKER_URL"}}
    env.update(STOAT_DATA_DIR=str(tmp_path / "data"), DJANGO_SETTINGS_MODULE="stoat.settings")
    done = subprocess.run(
        [sys.executable, str(BASE_DIR / "manage.py"), *(a.format(videos=videos) for a in args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 1, done.stderr
    assert HINT in done.stderr
    assert "Traceback" not in done.stderr


class FakePostgresError(Exception):
    def __init__(self, pgcode: str) -> None:
        super().__init__("relation does not exist")
        self.pgcode = pgcode


def test_postgresql_missing_tables_and_columns_are_told_apart_from_other_errors() -> None:
    for code, expected in (("42P01", True), ("42703", True), ("40001", False)):
        error = ProgrammingError("relation does not exist")
        error.__cause__ = FakePostgresError(code)
        assert missing_schema(error) is expected, code
    assert missing_schema(OperationalError("no such table: scans_job"))
    assert not missing_schema(OperationalError("database is locked"))
