"""Scan workers check in every STOAT_CHECKIN_INTERVAL seconds, even while busy with a long scan."""

from __future__ import annotations

import multiprocessing
import threading
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Max
from django.utils import timezone

from stoat.core.models import WorkerCheckin

_started = threading.Event()


def check_in(host: str | None = None) -> None:
    host = host or settings.STOAT_WORKER_NAME
    now = timezone.now()
    if not WorkerCheckin.objects.filter(host=host).update(checked_in_at=now):
        # First check-in of this host: get_or_create copes with a worker beside it doing the same.
        WorkerCheckin.objects.get_or_create(host=host, defaults={"checked_in_at": now})


def last_checkin() -> datetime | None:
    latest: datetime | None = WorkerCheckin.objects.aggregate(latest=Max("checked_in_at"))["latest"]
    return latest


def is_recent(moment: datetime | None) -> bool:
    """Recent enough that a worker is alive: within three check-in intervals."""
    limit = timedelta(seconds=3 * settings.STOAT_CHECKIN_INTERVAL)
    return moment is not None and timezone.now() - moment <= limit


def keep_checking_in(stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            check_in()
        except DatabaseError:
            pass  # the next check-in tries again; /healthz shows the gap meanwhile
        finally:
            # One short connection every interval rather than one more held open per worker.
            connection.close()
        stop.wait(settings.STOAT_CHECKIN_INTERVAL)


def start_checking_in(sender: Any = None, **kwargs: Any) -> None:
    """django-q2's `post_spawn`: each worker process checks in from a thread of its own.

    Sync mode (tests) sends the signal in the calling process, which is not a worker.
    """
    if multiprocessing.parent_process() is None or _started.is_set():
        return
    _started.set()
    thread = threading.Thread(
        target=keep_checking_in, args=(threading.Event(),), name="stoat-checkin", daemon=True
    )
    thread.start()
