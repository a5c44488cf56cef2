"""The base of stoat's management commands: a database that was never migrated is one clear
line, not a traceback."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError, ProgrammingError

from stoat.core.serve import describe_database

# SQLite's words, and PostgreSQL's codes for an undefined table and an undefined column.
MISSING_SCHEMA_WORDS = ("no such table", "no such column")
MISSING_SCHEMA_CODES = ("42P01", "42703")


def missing_schema(error: Exception) -> bool:
    """Whether the database lacks a table or column stoat's migrations make."""
    code = getattr(error.__cause__, "pgcode", None) or getattr(error.__cause__, "sqlstate", None)
    return code in MISSING_SCHEMA_CODES or any(w in str(error) for w in MISSING_SCHEMA_WORDS)


class StoatCommand(BaseCommand):
    def execute(self, *args: Any, **options: Any) -> str | None:
        try:
            return super().execute(*args, **options)
        except (OperationalError, ProgrammingError) as error:
            if not missing_schema(error):
                raise
            raise CommandError(
                f"The database ({describe_database()}) is not ready: "
                "run `python manage.py migrate` first (`make run` does)."
            ) from error
