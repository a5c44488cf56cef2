from __future__ import annotations

from django.db import models
from django.utils import timezone

from stoat.library.models import Library


class Mode(models.TextChoices):
    EVENTS = "events", "file-system events"
    POLL = "poll", "polling"
    FAILED = "failed", "not watching"


class WatchLease(models.Model):
    """Which watcher process watches a library, proven alive by its heartbeat.

    Taken and renewed by conditional updates, so of several `watch` hosts exactly one watches;
    another takes over once the heartbeat is older than the lease time.
    """

    library = models.OneToOneField(
        Library, on_delete=models.CASCADE, primary_key=True, related_name="lease"
    )
    # "host:pid" of the watcher holding it; empty when released.
    holder = models.CharField(max_length=255, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    taken_at = models.DateTimeField(default=timezone.now)
    mode = models.CharField(max_length=8, choices=Mode.choices, blank=True)
    # Why the mode is what it is, in words for the page (a fallback to polling, a failure).
    reason = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.library} watched by {self.holder or 'nobody'}"
