"""A batch whose worker is lost is handed to the live workers and goes on from its files not yet
stored: a batch's life is cut at each of its steps here, then the workers left finish the job."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import LazySettings
from django.utils import timezone

from stoat.library.models import Video
from stoat.scans import batches, lifecycle, tasks
from stoat.scans.batches import BatchLost, Claim
from stoat.scans.models import BatchStatus, Job, ScanBatch, Status
from stoat.scans.scanner import ReadItem, Scanner
from tests.media import make_clip

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_queue")]

FILES = 12
BATCHES = 3  # of 4 files each


@pytest.fixture(autouse=True)
def small_batches(settings: LazySettings) -> None:
    settings.STOAT_BATCH_MIN = FILES // BATCHES
    settings.STOAT_MAX_BATCHES = BATCHES
    settings.STOAT_PROGRESS_INTERVAL = 60  # one flush per read() call: the cut points are exact


def library(folder: Path, count: int = FILES) -> None:
    clip = make_clip(folder / "clip00.mp4")
    for index in range(1, count):
        shutil.copyfile(clip, folder / f"clip{index:02d}.mp4")


def fanned_out(folder: Path) -> Job:
    """A scan walked and planned by its task, which queued batches 2 and 3 and is about to claim
    batch 1 to read it itself (no batch task run yet)."""
    library(folder)
    job = lifecycle.create_scan(str(folder)).job
    assert lifecycle.claim(job.pk)
    assert tasks.fan_out(job.pk, Scanner(Job.objects.get(pk=job.pk))) == BATCHES
    assert queued() == BATCHES - 1
    return Job.objects.get(pk=job.pk)


def queued() -> int:
    return tasks.queued_tasks()


def read_part(claim: Claim, count: int) -> None:
    """The real scanner reads and stores the first `count` files of the claimed batch."""
    scanner = Scanner(Job.objects.get(pk=claim.job_id), batch=claim)
    scanner.read([ReadItem(*item) for item in claim.to_read[:count]])


def time_passes(settings: LazySettings) -> None:
    """Every heartbeat so far is older than the bound: whoever stopped beating is lost."""
    past = timezone.now() - timedelta(seconds=settings.STOAT_HEARTBEAT_STALE + 1)
    Job.objects.update(heartbeat_at=past)
    ScanBatch.objects.filter(status=BatchStatus.RUNNING).update(heartbeat_at=past)


def reading_matches_running(job: Job) -> None:
    job.refresh_from_db()
    running = ScanBatch.objects.filter(job=job, status=BatchStatus.RUNNING).count()
    assert job.batches_reading == running


def finished_once(job: Job) -> Job:
    """The job ended complete with every file stored once and counted once."""
    job.refresh_from_db()
    assert job.status == Status.COMPLETE, job.failure_reason
    assert (job.found, job.processed, job.new, job.unchanged, job.error_count) == (
        FILES,
        FILES,
        FILES,
        0,
        0,
    )
    assert Video.objects.count() == FILES
    rows = ScanBatch.objects.filter(job=job)
    assert all(b.status == BatchStatus.DONE and b.read == b.files for b in rows)
    assert job.batches_reading == 0 and job.batches_done == BATCHES
    return job


Kill = Callable[[Job], None]


def killed_before_its_claim(job: Job) -> None:
    pass  # the scan's worker died after queuing the others: batch 1 has no task


def killed_after_the_claim(job: Job) -> None:
    assert batches.claim(job.pk, 1, "lost-host:1") is not None


def killed_mid_read(job: Job) -> None:
    claim = batches.claim(job.pk, 1, "lost-host:1")
    assert claim is not None
    read_part(claim, 2)


def killed_after_storing_everything(job: Job) -> None:
    claim = batches.claim(job.pk, 1, "lost-host:1")
    assert claim is not None
    read_part(claim, len(claim.to_read))


@pytest.mark.parametrize(
    ("kill", "released"),
    [
        (killed_before_its_claim, []),
        (killed_after_the_claim, [1]),
        (killed_mid_read, [1]),
        (killed_after_storing_everything, [1]),
    ],
)
def test_a_batch_killed_at_any_step_is_finished_by_the_live_worker_and_reading_stays_exact(
    library_dir: Path, settings: LazySettings, kill: Kill, released: list[int]
) -> None:
    job = fanned_out(library_dir)
    kill(job)
    reading_matches_running(job)
    time_passes(settings)

    assert batches.release_lost() == [(job.pk, n) for n in released]
    reading_matches_running(job)
    # The live worker reads its batch, then the lost one from where it stopped (or the one
    # never claimed), then batch 3 without waiting for its task.
    assert tasks.run_batch(job.pk, 2) == "batches 2, 1, 3; job complete"
    reading_matches_running(job)
    assert tasks.run_batch(job.pk, 3) == "batch already taken"  # its queued task

    finished_once(job)


def test_a_worker_lost_after_its_last_batch_ended_but_before_the_job_did_is_concluded(
    library_dir: Path, settings: LazySettings
) -> None:
    job = fanned_out(library_dir)
    for number in range(1, BATCHES + 1):
        claim = batches.claim(job.pk, number, "lost-host:1")
        assert claim is not None
        read_part(claim, len(claim.to_read))
        assert batches.finish_batch(claim)  # killed here, before it could end the job
    assert Job.objects.get(pk=job.pk).status == Status.RUNNING
    time_passes(settings)

    before = queued()
    assert tasks.hand_back_lost() == 1
    assert queued() == before + 1  # a task to settle and conclude it, nothing to read again
    assert tasks.settle_scan(job.pk) == "job complete"

    finished_once(job)


def test_a_live_worker_done_with_its_batch_takes_on_a_quiet_worker_s_batches(
    library_dir: Path, settings: LazySettings
) -> None:
    settings.STOAT_PROGRESS_INTERVAL = 0.1  # quiet after 2 s without a word
    settings.STOAT_HEARTBEAT_STALE = 4.0
    job = fanned_out(library_dir)
    killed_mid_read(job)
    quiet = timezone.now() - timedelta(seconds=3)
    ScanBatch.objects.filter(job=job, number=1).update(heartbeat_at=quiet)

    # Batch 1's worker is quiet: after its own batch it takes batch 3 (still pending), waits for
    # batch 1 to go stale, and takes it over too.
    assert tasks.run_batch(job.pk, 2) == "batches 2, 3, 1; job complete"

    finished_once(job)
    assert ScanBatch.objects.get(job=job, number=1).losses == 1


def test_a_frozen_worker_that_wakes_up_after_its_batch_was_handed_on_stores_nothing(
    library_dir: Path, settings: LazySettings
) -> None:
    job = fanned_out(library_dir)
    frozen = batches.claim(job.pk, 1, "slow-host:1")
    assert frozen is not None
    read_part(frozen, 1)
    time_passes(settings)
    assert batches.release_lost() == [(job.pk, 1)]
    taker = batches.claim(job.pk, 1, "live-host:2")
    assert taker is not None and taker.start == 1

    with pytest.raises(BatchLost):
        read_part(frozen, 3)  # it wakes up and goes on reading: its flush is refused

    assert Video.objects.count() == 1
    assert batches.end(frozen) is None
    assert ScanBatch.objects.get(job=job, number=1).worker == "live-host:2"


def test_a_resumed_scan_keeps_its_counters(library_dir: Path, settings: LazySettings) -> None:
    job = fanned_out(library_dir)
    killed_mid_read(job)
    time_passes(settings)
    # Batch 3 is pending: taken at once; batch 1, stale, is taken over after it.
    assert tasks.run_batch(job.pk, 2) == "batches 2, 3, 1; job complete"
    assert tasks.run_batch(job.pk, 3) == "batch already taken"
    # The two files stored before the loss are new, as the files read after it.
    finished_once(job)


def test_a_lost_batch_is_queued_again_for_the_workers(
    library_dir: Path, settings: LazySettings
) -> None:
    job = fanned_out(library_dir)
    killed_mid_read(job)
    time_passes(settings)
    live = batches.claim(job.pk, 2, "live-host:2")  # another worker, reading
    assert live is not None

    before = queued()
    assert tasks.hand_back_lost() == 1
    # Batch 1 is queued again, and batch 3 too: its task may have died with that worker.
    assert queued() == before + 2
    assert Job.objects.get(pk=job.pk).status == Status.RUNNING
    tasks.read_batch(live)
    assert tasks.run_batch(job.pk, 1) == "batches 1, 3; job complete"
    assert tasks.run_batch(job.pk, 3) == "batch already taken"
    finished_once(job)


def test_no_live_worker_leaves_the_job_waiting_and_a_new_worker_resumes_it(
    library_dir: Path, settings: LazySettings
) -> None:
    job = fanned_out(library_dir)
    killed_mid_read(job)
    time_passes(settings)
    lost_at = ScanBatch.objects.get(job=job, number=1).heartbeat_at

    assert tasks.hand_back_lost() == 2  # batch 1 released, the job waits

    job.refresh_from_db()
    assert job.status == Status.PENDING and job.waits_after_loss
    assert job.worker_lost_at == lost_at and job.worker_losses == 1
    assert (job.processed, job.new) == (2, 2)
    # A worker starts: the queued batches bring the job back and it ends as if never stopped.
    assert tasks.run_batch(job.pk, 3) == "batches 3, 1, 2; job complete"
    assert tasks.run_batch(job.pk, 2) == "batch already taken"
    finished_once(job)


def test_a_batch_lost_three_times_fails_the_job_saying_so(
    library_dir: Path, settings: LazySettings
) -> None:
    job = fanned_out(library_dir)
    for loss in (1, 2, 3):
        claim = batches.claim(job.pk, 1, f"doomed-host:{loss}")
        assert claim is not None and claim.losses == loss - 1
        read_part(claim, 1)
        time_passes(settings)
        batches.release_lost()

    job.refresh_from_db()
    assert job.status == Status.FAILED
    assert job.failure_reason.startswith("worker lost 3 times")
    assert (job.processed, Video.objects.count(), job.batches_reading) == (3, 3, 0)


def test_a_cancel_during_a_takeover_ends_cancelled_keeping_what_was_read(
    library_dir: Path, settings: LazySettings
) -> None:
    job = fanned_out(library_dir)
    killed_mid_read(job)
    time_passes(settings)
    assert batches.release_lost() == [(job.pk, 1)]
    taker = batches.claim(job.pk, 1, "live-host:2")
    assert taker is not None

    assert lifecycle.request_cancel(job.pk) is not None
    tasks.read_batch(taker)

    job.refresh_from_db()
    assert job.status == Status.CANCELLED
    assert job.processed == job.new == Video.objects.count() == 2
    assert job.batches_reading == 0


def test_a_cancel_while_the_job_waits_for_a_worker_ends_it_at_once(
    library_dir: Path, settings: LazySettings
) -> None:
    job = fanned_out(library_dir)
    killed_mid_read(job)
    time_passes(settings)
    tasks.hand_back_lost()
    assert Job.objects.get(pk=job.pk).status == Status.PENDING

    lifecycle.request_cancel(job.pk)

    job.refresh_from_db()
    assert (job.status, job.processed, Video.objects.count()) == (Status.CANCELLED, 2, 2)
    # The batches queued for it still arrive: the first counts them all, reading nothing.
    assert tasks.run_batch(job.pk, 2) == (
        "batches 2 (skipped), 1 (skipped), 3 (skipped); job cancelled"
    )
    assert tasks.run_batch(job.pk, 3) == "batch already taken"
    assert Job.objects.get(pk=job.pk).batches_done == BATCHES
    assert Video.objects.count() == 2


def test_a_walk_lost_three_times_fails_and_a_lost_walk_starts_over(
    library_dir: Path, settings: LazySettings
) -> None:
    library(library_dir, 2)
    job = lifecycle.create_scan(str(library_dir)).job
    for loss in (1, 2, 3):
        assert lifecycle.claim(job.pk)
        lifecycle.progress(job.pk, found=2)
        time_passes(settings)
        handed = lifecycle.reap_lost()
        job.refresh_from_db()
        if loss < 3:
            assert handed == [job.pk]
            assert (job.status, job.found, job.worker_losses) == (Status.PENDING, 0, loss)
    assert (job.status, job.failure_reason[:20]) == (Status.FAILED, "worker lost 3 times:")


def test_a_worker_that_starts_queues_a_taker_for_batches_gone_quiet(
    library_dir: Path, settings: LazySettings
) -> None:
    job = fanned_out(library_dir)
    killed_mid_read(job)
    before = queued()

    tasks.hand_back_on_start()
    assert queued() == before  # batch 1 beat a moment ago: its worker may well be alive

    settings.STOAT_PROGRESS_INTERVAL = 0.5  # a reading batch flushes (and beats) this often
    quiet_since = timezone.now() - timedelta(seconds=5)  # not yet past the heartbeat bound
    ScanBatch.objects.filter(job=job, number=1).update(heartbeat_at=quiet_since)
    tasks.hand_back_on_start()

    assert queued() == before + 1
    assert ScanBatch.objects.get(job=job, number=1).status == BatchStatus.RUNNING


def test_a_cancel_asked_while_the_only_reading_batch_is_lost_ends_the_job_when_it_is_found(
    library_dir: Path, settings: LazySettings
) -> None:
    job = fanned_out(library_dir)
    killed_mid_read(job)
    assert lifecycle.request_cancel(job.pk) is lifecycle.CancelOutcome.REQUESTED
    assert Job.objects.get(pk=job.pk).status == Status.RUNNING  # batch 1 might still be reading
    time_passes(settings)

    assert tasks.hand_back_lost() == 0  # nothing to hand on: the scan was to stop anyway

    job.refresh_from_db()
    assert (job.status, job.processed, job.batches_reading) == (Status.CANCELLED, 2, 0)
    assert Video.objects.count() == 2


def test_a_job_that_no_worker_reads_past_its_time_limit_ends_as_timeout(
    library_dir: Path, settings: LazySettings
) -> None:
    job = fanned_out(library_dir)
    killed_mid_read(job)
    time_passes(settings)
    too_long = timezone.now() - timedelta(seconds=settings.STOAT_JOB_TIME_LIMIT + 1)
    Job.objects.filter(pk=job.pk).update(started_at=too_long)

    tasks.hand_back_lost()

    job.refresh_from_db()
    assert (job.status, job.processed, Video.objects.count()) == (Status.TIMEOUT, 2, 2)


def test_a_taker_reads_exactly_the_files_the_lost_run_had_not_stored_whatever_their_order(
    library_dir: Path, settings: LazySettings
) -> None:
    job = fanned_out(library_dir)
    lost = batches.claim(job.pk, 1, "lost-host:1")
    assert lost is not None
    # Readers take some files first (those that may be moves): the lost run stored the last two.
    scanner = Scanner(Job.objects.get(pk=job.pk), batch=lost)
    scanner.read([ReadItem(*item) for item in lost.items[2:]])
    time_passes(settings)
    assert batches.release_lost() == [(job.pk, 1)]

    taker = batches.claim(job.pk, 1, "live-host:2")

    assert taker is not None and taker.start == 2
    assert taker.to_read == lost.items[:2]
    tasks.read_batch(taker)
    assert tasks.run_batch(job.pk, 2) == "batches 2, 3; job complete"
    finished_once(job)


def test_a_waiting_job_older_than_one_task_may_run_is_not_ended_as_timeout(
    library_dir: Path, settings: LazySettings
) -> None:
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": 20}
    job = fanned_out(library_dir)
    killed_mid_read(job)
    time_passes(settings)
    Job.objects.filter(pk=job.pk).update(started_at=timezone.now() - timedelta(seconds=60))

    tasks.hand_back_lost()

    # Its batches are tasks of their own: only the scan's time limit ends it.
    assert Job.objects.get(pk=job.pk).status == Status.PENDING
