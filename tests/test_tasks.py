from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from django.conf import LazySettings

from stoat.library.models import Video
from stoat.scans import batches, lifecycle, scanner, tasks
from stoat.scans.models import BatchStatus, Job, ScanBatch, Status
from tests.media import make_clip

pytestmark = pytest.mark.django_db


def copies(folder: Path, count: int) -> None:
    source = make_clip(folder / "source.mp4")
    for index in range(count - 1):
        shutil.copy(source, folder / f"copy{index:03d}.mp4")


def queued_scan(folder: Path) -> Job:
    return lifecycle.create_scan(str(folder)).job


def test_a_small_scan_is_read_in_its_own_task(library_dir: Path, sync_tasks: None) -> None:
    copies(library_dir, 3)
    job = queued_scan(library_dir)

    # One batch, read here and recorded like any other: a lost worker's is taken over.
    assert tasks.run_scan(job.pk) == "batches 1; job complete"

    job.refresh_from_db()
    assert (job.status, job.new, job.batches_total, job.batches_done) == (Status.COMPLETE, 3, 1, 1)


def test_a_large_scan_fans_out_and_the_last_batch_concludes_it(
    library_dir: Path, sync_tasks: None, settings: LazySettings
) -> None:
    settings.STOAT_BATCH_MIN = 3
    settings.STOAT_MAX_BATCHES = 4
    copies(library_dir, 10)
    job = queued_scan(library_dir)

    # Run at once as they are queued, batch 2's task reads every batch: the first one too, which
    # the scan's own task, only now free, finds taken.
    assert tasks.run_scan(job.pk) == "fanned out into 4 batches; batch already taken"

    job.refresh_from_db()
    assert (job.status, job.batches_total, job.batches_done) == (Status.COMPLETE, 4, 4)
    assert (job.found, job.processed, job.new) == (10, 10, 10)
    assert Video.objects.count() == 10


def test_the_scan_task_reads_the_first_batch_itself_then_the_batches_not_yet_taken(
    library_dir: Path, empty_queue: None, settings: LazySettings
) -> None:
    settings.STOAT_BATCH_MIN = 3
    settings.STOAT_MAX_BATCHES = 4
    copies(library_dir, 10)
    job = queued_scan(library_dir)

    # No worker took the queued batches meanwhile: this one reads them all, in order.
    assert tasks.run_scan(job.pk) == "fanned out into 4 batches; batches 1, 2, 3, 4; job complete"

    # Tasks were queued for the other batches only; when they come, there is nothing left.
    assert tasks.queued_tasks() == 3
    assert tasks.run_batch(job.pk, 3) == "batch already taken"
    job.refresh_from_db()
    assert (job.status, job.batches_done, job.processed, job.new) == (Status.COMPLETE, 4, 10, 10)
    assert Video.objects.count() == 10


def test_split_batches_keeps_every_file_once() -> None:
    items = [scanner.ReadItem(f"/v/{n}.mp4", n, n, False) for n in range(250)]
    batches = tasks.split_batches(items)
    assert [path for batch in batches for path, *_ in batch] == [i.path for i in items]
    assert tasks.split_batches([]) == []


def test_a_cancelled_job_is_not_run(library_dir: Path) -> None:
    job = queued_scan(library_dir)
    lifecycle.request_cancel(job.pk)
    assert tasks.run_scan(job.pk).startswith("not claimed")


def test_a_batch_of_a_job_that_ended_does_no_work_but_still_ends(library_dir: Path) -> None:
    job = queued_scan(library_dir)
    lifecycle.claim(job.pk)
    item = (str(make_clip(library_dir / "a.mp4")), 1, 1, False)
    batches.plan(job.pk, [[item]])
    lifecycle.finish(job.pk, Status.FAILED, failure_reason="ended elsewhere")

    assert tasks.run_batch(job.pk, 1) == "batches 1 (skipped); job failed"
    assert Video.objects.count() == 0
    assert ScanBatch.objects.get(job=job).status == BatchStatus.DONE


def test_batches_after_a_cancel_do_no_work_and_the_job_ends_without_waiting_for_them(
    library_dir: Path,
) -> None:
    clip = make_clip(library_dir / "a.mp4")
    job = queued_scan(library_dir)
    lifecycle.claim(job.pk)
    lifecycle.progress(job.pk, found=2, found_final=True)
    item = (str(clip), 1, 1, False)
    batches.plan(job.pk, [[item], [item]])
    lifecycle.request_cancel(job.pk)
    # No batch was reading, so the cancel itself ended the job.
    assert Job.objects.get(pk=job.pk).status == Status.CANCELLED

    # The first batch task to come counts every batch left, reading nothing.
    assert tasks.run_batch(job.pk, 1) == "batches 1 (skipped), 2 (skipped); job cancelled"
    assert tasks.run_batch(job.pk, 2) == "batch already taken"
    assert Video.objects.count() == 0
    assert Job.objects.get(pk=job.pk).batches_done == 2


def test_a_batch_delivered_twice_reads_its_files_once(library_dir: Path) -> None:
    copies(library_dir, 2)
    job = queued_scan(library_dir)
    lifecycle.claim(job.pk)
    items = [(str(p), 1, 1, False) for p in sorted(library_dir.iterdir())]
    batches.plan(job.pk, [items])

    first = tasks.run_batch(job.pk, 1)
    second = tasks.run_batch(job.pk, 1)

    assert first == "batches 1; job complete"
    assert second == "batch already taken"
    job.refresh_from_db()
    assert (job.processed, job.new, job.batches_done) == (2, 2, 1)


def test_fanned_out_batches_record_who_read_them(
    library_dir: Path, sync_tasks: None, settings: LazySettings
) -> None:
    settings.STOAT_BATCH_MIN = 2
    settings.STOAT_MAX_BATCHES = 4
    settings.STOAT_WORKER_NAME = "host-a"
    copies(library_dir, 7)
    job = queued_scan(library_dir)

    tasks.run_scan(job.pk)

    rows = list(ScanBatch.objects.filter(job=job))
    assert [(b.number, b.files, b.read, b.status) for b in rows] == [
        (1, 2, 2, BatchStatus.DONE),
        (2, 2, 2, BatchStatus.DONE),
        (3, 2, 2, BatchStatus.DONE),
        (4, 1, 1, BatchStatus.DONE),
    ]
    assert {b.worker for b in rows} == {f"host-a:{os.getpid()}"}
    assert all(b.started_at and b.finished_at and b.started_at <= b.finished_at for b in rows)


def test_a_crashing_scan_ends_failed(library_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(self: scanner.Scanner) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(scanner.Scanner, "find", explode)
    job = queued_scan(library_dir)

    assert tasks.run_scan(job.pk) == "failed"
    job.refresh_from_db()
    assert job.status == Status.FAILED and "disk on fire" in job.failure_reason


def test_a_crashing_batch_ends_the_job_failed(
    library_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(self: scanner.Scanner, items: object) -> None:
        raise RuntimeError("bad batch")

    monkeypatch.setattr(scanner.Scanner, "read", explode)
    job = queued_scan(library_dir)
    lifecycle.claim(job.pk)
    batches.plan(job.pk, [[]])

    assert tasks.run_batch(job.pk, 1) == "batches 1 (failed); job failed"
    assert Job.objects.get(pk=job.pk).status == Status.FAILED
    assert ScanBatch.objects.get(job=job).status == BatchStatus.DONE


def test_enqueue_puts_the_scan_on_the_broker(library_dir: Path, empty_queue: None) -> None:
    job = queued_scan(library_dir)
    tasks.enqueue_scan(job.pk)
    assert tasks.queued_tasks() == 1
