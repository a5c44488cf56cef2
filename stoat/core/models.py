from __future__ import annotations

from django.db import models


class WorkerCheckin(models.Model):
    """When a scan worker on a host last showed it was alive: /healthz reports its age."""

    host = models.CharField(max_length=255, unique=True)
    checked_in_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.host} at {self.checked_in_at:%Y-%m-%d %H:%M:%S}"
