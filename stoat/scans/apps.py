from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ScansConfig(AppConfig):
    name = "stoat.scans"
    label = "scans"
    verbose_name = "Scans"

    def ready(self) -> None:
        # Every deployment migrates before it starts a worker: the reaper's schedule is made then.
        from stoat.scans.tasks import schedule_reaper

        post_migrate.connect(schedule_reaper, sender=self)
