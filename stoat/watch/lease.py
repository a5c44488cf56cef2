"""One lease row per library: exactly one watcher process watches it, decided by the database."""

from __future__ import annotations

import os
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from stoat.watch.models import WatchLease


def stale_before() -> timedelta:
    return timedelta(seconds=settings.STOAT_WATCH_LEASE)


def dead_here(holder: str, me: str) -> bool:
    """Whether `holder` was a process on this host that no longer exists (a watcher restarted)."""
    host, _, pid = holder.rpartition(":")
    if host != me.rpartition(":")[0] or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def take(library_id: int, holder: str) -> bool:
    """Hold the library's lease: when free, already ours, or its holder stopped beating (or, on
    this host, is gone: a restarted watcher need not wait for the lease time).
    """
    now = timezone.now()
    free = Q(holder="") | Q(holder=holder) | Q(heartbeat_at=None)
    free |= Q(heartbeat_at__lt=now - stale_before())
    current = WatchLease.objects.filter(library_id=library_id).values_list("holder", flat=True)
    previous = current.first()
    if previous is not None:
        if previous and dead_here(previous, holder):
            free |= Q(holder=previous)
        won = WatchLease.objects.filter(free, library_id=library_id).update(
            holder=holder, heartbeat_at=now, taken_at=now, mode="", reason=""
        )
        return won == 1
    try:
        with transaction.atomic():
            WatchLease.objects.create(library_id=library_id, holder=holder, heartbeat_at=now)
    except IntegrityError:
        # Another watcher made the row first (or the library is gone): it is not ours.
        return False
    return True


def renew(library_id: int, holder: str) -> bool:
    """Beat; False when another watcher took the lease over (then this one must stop)."""
    return (
        WatchLease.objects.filter(library_id=library_id, holder=holder).update(
            heartbeat_at=timezone.now()
        )
        == 1
    )


def report(library_id: int, holder: str, mode: str, reason: str = "") -> bool:
    """Say how the library is watched now, for the page; only while the lease is ours."""
    return (
        WatchLease.objects.filter(library_id=library_id, holder=holder).update(
            mode=mode, reason=reason, heartbeat_at=timezone.now()
        )
        == 1
    )


def release(library_id: int, holder: str) -> None:
    WatchLease.objects.filter(library_id=library_id, holder=holder).update(
        holder="", heartbeat_at=None, mode="", reason=""
    )
