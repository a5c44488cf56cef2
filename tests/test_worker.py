from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from stoat.library.models import Video
from stoat.scans.models import BatchStatus, Job, ScanBatch, Status
from stoat.scans.tasks import queued_tasks
from tests.media import make_clip
from tests.worker import qcluster, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def all_batches_ended(job: Job) -> bool:
    running = ScanBatch.objects.filter(job=job).exclude(status=BatchStatus.DONE).exists()
    return not running and queued_tasks() == 0


def job_status() -> str:
    return str(Job.objects.values_list("status", flat=True).get())


def test_a_real_worker_runs_a_scan_submitted_through_the_page(
    client: Client, library_dir: Path, data_dir: Path
) -> None:
    make_clip(library_dir / "a.mp4")
    make_clip(library_dir / "sub" / "b.mkv", audio=True)

    with qcluster(data_dir):
        response = client.post(
            reverse("scans:start"), {"path": str(library_dir), "recursive": "on"}
        )
        assert response.status_code == 302
        wait_for(lambda: job_status() == Status.COMPLETE, 30, "the scan to complete")

    job = Job.objects.get()
    assert (job.found, job.processed, job.new, job.error_count) == (2, 2, 2, 0)
    assert sorted(Video.objects.values_list("filename", flat=True)) == ["a.mp4", "b.mkv"]
    assert (data_dir / "thumbs" / Video.objects.get(filename="a.mp4").thumbnail).is_file()


def test_cancel_through_the_page_stops_a_real_worker_and_keeps_the_partial_result(
    client: Client, library_dir: Path, data_dir: Path
) -> None:
    source = make_clip(library_dir / "source.mp4", width=320, height=240, seconds=2)
    for index in range(400):
        shutil.copy(source, library_dir / f"copy{index:03d}.mp4")

    with qcluster(data_dir, STOAT_PROGRESS_INTERVAL="0.1", STOAT_BATCH_MIN="100"):
        client.post(reverse("scans:start"), {"path": str(library_dir)})
        job = Job.objects.get()
        wait_for(lambda: Job.objects.get(pk=job.pk).processed > 0, 30, "the first files")

        response = client.post(reverse("scans:cancel", args=[job.pk]))
        assert response.status_code == 200
        wait_for(lambda: job_status() == Status.CANCELLED, 10, "the scan to stop")

        # The job stays cancelled; no batch keeps writing after the end, however long it runs on:
        # compared once every batch has ended (queued ones without reading) and none is queued.
        job.refresh_from_db()
        stored = Video.objects.count()
        wait_for(lambda: all_batches_ended(job), 30, "every batch to end")
        assert ScanBatch.objects.filter(job=job).count() > 1
        assert Video.objects.count() == stored
        assert job_status() == Status.CANCELLED

    assert job.found == 401
    assert 0 < job.processed < job.found
    assert stored == job.new + job.updated == job.processed - job.error_count - job.skipped
    assert job.cancel_requested_at is not None and job.finished_at is not None
