from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import LazySettings
from django.utils import timezone

from stoat.scans import batches, lifecycle, services
from stoat.scans.lifecycle import CancelOutcome
from stoat.scans.models import TERMINAL, Job, ScanBatch, Status
from tests.conftest import make_job

pytestmark = pytest.mark.django_db


def test_create_scan_makes_one_pending_job_of_the_normalised_folder() -> None:
    job = lifecycle.create_scan("/srv/videos/").job
    assert (job.status, job.path, Job.objects.count()) == (Status.PENDING, "/srv/videos", 1)


def test_claim_moves_pending_to_running_once() -> None:
    job = make_job()
    assert lifecycle.claim(job.pk) is True
    assert lifecycle.claim(job.pk) is False
    job.refresh_from_db()
    assert job.status == Status.RUNNING
    assert job.started_at is not None


def test_cancel_of_pending_job_ends_it_at_once_and_it_cannot_be_claimed() -> None:
    job = make_job()
    result = services.cancel_job(job.pk)
    assert result.outcome is CancelOutcome.CANCELLED
    assert result.job is not None and result.job.status == Status.CANCELLED
    assert result.job.finished_at is not None
    assert lifecycle.claim(job.pk) is False


def test_cancel_of_running_job_sets_the_flag_once() -> None:
    job = make_job(status=Status.RUNNING)
    first = services.cancel_job(job.pk)
    second = services.cancel_job(job.pk)
    assert first.outcome is second.outcome is CancelOutcome.REQUESTED
    assert first.job is not None and second.job is not None
    assert first.job.cancel_requested_at == second.job.cancel_requested_at
    assert second.job.status == Status.RUNNING
    assert lifecycle.should_stop(job.pk) is True


@pytest.mark.parametrize("status", TERMINAL)
def test_cancel_of_terminal_job_changes_nothing(status: Status) -> None:
    job = make_job(status=status)
    result = services.cancel_job(job.pk)
    assert result.outcome is CancelOutcome.TERMINAL
    assert not result.accepted
    job.refresh_from_db()
    assert job.status == status
    assert job.cancel_requested_at is None


def test_cancel_of_unknown_job_is_not_found() -> None:
    assert services.cancel_job(999).outcome is CancelOutcome.NOT_FOUND


def test_progress_adds_counters_and_refuses_ended_jobs() -> None:
    job = make_job(status=Status.RUNNING)
    assert lifecycle.progress(job.pk, processed=3, error_count=1, current_file="a.mp4")
    assert lifecycle.progress(job.pk, processed=2, found_final=True)
    job.refresh_from_db()
    assert (job.processed, job.error_count, job.current_file, job.found_final) == (
        5,
        1,
        "a.mp4",
        True,
    )
    assert lifecycle.finish(job.pk, Status.FAILED, failure_reason="boom")
    assert not lifecycle.progress(job.pk, processed=1)
    assert not lifecycle.finish(job.pk, Status.COMPLETE)
    job.refresh_from_db()
    assert (job.status, job.processed, job.failure_reason) == (Status.FAILED, 5, "boom")


def test_conclude_prefers_cancelled_then_timeout_then_complete() -> None:
    cancelled = make_job(status=Status.RUNNING)
    lifecycle.request_cancel(cancelled.pk)
    timed_out = make_job(status=Status.RUNNING, found=10, found_final=True, processed=4)
    finished_late = make_job(status=Status.RUNNING, found=10, found_final=True, processed=10)
    plain = make_job(status=Status.RUNNING)

    assert lifecycle.conclude(cancelled.pk, timed_out=True) == Status.CANCELLED
    assert lifecycle.conclude(timed_out.pk, timed_out=True) == Status.TIMEOUT
    assert lifecycle.conclude(finished_late.pk, timed_out=True) == Status.COMPLETE
    assert lifecycle.conclude(plain.pk) == Status.COMPLETE
    assert lifecycle.conclude(plain.pk) is None


def items(count: int) -> list[batches.Item]:
    return [(f"/srv/videos/{n}.mp4", 1, 1, False) for n in range(count)]


