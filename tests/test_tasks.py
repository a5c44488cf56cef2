from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import LazySettings

from stoat.library.models import Video
from stoat.scans import lifecycle
from stoat.scans.models import Job, ScanBatch, Status
from stoat.scans.scanner import ReadItem
from stoat.scans.tasks import run_batch, split_batches

pytestmark = pytest.mark.django_db

Clips = Callable[..., list[Path]]


def test_a_large_scan_fans_out_into_recorded_batches(
    clips: Clips, library_dir: Path, settings: LazySettings, sync_tasks: None
) -> None:
    settings.STOAT_BATCH_MIN = 2
    settings.STOAT_WORKER_NAME = "host-a"
    clips(7)

    job = lifecycle.create_scan(str(library_dir)).job
    lifecycle.default_enqueue(job.pk)

    job.refresh_from_db()
    assert job.status == Status.COMPLETE
    assert (job.found, job.processed, job.new, job.batches_total, job.batches_done) == (
        7,
        7,
        7,
        4,
        4,
    )
    assert Video.objects.count() == 7
    batches = list(ScanBatch.objects.filter(job=job))
    assert [(b.number, b.files, b.read, b.status) for b in batches] == [
        (1, 2, 2, "done"),
        (2, 2, 2, "done"),
        (3, 2, 2, "done"),
        (4, 1, 1, "done"),
    ]
    assert {b.worker for b in batches} == {f"host-a:{os.getpid()}"}
    assert all(b.started_at and b.finished_at and b.started_at <= b.finished_at for b in batches)


def test_a_batch_delivered_twice_reads_its_files_once(clips: Clips, library_dir: Path) -> None:
    paths = clips(2)
    job = Job.objects.create(path=str(library_dir), status=Status.RUNNING)
    lifecycle.plan_batches(job.pk, [2])
    items = [(str(p), p.stat().st_size, p.stat().st_mtime_ns, False) for p in paths]

    first = run_batch(job.pk, 1, items)
    second = run_batch(job.pk, 1, items)

    assert first == "batch 1 read 2 of 2; job complete"
    assert second == "the batch was already taken"
    job.refresh_from_db()
    assert (job.processed, job.new, job.batches_done) == (2, 2, 1)


def test_a_batch_of_a_cancelled_scan_reads_nothing_but_still_ends(
    clips: Clips, library_dir: Path
) -> None:
    paths = clips(2)
    job = Job.objects.create(path=str(library_dir), status=Status.RUNNING)
    lifecycle.plan_batches(job.pk, [2])
    lifecycle.request_cancel(job.pk)
    items = [(str(p), p.stat().st_size, p.stat().st_mtime_ns, False) for p in paths]

    assert run_batch(job.pk, 1, items) == "batch 1 read 0 of 2; job cancelled"
    assert Video.objects.count() == 0
    assert ScanBatch.objects.get(job=job).status == "done"


def test_split_batches_caps_the_number_of_batches(settings: LazySettings) -> None:
    settings.STOAT_BATCH_MIN = 1
    settings.STOAT_MAX_BATCHES = 3

    items = [ReadItem(f"/v/{n}.mp4", 1, 1, False) for n in range(10)]
    assert [len(b) for b in split_batches(items)] == [4, 4, 2]
