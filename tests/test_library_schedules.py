"""Library schedules fired by a real django-q2 cluster."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule, Task

from stoat.scans.models import Job, Origin, Status
from stoat.scans.tasks import library_schedule_name
from tests.libraries import add_library
from tests.media import make_clip
from tests.worker import qcluster, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def test_due_schedules_scan_an_idle_library_and_add_nothing_to_a_busy_one(
    client: Client, library_dir: Path, data_dir: Path
) -> None:
    make_clip(library_dir / "idle" / "a.mp4")
    idle = add_library(library_dir / "idle", name="Idle", every="1m")
    busy = add_library(library_dir / "busy", name="Busy", every="1m")
    running = Job.objects.create(
        path=busy.path, library=busy, status=Status.RUNNING, heartbeat_at=timezone.now()
    )
    names = [library_schedule_name(library.pk) for library in (idle, busy)]
    # Both are due; the idle one missed ten hours of runs, as after a night switched off.
    Schedule.objects.filter(name__in=names).update(next_run=timezone.now())
    Schedule.objects.filter(name=names[0]).update(next_run=timezone.now() - timedelta(hours=10))

    with qcluster(data_dir, STOAT_HEARTBEAT_STALE="600"):
        wait_for(
            lambda: Task.objects.filter(group__in=names).count() == 2, 90, "both schedules to fire"
        )
        wait_for(
            lambda: Job.objects.filter(library=idle, status=Status.COMPLETE).exists(),
            30,
            "the scheduled scan to complete",
        )

    scheduled = Job.objects.get(library=idle)
    assert (scheduled.origin, scheduled.new) == (Origin.SCHEDULE, 1)
    assert list(Job.objects.filter(library=busy)) == [running]
    busy_task = Task.objects.get(group=library_schedule_name(busy.pk))
    assert "is already active; none added" in str(busy_task.result)
    # catch_up is off: one scan, and the next run is in the future, not 600 missed ones.
    for schedule in Schedule.objects.filter(name__in=names):
        assert schedule.next_run > timezone.now()
    page = client.get(reverse("scans:jobs")).content.decode()
    assert reverse("scans:job", args=[scheduled.pk]) in page and "on schedule" in page