def test_the_last_batch_concludes_the_job() -> None:
    job = make_job(status=Status.RUNNING)
    assert batches.plan(job.pk, [items(3), items(2)])
    first = batches.claim(job.pk, 1, "host-a:1")
    second = batches.claim(job.pk, 2, "host-b:2")
    assert first is not None and second is not None and first.reading and second.reading
    assert Job.objects.get(pk=job.pk).batches_reading == 2

    assert batches.end(first) is None
    assert Job.objects.get(pk=job.pk).status == Status.RUNNING
    assert batches.end(second) == Status.COMPLETE
    rows = list(ScanBatch.objects.filter(job=job).values_list("worker", "status", "files"))
    assert rows == [("host-a:1", "done", 3), ("host-b:2", "done", 2)]
    assert Job.objects.get(pk=job.pk).batches_reading == 0


def test_a_batch_is_claimed_once_and_ended_once() -> None:
    job = make_job(status=Status.RUNNING)
    batches.plan(job.pk, [items(4), items(4)])
    claim = batches.claim(job.pk, 1, "host-a:1")
    assert claim is not None
    assert batches.claim(job.pk, 1, "host-b:2") is None
    assert batches.end(claim) is None
    assert batches.end(claim) is None

    assert Job.objects.get(pk=job.pk).batches_done == 1
    assert ScanBatch.objects.get(job=job, number=1).worker == "host-a:1"


def test_batches_are_not_planned_for_a_job_that_ended() -> None:
    job = make_job(status=Status.CANCELLED)
    assert batches.plan(job.pk, [items(5), items(5)]) is False
    assert not ScanBatch.objects.filter(job=job).exists()


def test_a_batch_keeps_its_files_in_order_even_with_names_that_are_not_utf8() -> None:
    job = make_job(status=Status.RUNNING)
    odd = [("/srv/videos/caf\udce9.mp4", 7, 8, True)]  # a Latin-1 name, as os.fsdecode gives it
    batches.plan(job.pk, [items(2) + odd])
    claim = batches.claim(job.pk, 1, "host-a:1")
    assert claim is not None and claim.to_read == items(2) + odd


def test_should_stop_for_a_job_that_is_gone() -> None:
    assert lifecycle.should_stop(12345) is True


def test_a_scan_of_a_folder_already_being_scanned_returns_the_active_job() -> None:
    first = lifecycle.create_scan("/srv/videos")
    again = lifecycle.create_scan("/srv/videos/")
    inside = lifecycle.create_scan("/srv/videos/holidays")
    assert first.created and not again.created and not inside.created
    assert again.job.pk == inside.job.pk == first.job.pk
    assert Job.objects.count() == 1


def test_a_shallow_scan_does_not_cover_subfolders_or_a_deep_rescan() -> None:
    shallow = lifecycle.create_scan("/srv/videos", recursive=False)
    sub = lifecycle.create_scan("/srv/videos/sub")
    assert shallow.created and sub.created
    # The same folder again: the unique constraint allows one active scan per folder.
    deep = lifecycle.create_scan("/srv/videos", recursive=True)
    assert not deep.created and deep.job.pk == shallow.job.pk


def test_a_finished_scan_does_not_block_a_new_one() -> None:
    first = lifecycle.create_scan("/srv/videos").job
    lifecycle.request_cancel(first.pk)
    second = lifecycle.create_scan("/srv/videos")
    assert second.created and second.job.pk != first.pk


def test_a_silent_batch_is_handed_back_only_once_and_a_live_one_never(
    settings: LazySettings,
) -> None:
    job = make_job(status=Status.RUNNING, heartbeat_at=timezone.now())
    batches.plan(job.pk, [items(4), items(4)])
    batches.claim(job.pk, 1, "host-a:1")
    batches.claim(job.pk, 2, "host-b:2")
    long_ago = timezone.now() - timedelta(seconds=settings.STOAT_HEARTBEAT_STALE + 1)
    ScanBatch.objects.filter(job=job, number=2).update(heartbeat_at=long_ago)

    assert batches.release_lost() == [(job.pk, 2)]
    assert batches.release_lost() == []
    rows = dict(ScanBatch.objects.filter(job=job).values_list("number", "status"))
    assert rows == {1: "running", 2: "pending"}
    job.refresh_from_db()
    assert (job.batches_reading, job.worker_losses, job.worker_lost_at) == (1, 1, long_ago)
    assert job.status == Status.RUNNING  # host-a still reads
