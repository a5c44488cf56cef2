"""A scan split into batch tasks ends like the same scan run as one task, and stops as one."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import LazySettings

from stoat.library.models import Video
from stoat.scans import batches, lifecycle, scanner, services, tasks
from stoat.scans.models import Job, Phase, ScanError, Status
from stoat.scans.runner import run_here
from tests.media import make_audio_file, make_clip, truncate
from tests.worker import qcluster, wait_for

pytestmark = pytest.mark.django_db

COUNTERS = (
    "found",
    "processed",
    "new",
    "updated",
    "unchanged",
    "skipped",
    "error_count",
    "missing",
)
# Everything a scan stores about a video except what differs by run (ids, times).
ROW_FIELDS = [
    f.name for f in Video._meta.concrete_fields if f.name not in {"id", "created_at", "updated_at"}
]

Clips = Callable[..., list[Path]]
OnCommit = Callable[..., Any]


def mixed_library(root: Path, clips: Clips) -> None:
    clips(9)
    clips(4, sub="sub", ext="mkv", audio=True)
    make_audio_file(root / "sub" / "song.mp4")
    (root / "empty.mp4").touch()
    truncate(make_clip(root / "cut.mp4", seconds=2), keep=0.4)


def scan_through_the_queue(folder: Path, on_commit: OnCommit) -> Job:
    """Ask for a scan the way the page does; `sync_tasks` runs every task it queues at once."""
    with on_commit(execute=True):
        job = services.start_scan(str(folder)).job
    job.refresh_from_db()
    return job


def rows() -> list[tuple[object, ...]]:
    return sorted(Video.objects.values_list(*ROW_FIELDS))


def counters(job: Job) -> tuple[int, ...]:
    return tuple(getattr(job, name) for name in COUNTERS)


def test_a_fanned_out_scan_stores_the_same_rows_and_counts_as_one_task(
    library_dir: Path,
    data_dir: Path,
    clips: Clips,
    settings: LazySettings,
    sync_tasks: None,
    django_capture_on_commit_callbacks: OnCommit,
) -> None:
    mixed_library(library_dir, clips)
    settings.STOAT_BATCH_MIN = 1000
    single = scan_through_the_queue(library_dir, django_capture_on_commit_callbacks)
    single_rows = rows()
    single_errors = sorted(ScanError.objects.filter(job=single).values_list("path", "message"))
    Video.objects.all().delete()
    shutil.rmtree(data_dir / "thumbs")

    settings.STOAT_BATCH_MIN = 3
    fanned = scan_through_the_queue(library_dir, django_capture_on_commit_callbacks)

    assert (single.status, fanned.status) == (Status.COMPLETE, Status.COMPLETE)
    assert single.batches_total == single.batches_done == 1
    assert fanned.batches_total == fanned.batches_done == 6
    assert counters(fanned) == counters(single) == (16, 16, 13, 0, 0, 1, 2, 0)
    assert rows() == single_rows
    assert len(single_rows) == 13
    fanned_errors = sorted(ScanError.objects.filter(job=fanned).values_list("path", "message"))
    assert fanned_errors == single_errors
    assert all((data_dir / "thumbs" / v.thumbnail).is_file() for v in Video.objects.all())
    assert fanned.phase == Phase.DONE and fanned.fraction == 1.0


def test_a_fanned_out_rescan_reads_only_the_changed_files(
    library_dir: Path,
    clips: Clips,
    settings: LazySettings,
    sync_tasks: None,
    django_capture_on_commit_callbacks: OnCommit,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.STOAT_BATCH_MIN = 2
    paths = clips(10)
    scan_through_the_queue(library_dir, django_capture_on_commit_callbacks)
    for path in paths[:5]:
        make_clip(path, seconds=2)
    paths[9].unlink()
    read: list[str] = []
    real_read = scanner.read_video

    def counting_read(item: scanner.ReadItem) -> Video:
        read.append(Path(item.path).name)
        return real_read(item)

    monkeypatch.setattr(scanner, "read_video", counting_read)

    job = scan_through_the_queue(library_dir, django_capture_on_commit_callbacks)

    assert sorted(read) == sorted(path.name for path in paths[:5])
    assert job.batches_total == job.batches_done == 3
    assert counters(job) == (9, 9, 0, 5, 4, 0, 0, 1)
    assert Video.objects.filter(duration__gt=1.5).count() == 5


def test_a_cancel_during_a_fanned_out_scan_stops_every_batch_and_rows_equal_counts(
    library_dir: Path,
    clips: Clips,
    settings: LazySettings,
    sync_tasks: None,
    django_capture_on_commit_callbacks: OnCommit,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clips(12)
    settings.STOAT_BATCH_MIN = 2
    settings.STOAT_PROGRESS_INTERVAL = 0
    read: list[str] = []
    seen_while_reading: list[str] = []
    real_read = scanner.read_video

    def read_then_cancel(item: scanner.ReadItem) -> Video:
        read.append(item.path)
        if len(read) == 5:
            # The fifth file is the first of the third batch: it finishes, nothing after it.
            result = services.cancel_job(Job.objects.get().pk)
            assert result.job is not None
            # A batch is still reading: the job cannot end under it.
            seen_while_reading.append(result.job.status)
        return real_read(item)

    monkeypatch.setattr(scanner, "read_video", read_then_cancel)

    job = scan_through_the_queue(library_dir, django_capture_on_commit_callbacks)

    assert seen_while_reading == [Status.RUNNING]
    assert job.status == Status.CANCELLED
    assert len(read) == 5
    assert job.batches_total == job.batches_done == 6
    assert job.batches_reading == 0
    assert (job.found, job.processed, job.new, job.error_count) == (12, 5, 5, 0)
    assert Video.objects.count() == job.new + job.updated == 5
    assert job.finished_at is not None and job.phase == Phase.DONE


def test_batches_queued_for_a_job_that_already_ended_do_no_work(
    library_dir: Path,
    clips: Clips,
    settings: LazySettings,
    sync_tasks: None,
    django_capture_on_commit_callbacks: OnCommit,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clips(6)
    settings.STOAT_BATCH_MIN = 2
    read: list[str] = []
    real_read = scanner.read_video

    def read_then_fail(item: scanner.ReadItem) -> Video:
        read.append(item.path)
        if len(read) == 1:
            # Ended by someone else (the reaper, an admin): the job is no longer running.
            lifecycle.finish(Job.objects.get().pk, Status.FAILED, failure_reason="worker lost")
        return real_read(item)

    monkeypatch.setattr(scanner, "read_video", read_then_fail)

    job = scan_through_the_queue(library_dir, django_capture_on_commit_callbacks)

    assert len(read) == 1
    assert (job.status, job.failure_reason, job.processed) == (Status.FAILED, "worker lost", 0)
    assert Video.objects.count() == 0


def test_a_cancel_between_batches_ends_the_job_at_once_and_queued_batches_read_nothing(
    library_dir: Path, clips: Clips, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = clips(4)
    job = lifecycle.create_scan(str(library_dir)).job
    assert lifecycle.claim(job.pk)
    assert lifecycle.progress(job.pk, found=4, found_final=True)
    items = [(str(path), 1, 1, False) for path in paths]
    assert batches.plan(job.pk, [items[:2], items[2:]])
    read: list[str] = []
    monkeypatch.setattr(scanner, "read_video", lambda item: read.append(item.path))

    result = services.cancel_job(job.pk)

    assert result.outcome is lifecycle.CancelOutcome.REQUESTED
    assert result.job is not None and result.job.status == Status.CANCELLED
    # The first batch task to come counts both, reading nothing.
    assert tasks.run_batch(job.pk, 1) == "batches 1 (skipped), 2 (skipped); job cancelled"
    assert tasks.run_batch(job.pk, 2) == "batch already taken"
    job.refresh_from_db()
    assert read == []
    assert (job.status, job.processed, job.batches_done, job.batches_reading) == (
        Status.CANCELLED,
        0,
        2,
        0,
    )


def test_a_running_scan_that_is_not_fanned_out_is_not_ended_by_the_cancel_itself(
    library_dir: Path,
) -> None:
    job = lifecycle.create_scan(str(library_dir)).job
    assert lifecycle.claim(job.pk)

    result = services.cancel_job(job.pk)

    # Its one task is walking or reading: it stops at its next file and ends the job itself.
    assert result.job is not None and result.job.status == Status.RUNNING


def test_a_cancel_while_planning_queues_no_batch(
    library_dir: Path,
    clips: Clips,
    settings: LazySettings,
    sync_tasks: None,
    django_capture_on_commit_callbacks: OnCommit,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clips(6)
    settings.STOAT_BATCH_MIN = 2
    real_plan = scanner.Scanner.plan

    def plan_then_cancel(self: scanner.Scanner, *args: Any) -> scanner.Plan:
        plan = real_plan(self, *args)
        lifecycle.request_cancel(self.job.pk)
        return plan

    monkeypatch.setattr(scanner.Scanner, "plan", plan_then_cancel)

    job = scan_through_the_queue(library_dir, django_capture_on_commit_callbacks)

    assert (job.status, job.batches_total, job.processed, job.found) == (
        Status.CANCELLED,
        0,
        0,
        6,
    )
    assert Video.objects.count() == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_batches_read_in_parallel_by_two_real_workers_store_what_one_task_stores(
    library_dir: Path, data_dir: Path, clips: Clips
) -> None:
    mixed_library(library_dir, clips)
    clips(24, sub="more")
    single = lifecycle.create_scan(str(library_dir)).job
    assert run_here(single) == Status.COMPLETE
    single.refresh_from_db()
    single_rows = rows()
    Video.objects.all().delete()

    env = {"STOAT_BATCH_MIN": "4", "STOAT_WORKERS": "2", "STOAT_PROGRESS_INTERVAL": "0.05"}
    with qcluster(data_dir, **env):
        fanned = services.start_scan(str(library_dir)).job
        wait_for(lambda: Job.objects.get(pk=fanned.pk).is_terminal, 60, "the scan to end")
    fanned.refresh_from_db()

    assert fanned.status == Status.COMPLETE
    assert fanned.batches_total == fanned.batches_done == 10
    assert fanned.batches_reading == 0
    # Counters added by parallel batches lose nothing, and match the rows stored.
    assert counters(fanned) == counters(single) == (40, 40, 37, 0, 0, 1, 2, 0)
    assert rows() == single_rows
