"""Whether the services stoat needs answer (the database, the broker) and a worker is alive."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import DatabaseError, connection
from django.utils import timezone

from stoat.core.checkin import is_recent, last_checkin
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


def check_worker() -> Check:
    """Whether a scan worker checked in recently (stoat/core/checkin.py)."""
    try:
        latest = last_checkin()
    except DatabaseError as error:
        return Check(False, f"{type(error).__name__}: {error}".strip())
    if latest is None:
        return Check(False, "no worker has checked in")
    seconds = (timezone.now() - latest).total_seconds()
    return Check(is_recent(latest), f"last check-in {seconds:.0f} s ago")
