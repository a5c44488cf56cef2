"""Fault 1 at the level of the state machine: a silent job is resumed or reaped, once."""

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
from django_q.tasks import async_task

from stoat.library.models import Video
from stoat.scans import lifecycle, tasks
from stoat.scans.models import BatchStatus, Job, ScanBatch, ScanError, Status
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


def test_a_job_whose_worker_went_silent_ends_failed_worker_lost() -> None:
    lost = silent_job(processed=7, new=7)
    alive = make_job(status=Status.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now())

    assert lifecycle.reap_lost() == 1
    assert lifecycle.reap_lost() == 0

    lost.refresh_from_db()
    alive.refresh_from_db()
    assert lost.status == Status.FAILED and lost.failure_reason.startswith("worker lost")
    assert lost.finished_at is not None and (lost.processed, lost.new) == (7, 7)
    assert alive.status == Status.RUNNING


def test_a_lost_job_that_was_being_cancelled_ends_cancelled() -> None:
    job = silent_job()
    lifecycle.request_cancel(job.pk)
    assert lifecycle.reap_lost(job.pk) == 1
    job.refresh_from_db()
    assert job.status == Status.CANCELLED


def test_a_lost_job_past_the_task_time_limit_ends_as_timeout(settings: LazySettings) -> None:
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": 60}
    late = silent_job(started_at=timezone.now() - timedelta(seconds=90))
    assert lifecycle.reap_lost() == 1
    late.refresh_from_db()
    assert late.status == Status.TIMEOUT and "time limit" in late.failure_reason


def test_a_job_without_any_heartbeat_is_judged_by_its_start() -> None:
    never_beat = make_job(status=Status.RUNNING, started_at=timezone.now() - timedelta(hours=1))
    fixture_row = make_job(status=Status.RUNNING)  # neither started nor beating: left alone
    assert lifecycle.reap_lost() == 1
    assert Job.objects.get(pk=never_beat.pk).status == Status.FAILED
    assert Job.objects.get(pk=fixture_row.pk).status == Status.RUNNING


def test_a_resumed_job_cannot_be_reaped_and_a_reaped_job_cannot_be_resumed() -> None:
    resumed = silent_job()
    reaped = silent_job()

    assert lifecycle.resume(resumed.pk) is True
    assert lifecycle.reap_lost(resumed.pk) == 0
    assert lifecycle.resume(resumed.pk) is False  # fresh again: a second task does not take it

    assert lifecycle.reap_lost(reaped.pk) == 1
    assert lifecycle.resume(reaped.pk) is False
    assert Job.objects.get(pk=resumed.pk).status == Status.RUNNING
    assert Job.objects.get(pk=reaped.pk).status == Status.FAILED


def test_resuming_starts_the_counters_again_and_drops_the_old_errors() -> None:
    job = silent_job(found=10, found_final=True, processed=6, new=5, error_count=1)
    ScanError.objects.create(job=job, path="/srv/videos/bad.mp4", message="damaged")

    assert lifecycle.resume(job.pk)

    job.refresh_from_db()
    assert (job.found, job.found_final, job.processed, job.new, job.error_count) == (
        0,
        False,
        0,
        0,
        0,
    )
    assert not ScanError.objects.filter(job=job).exists()
    assert not lifecycle.is_silent(job)


def test_a_redelivered_scan_task_resumes_a_lost_job_without_duplicates(
    library_dir: Path, settings: LazySettings
) -> None:
    for index in range(4):
        make_clip(library_dir / f"clip{index}.mp4")
    job = lifecycle.create_scan(str(library_dir)).job
    tasks.run_scan(job.pk)
    first_ids = set(Video.objects.values_list("id", flat=True))
    # As if the worker had died at the very end, before concluding the job.
    Job.objects.filter(pk=job.pk).update(
        status=Status.RUNNING, heartbeat_at=timezone.now() - timedelta(minutes=5)
    )

    assert tasks.run_scan(job.pk).startswith("resumed")

    job.refresh_from_db()
    assert job.status == Status.COMPLETE
    assert (job.found, job.processed, job.unchanged, job.new) == (4, 4, 4, 0)
    assert set(Video.objects.values_list("id", flat=True)) == first_ids


def test_a_redelivered_task_leaves_a_running_job_with_a_fresh_heartbeat_alone() -> None:
    job = make_job(status=Status.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now())
    assert tasks.run_scan(job.pk).startswith("not claimed")
    assert tasks.run_scan(job.pk + 100).startswith("not claimed")


