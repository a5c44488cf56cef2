from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate

REAPER_SCHEDULE = "stoat: end scans whose worker was lost"


def schedule_reaper(**kwargs: Any) -> None:
    """Create (or correct) the django-q2 schedule that runs the reaper every minute.

    Run after `migrate`, which every deployment runs before starting a worker, so the schedule
    exists once per database however many workers start; update_or_create keeps it idempotent.
    """
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name=REAPER_SCHEDULE,
        defaults={
            "func": "stoat.scans.tasks.reap_lost_jobs",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )


class ScansConfig(AppConfig):
    name = "stoat.scans"
    label = "scans"
    verbose_name = "Scans"

    def ready(self) -> None:
        post_migrate.connect(schedule_reaper, sender=self)
