"""The one service the pages, the API and the commands call to start, cancel and read scans."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import LazySettings
from django.utils import timezone

from stoat.scans import services, tasks
from stoat.scans.lifecycle import CancelOutcome
from stoat.scans.models import Job, Status
from stoat.scans.paths import InvalidPath, PathNotAllowed
from stoat.scans.runner import record_failure
from tests.conftest import make_job

pytestmark = pytest.mark.django_db

Capture = Callable[..., AbstractContextManager[list[Callable[[], None]]]]


def test_a_new_scan_reaches_the_broker_only_once_committed(
    library_dir: Path, empty_queue: None, django_capture_on_commit_callbacks: Capture
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        start = services.start_scan(str(library_dir) + "/")
        assert tasks.queued_tasks() == 0
    assert tasks.queued_tasks() == 1
    assert (start.created, start.job.path, start.job.status) == (
        True,
        str(library_dir),
        Status.PENDING,
    )


def test_a_scan_of_a_covered_folder_queues_nothing_more(
    library_dir: Path, empty_queue: None, django_capture_on_commit_callbacks: Capture
) -> None:
    (library_dir / "sub").mkdir()
    with django_capture_on_commit_callbacks(execute=True):
        first = services.start_scan(str(library_dir))
        again = services.start_scan(str(library_dir / "sub"))
    assert (again.created, again.job.pk) == (False, first.job.pk)
    assert tasks.queued_tasks() == 1
    assert services.describe_start(again) == (
        f"{library_dir} is already being scanned: this is that scan (none was added)."
    )


def test_a_scan_run_here_is_never_handed_to_the_workers(
    library_dir: Path, empty_queue: None, django_capture_on_commit_callbacks: Capture
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        start = services.start_scan(str(library_dir), queue=False)
    assert start.created and callbacks == []
    assert tasks.queued_tasks() == 0


def test_a_folder_outside_the_roots_is_refused_before_any_job_exists(
    settings: LazySettings, tmp_path: Path, library_dir: Path
) -> None:
    settings.STOAT_SCAN_ROOTS = [str(tmp_path / "elsewhere")]
    with pytest.raises(PathNotAllowed):
        services.start_scan(str(library_dir))
    with pytest.raises(InvalidPath):
        services.start_scan("relative/videos")
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    ("status", "outcome", "message"),
    [
        (Status.PENDING, CancelOutcome.CANCELLED, "Cancelled before it started."),
        (
            Status.RUNNING,
            CancelOutcome.REQUESTED,
            "Cancel requested: the scan stops at the next file.",
        ),
        (
            Status.COMPLETE,
            CancelOutcome.TERMINAL,
            "This job had already ended as complete; there is nothing to cancel.",
        ),
    ],
)
def test_cancel_answers_what_happened(status: Status, outcome: CancelOutcome, message: str) -> None:
    result = services.cancel_job(make_job(status=status).pk)
    assert (result.outcome, result.message) == (outcome, message)
    assert result.accepted is (outcome is not CancelOutcome.TERMINAL)


def test_cancel_of_an_unknown_job_is_not_found() -> None:
    result = services.cancel_job(404)
    assert (result.outcome, result.job, result.accepted) == (CancelOutcome.NOT_FOUND, None, False)


def test_listing_jobs_hands_the_ones_whose_worker_was_lost_back_to_the_workers(
    settings: LazySettings, empty_queue: None
) -> None:
    silent_since = timezone.now() - timedelta(seconds=settings.STOAT_HEARTBEAT_STALE + 60)
    lost = make_job(status=Status.RUNNING, started_at=silent_since, heartbeat_at=silent_since)
    alive = make_job(status=Status.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now())

    assert [job.pk for job in services.list_jobs(Status.RUNNING)] == [alive.pk]
    lost.refresh_from_db()
    assert (lost.status, lost.failure_reason, lost.worker_losses) == (Status.PENDING, "", 1)
    assert tasks.queued_tasks() == 1  # its scan, queued again


def test_a_job_read_after_its_worker_was_lost_shows_as_waiting_for_one(
    settings: LazySettings,
) -> None:
    silent_since = timezone.now() - timedelta(seconds=settings.STOAT_HEARTBEAT_STALE + 60)
    lost = make_job(status=Status.RUNNING, started_at=silent_since, heartbeat_at=silent_since)
    shown = services.current(lost)
    assert (shown.status, shown.waits_after_loss) == (Status.PENDING, True)


def test_a_failed_run_is_logged_and_ends_the_job_with_its_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    job = make_job(status=Status.RUNNING)
    with caplog.at_level(logging.ERROR, logger="stoat.scans.runner"):
        assert record_failure(job.pk, OSError("disk on fire")) == Status.FAILED
    job.refresh_from_db()
    assert (job.status, job.failure_reason) == (Status.FAILED, "OSError: disk on fire")
    assert caplog.records[0].exc_info is not None
