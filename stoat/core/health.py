"""Whether the services stoat needs answer: the database and the task broker."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import DatabaseError, connection

from stoat.scans.tasks import broker_name, queued_tasks


@dataclass(frozen=True)
class Check:
    reachable: bool
    detail: str


def check_database() -> Check:
    """One round trip to the database, on the connection this process already holds."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        return Check(False, f"{type(error).__name__}: {error}".strip())
    return Check(True, connection.vendor)


def check_broker() -> Check:
    """Ask the broker how many tasks wait: that needs a working connection with either broker."""
    try:
        waiting = queued_tasks()
    except Exception as error:  # each broker client raises its own connection errors
        return Check(False, f"{type(error).__name__}: {error}".strip())
    return Check(True, f"{broker_name()}, {waiting} task(s) queued")
