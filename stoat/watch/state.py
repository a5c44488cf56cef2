"""The watch state of a library in words, as the page, the API and `library list` show it."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from stoat.library.models import Library, WatchMode
from stoat.watch.models import Mode, WatchLease


def live_lease(library: Library) -> WatchLease | None:
    """The library's lease when a watcher holds it and beat within the lease time."""
    try:
        lease = library.lease
    except WatchLease.DoesNotExist:
        return None
    fresh = timezone.now() - timedelta(seconds=settings.STOAT_WATCH_LEASE)
    if not lease.holder or lease.heartbeat_at is None or lease.heartbeat_at < fresh:
        return None
    return lease


def describe_watch(library: Library) -> str:
    if library.watch == WatchMode.OFF:
        return "not watching (watch mode off)"
    lease = live_lease(library)
    if lease is None:
        return "not watching: no watcher is running (start `manage.py watch` or `manage.py serve`)"
    if lease.mode == Mode.EVENTS:
        return "watching (file-system events)"
    if lease.mode == Mode.POLL:
        text = f"watching by polling every {library.poll_seconds} s"
        return f"{text}; {lease.reason}" if lease.reason else text
    return f"not watching: {lease.reason or 'starting'}"
