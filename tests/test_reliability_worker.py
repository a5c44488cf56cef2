"""Faults 1 and 3 with real `qcluster` processes: SIGKILL mid-scan, and the task timeout."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest
from django.conf import LazySettings
from django_q.models import Task

from stoat.library.models import Video
from stoat.scans import lifecycle, services, tasks
from stoat.scans.models import BatchStatus, Job, ScanBatch, Status
from tests.hanging import hanging_file
from tests.media import make_clip
from tests.worker import qcluster, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# Small limits so that a lost worker is noticed, and its task re-delivered, within seconds.
FAST = {
    "STOAT_WORKERS": "1",
    "STOAT_PROGRESS_INTERVAL": "0",
    "STOAT_HEARTBEAT_INTERVAL": "0.3",
    "STOAT_HEARTBEAT_STALE": "1",
    "STOAT_FILE_TIME_LIMIT": "30",
    "STOAT_TASK_TIMEOUT": "20",
    "STOAT_TASK_RETRY": "4",
}


STALLED = "m_stalled.mp4"


@pytest.fixture(autouse=True)
def fast_heartbeat(settings: LazySettings) -> None:
    settings.STOAT_HEARTBEAT_INTERVAL = 0.3
    settings.STOAT_HEARTBEAT_STALE = 1


def library(root: Path, before: int, after: int) -> Path:
    """`before` clips, one whose read will hang, `after` clips, in the order they are read."""
    for index in range(before):
        make_clip(root / f"a{index}.mp4")
    for index in range(after):
        make_clip(root / f"z{index}.mp4")
    return make_clip(root / STALLED)


def job_row(job: Job) -> Job:
    return Job.objects.get(pk=job.pk)


def ended_and_recorded(job: Job) -> bool:
    """The job is terminal and the worker has recorded its scan task's result."""
    return job_row(job).is_terminal and Task.objects.filter(name=f"scan-{job.pk}").exists()


def kill(cluster: subprocess.Popen[bytes]) -> None:
    """SIGKILL the whole cluster at once, as the OOM killer or a power cut would.

    Also how a test ends a cluster once it has seen what it waited for: a graceful stop waits for
    django-q2's shutdown timers and tells the test nothing more.
    """
    if cluster.poll() is None:
        os.killpg(cluster.pid, signal.SIGKILL)
    cluster.wait(timeout=10)


def kill_inside_the_stalled_read(job: Job, stored: int, data_dir: Path, **env: str) -> None:
    """Start a cluster, wait until `stored` files are stored and the worker beats inside the
    hanging read, then kill it."""
    with qcluster(data_dir, **FAST, **env) as cluster:
        try:
            wait_for(lambda: job_row(job).processed == stored, 30, f"{stored} files stored")
            beat = job_row(job).heartbeat_at
            assert beat is not None
            # The batch holding the hanging file beats: its reader is inside that read.
            stuck = ScanBatch.objects.filter(
                job=job, status=BatchStatus.RUNNING, items__contains=STALLED, heartbeat_at__gt=beat
            )
            wait_for(stuck.exists, 10, "a beat while stuck")
        finally:
            kill(cluster)
    row = job_row(job)
    assert row.status == Status.RUNNING and Video.objects.count() == stored


def test_a_worker_killed_mid_scan_is_resumed_by_the_next_worker_keeping_its_counters(
    library_dir: Path, data_dir: Path
) -> None:
    stalled = library(library_dir, before=4, after=3)
    with hanging_file(stalled):
        job = services.start_scan(str(library_dir)).job
        kill_inside_the_stalled_read(job, 4, data_dir)

    with qcluster(data_dir, **FAST) as second:
        try:
            wait_for(lambda: job_row(job).is_terminal, 40, "the resumed scan to end")
        finally:
            kill(second)

    job.refresh_from_db()
    assert job.status == Status.COMPLETE
    # Files stored before the kill stay counted as new: nothing is read or counted twice.
    assert (job.found, job.processed, job.unchanged, job.new, job.error_count) == (8, 8, 0, 8, 0)
    assert Video.objects.count() == Video.objects.values("path_key").distinct().count() == 8
    assert ScanBatch.objects.get(job=job).losses == 1


def test_a_job_with_no_live_worker_waits_then_a_new_worker_finishes_it(
    library_dir: Path, data_dir: Path
) -> None:
    stalled = library(library_dir, before=3, after=2)
    with hanging_file(stalled):
        job = services.start_scan(str(library_dir)).job
        kill_inside_the_stalled_read(job, 3, data_dir)

    wait_for(lambda: lifecycle.is_silent(job_row(job)), 5, "the heartbeat to go stale")
    # What the schedule runs: the batch goes back to the queue, the job waits for a worker.
    assert tasks.reap_lost_jobs() == "handed back 2 lost scan(s) or batch(es)"
    row = job_row(job)
    assert row.status == Status.PENDING and row.waits_after_loss and row.processed == 3
    with qcluster(data_dir, **FAST) as second:
        try:
            wait_for(lambda: job_row(job).is_terminal, 40, "a new worker to finish the scan")
        finally:
            kill(second)

    job.refresh_from_db()
    assert (job.status, job.found, job.processed, job.new) == (Status.COMPLETE, 6, 6, 6)
    assert Video.objects.count() == 6


def test_a_killed_batch_of_a_fanned_out_scan_is_resumed(library_dir: Path, data_dir: Path) -> None:
    stalled = library(library_dir, before=3, after=2)
    batches = {"STOAT_BATCH_MIN": "2", "STOAT_MAX_BATCHES": "2"}
    with hanging_file(stalled):
        job = services.start_scan(str(library_dir)).job
        # Batch 1 reads a0-a2; batch 2 hangs on m_stalled.mp4 and is killed.
        kill_inside_the_stalled_read(job, 3, data_dir, **batches)
    assert (job_row(job).batches_total, job_row(job).batches_done) == (2, 1)

    with qcluster(data_dir, **FAST, **batches) as second:
        try:
            wait_for(lambda: job_row(job).is_terminal, 40, "the resumed batch to end the scan")
        finally:
            kill(second)

    job.refresh_from_db()
    assert job.status == Status.COMPLETE
    assert (job.found, job.processed, job.new, job.error_count, job.batches_done) == (6, 6, 6, 0, 2)
    assert Video.objects.count() == Video.objects.values("path_key").distinct().count() == 6


def test_a_scan_past_the_task_timeout_ends_as_timeout_with_its_partial_result(
    library_dir: Path, data_dir: Path
) -> None:
    stalled = library(library_dir, before=3, after=1)
    limits = {**FAST, "STOAT_TASK_TIMEOUT": "3", "STOAT_TASK_RETRY": "60"}
    with hanging_file(stalled), qcluster(data_dir, **limits) as cluster:
        job = services.start_scan(str(library_dir)).job
        try:
            wait_for(lambda: ended_and_recorded(job), 30, "the task timeout to end the scan")
        finally:
            kill(cluster)

    job.refresh_from_db()
    assert job.status == Status.TIMEOUT
    assert (job.found, job.processed, job.new, job.failure_reason) == (5, 3, 3, "")
    assert Video.objects.count() == 3
    assert Task.objects.get(name=f"scan-{job.pk}").result.endswith("job timeout")