def test_a_redelivered_batch_resumes_and_skips_the_files_already_stored(
    library_dir: Path,
) -> None:
    clips = [make_clip(library_dir / f"clip{index}.mp4") for index in range(4)]
    job = silent_job(path=str(library_dir), batches_total=1, found=4, found_final=True)
    ScanBatch.objects.create(job=job, number=1, files=4)
    items = [(str(c), c.stat().st_size, c.stat().st_mtime_ns, False) for c in clips]
    # The lost run stored the first two files with their counters, then died.
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now())
    assert tasks.run_batch(job.pk, 1, items[:2]).startswith("batch done")
    Job.objects.filter(pk=job.pk).update(
        status=Status.RUNNING,
        batches_done=0,
        phase="reading",
        finished_at=None,
        heartbeat_at=timezone.now() - timedelta(minutes=5),
    )
    # It died before ending its batch, so the batch record still names it.
    ScanBatch.objects.filter(job=job).update(
        status=BatchStatus.RUNNING,
        worker="lost-host:1",
        started_at=timezone.now() - timedelta(days=2),
    )

    assert tasks.run_batch(job.pk, 1, items) == "batch done; job complete"
    assert ScanBatch.objects.get(job=job).worker != "lost-host:1"

    job.refresh_from_db()
    assert (job.status, job.processed, job.new, Video.objects.count()) == (Status.COMPLETE, 4, 4, 4)


def test_a_redelivered_batch_of_a_reaped_job_does_nothing(library_dir: Path) -> None:
    clip = make_clip(library_dir / "clip.mp4")
    job = silent_job(path=str(library_dir), batches_total=2)
    ScanBatch.objects.create(job=job, number=1, files=1)
    assert tasks.reap_lost_jobs() == "ended 1 lost job(s)"
    item = (str(clip), clip.stat().st_size, clip.stat().st_mtime_ns, False)
    assert tasks.run_batch(job.pk, 1, [item]) == "batch skipped; job ended"
    assert Video.objects.count() == 0


def test_the_reaper_task_reports_what_it_ended() -> None:
    silent_job()
    assert tasks.reap_lost_jobs() == "ended 1 lost job(s)"


def test_a_fanned_out_job_is_spared_while_tasks_wait_in_the_queue(empty_queue: None) -> None:
    waiting = silent_job(batches_total=4, batches_done=1)
    async_task("math.floor", 1.5)  # other work ahead of its batches in the queue

    assert tasks.reap_lost_jobs() == "ended 0 lost job(s)"
    assert lifecycle.reap_lost() == 0  # the pages cannot see the queue: they always spare it
    assert Job.objects.get(pk=waiting.pk).status == Status.RUNNING

    get_broker().purge_queue()  # the queue drained and still nothing was heard from it
    assert tasks.reap_lost_jobs() == "ended 1 lost job(s)"
    assert Job.objects.get(pk=waiting.pk).failure_reason.startswith("worker lost")


def test_the_job_page_shows_a_lost_job_as_failed_at_once(client: Client) -> None:
    job = silent_job()

    response = client.get(f"/jobs/{job.pk}/", headers=HTMX)

    assert response.status_code == 286
    assert "worker lost" in response.content.decode()
    assert Job.objects.get(pk=job.pk).status == Status.FAILED


def test_the_job_list_reaps_lost_jobs(client: Client) -> None:
    job = silent_job()
    assert client.get("/jobs/").status_code == 200
    assert Job.objects.get(pk=job.pk).status == Status.FAILED


def test_the_api_shows_a_lost_job_as_failed_worker_lost(client: Client) -> None:
    listed, detailed = silent_job(), silent_job()

    detail = client.get(f"/api/v1/jobs/{detailed.pk}").json()
    assert (detail["status"], detail["error"][:11]) == ("failed", "worker lost")
    jobs = {job["job_id"]: job for job in client.get("/api/v1/jobs").json()["jobs"]}
    assert jobs[str(listed.pk)]["status"] == "failed"


def test_the_jobs_command_lists_a_lost_job_as_failed(capsys: pytest.CaptureFixture[str]) -> None:
    job = silent_job()
    call_command("jobs")
    row = next(line for line in capsys.readouterr().out.splitlines() if job.path in line)
    assert " failed " in row


def test_the_reaper_schedule_exists_once_after_migrate() -> None:
    schedule_reaper()
    schedule_reaper()
    call_command("migrate", verbosity=0)

    schedule = Schedule.objects.get(name=REAPER_SCHEDULE)
    assert Schedule.objects.filter(func="stoat.scans.tasks.reap_lost_jobs").count() == 1
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == (Schedule.MINUTES, 1, -1)


def test_django_q_runs_the_reaper_schedule_when_it_is_due(sync_tasks: None) -> None:
    job = silent_job()
    schedule_reaper()
    Schedule.objects.filter(name=REAPER_SCHEDULE).update(
        next_run=timezone.now() - timedelta(seconds=1)
    )

    scheduler(broker=get_broker())

    assert Job.objects.get(pk=job.pk).status == Status.FAILED
    assert Schedule.objects.get(name=REAPER_SCHEDULE).next_run > timezone.now()
