"""Fault 1 at the level of the state machine: a silent walk is handed back, once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import LazySettings
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import Schedule
from django_q.scheduler import scheduler

from stoat.library.models import Video
from stoat.scans import batches, lifecycle, tasks
from stoat.scans.models import Job, ScanError, Status
from stoat.scans.tasks import REAPER_SCHEDULE, schedule_reaper
from tests.conftest import make_job
from tests.media import make_clip

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def silent_job(seconds: float = 120, **fields: object) -> Job:
    """A running job whose worker was last heard from `seconds` ago."""
    last = timezone.now() - timedelta(seconds=seconds)
    fields.setdefault("started_at", last)
    return make_job(status=Status.RUNNING, heartbeat_at=last, **fields)


def test_a_walk_whose_worker_went_silent_is_handed_back_to_start_over() -> None:
    lost = silent_job(found=7, processed=7, unchanged=7)
    ScanError.objects.create(job=lost, path="/srv/videos/unlistable", message="permission denied")
    alive = make_job(status=Status.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now())
    last_beat = lost.heartbeat_at

    assert lifecycle.reap_lost() == [lost.pk]
    assert lifecycle.reap_lost() == []

    lost.refresh_from_db()
    alive.refresh_from_db()
    assert (lost.status, lost.worker_losses, lost.worker_lost_at) == (Status.PENDING, 1, last_beat)
    # Nothing was read yet: the walk starts over, so its counts and errors do too.
    assert (lost.found, lost.processed, lost.unchanged, lost.error_count) == (0, 0, 0, 0)
    assert not ScanError.objects.filter(job=lost).exists()
    assert alive.status == Status.RUNNING


def test_a_lost_job_that_was_being_cancelled_ends_cancelled() -> None:
    job = silent_job()
    lifecycle.request_cancel(job.pk)
    assert lifecycle.reap_lost(job.pk) == []
    job.refresh_from_db()
    assert job.status == Status.CANCELLED


def test_a_lost_job_past_the_task_time_limit_ends_as_timeout(settings: LazySettings) -> None:
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": 60}
    late = silent_job(started_at=timezone.now() - timedelta(seconds=90))
    assert lifecycle.reap_lost() == []
    late.refresh_from_db()
    assert late.status == Status.TIMEOUT and "time limit" in late.failure_reason


def test_a_job_without_any_heartbeat_is_judged_by_its_start() -> None:
    never_beat = make_job(status=Status.RUNNING, started_at=timezone.now() - timedelta(hours=1))
    fixture_row = make_job(status=Status.RUNNING)  # neither started nor beating: left alone
    assert lifecycle.reap_lost() == [never_beat.pk]
    assert Job.objects.get(pk=fixture_row.pk).status == Status.RUNNING


def test_a_redelivered_scan_task_runs_a_lost_walk_again_without_duplicates(
    library_dir: Path,
) -> None:
    for index in range(4):
        make_clip(library_dir / f"clip{index}.mp4")
    job = lifecycle.create_scan(str(library_dir)).job
    assert lifecycle.claim(job.pk)
    lifecycle.progress(job.pk, found=3)
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=5))

    assert tasks.run_scan(job.pk) == "resumed; batches 1; job complete"

    job.refresh_from_db()
    assert (job.status, job.found, job.processed, job.new, job.worker_losses) == (
        Status.COMPLETE,
        4,
        4,
        4,
        1,
    )
    assert Video.objects.count() == 4


def test_a_redelivered_task_leaves_a_running_job_with_a_fresh_heartbeat_alone() -> None:
    job = make_job(status=Status.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now())
    assert tasks.run_scan(job.pk).startswith("not claimed")
    assert tasks.run_scan(job.pk + 100).startswith("not claimed")


def test_the_reaper_task_hands_a_lost_walk_to_the_workers(empty_queue: None) -> None:
    job = silent_job()
    assert tasks.reap_lost_jobs() == "handed back 1 lost scan(s) or batch(es)"
    assert tasks.queued_tasks() == 1
    assert Job.objects.get(pk=job.pk).status == Status.PENDING
    assert tasks.reap_lost_jobs() == "handed back 0 lost scan(s) or batch(es)"


def test_a_fanned_out_job_with_batches_queued_behind_other_work_is_never_failed(
    empty_queue: None,
) -> None:
    waiting = silent_job(batches_total=2)
    batches.plan(waiting.pk, [[("/srv/a.mp4", 1, 1, False)], [("/srv/b.mp4", 1, 1, False)]])
    Job.objects.filter(pk=waiting.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=5))

    assert tasks.reap_lost_jobs() == "handed back 1 lost scan(s) or batch(es)"

    waiting.refresh_from_db()
    assert waiting.status == Status.PENDING and waiting.failure_reason == ""
    assert tasks.queued_tasks() == 2  # its batches again, in case their tasks were lost


def test_the_job_page_says_the_job_waits_for_a_worker_and_since_when(client: Client) -> None:
    lost_at = timezone.now() - timedelta(minutes=5)
    job = make_job(status=Status.RUNNING, heartbeat_at=lost_at, started_at=lost_at)
    hh_mm = timezone.localtime(lost_at).strftime("%H:%M")

    response = client.get(f"/jobs/{job.pk}/", headers=HTMX)

    assert response.status_code == 200  # not ended: the page keeps polling
    page = response.content.decode()
    assert f"waiting for a worker (the last one was lost at {hh_mm})" in page
    assert Job.objects.get(pk=job.pk).status == Status.PENDING


def test_the_job_list_hands_back_lost_jobs(client: Client) -> None:
    job = silent_job()
    assert client.get("/jobs/").status_code == 200
    assert Job.objects.get(pk=job.pk).status == Status.PENDING


def test_the_api_shows_a_lost_job_as_pending_again(client: Client) -> None:
    listed, detailed = silent_job(), silent_job()

    detail = client.get(f"/api/v1/jobs/{detailed.pk}").json()
    assert (detail["status"], detail["error"]) == ("pending", None)
    jobs = {job["job_id"]: job for job in client.get("/api/v1/jobs").json()["jobs"]}
    assert jobs[str(listed.pk)]["status"] == "pending"


def test_the_jobs_command_lists_a_lost_job_as_pending(capsys: pytest.CaptureFixture[str]) -> None:
    job = silent_job()
    call_command("jobs")
    row = next(line for line in capsys.readouterr().out.splitlines() if job.path in line)
    assert " pending " in row


def test_the_reaper_schedule_exists_once_after_migrate() -> None:
    schedule_reaper()
    schedule_reaper()
    call_command("migrate", verbosity=0)

    schedule = Schedule.objects.get(name=REAPER_SCHEDULE)
    assert Schedule.objects.filter(func="stoat.scans.tasks.reap_lost_jobs").count() == 1
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == (Schedule.MINUTES, 1, -1)


def test_django_q_runs_the_reaper_schedule_when_it_is_due(
    sync_tasks: None, library_dir: Path
) -> None:
    make_clip(library_dir / "clip.mp4")
    job = silent_job(path=str(library_dir))
    schedule_reaper()
    Schedule.objects.filter(name=REAPER_SCHEDULE).update(
        next_run=timezone.now() - timedelta(seconds=1)
    )

    scheduler(broker=get_broker())

    # The lost walk went back to the workers (here, at once) and the scan completed.
    assert Job.objects.get(pk=job.pk).status == Status.COMPLETE
    assert Schedule.objects.get(name=REAPER_SCHEDULE).next_run > timezone.now()
