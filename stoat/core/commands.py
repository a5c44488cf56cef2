"""The base of stoat's management commands: a database that was never migrated is one clear
line, not a traceback."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
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


def whole_number(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number from `low` to `high`, else a message naming the range."""

    def read(text: str) -> int:
        try:
            number = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if number < low or (high is not None and number > high):
            limits = f"from {low} to {high}" if high is not None else f"{low} or more"
            raise argparse.ArgumentTypeError(f"{number} is out of range: give {limits}")
        return number

    return read


def most_processes() -> int:
    """Reader processes a foreground scan may start: each holds a decoder, so a few per core."""
    return 4 * (os.cpu_count() or 1)
