"""Real `qcluster` processes, as on hosts of their own, SIGKILLed mid-scan: the scan still ends
complete with every file stored once. Runs on SQLite + the ORM broker, and again on
PostgreSQL + Redis in the suite's PostgreSQL pass (Redis never re-delivers a task)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from stoat.library.models import Video
from stoat.scans import services
from stoat.scans.models import BatchStatus, Job, ScanBatch, Status
from tests.media import make_clip
from tests.worker import Host, start_host, stop_cluster, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

FILES = 960
BATCHES = 6
STALE = 4.0
# Quick to notice a lost worker; batches of 160 files take long enough to be caught half read.
FAST = {
    "STOAT_HEARTBEAT_INTERVAL": "0.3",
    "STOAT_HEARTBEAT_STALE": str(STALE),
    "STOAT_PROGRESS_INTERVAL": "0.1",
    "STOAT_BATCH_MIN": str(FILES // BATCHES),
    "STOAT_MAX_BATCHES": str(BATCHES),
}


@pytest.fixture
def hosts(tmp_path: Path) -> Iterator[dict[str, Host]]:
    started: dict[str, Host] = {}
    yield started
    for host in started.values():
        stop_cluster(host.process, timeout=5)


def start(hosts: dict[str, Host], name: str, folder: Path) -> Host:
    host = start_host(name, folder, **FAST)
    hosts[name] = host
    host.wait_ready()
    return host


def library_of(folder: Path) -> None:
    clip = make_clip(folder / "clip0000.mp4")
    for index in range(1, FILES):
        shutil.copyfile(clip, folder / f"clip{index:04d}.mp4")


def reading_on(job: Job, host: str) -> bool:
    """`host` holds a batch of the job and has stored part of it."""
    return ScanBatch.objects.filter(
        job=job, worker__startswith=f"{host}:", status=BatchStatus.RUNNING, read__gt=0
    ).exists()


def ended(job: Job, timeout: float) -> Job:
    wait_for(lambda: Job.objects.get(pk=job.pk).is_terminal, timeout, f"job {job.pk} to end")
    return Job.objects.get(pk=job.pk)


def assert_stored_once(job: Job) -> None:
    assert job.status == Status.COMPLETE, job.failure_reason
    assert (job.found, job.processed, job.new, job.unchanged, job.error_count) == (
        FILES,
        FILES,
        FILES,
        0,
        0,
    )
    assert Video.objects.count() == FILES
    rows = list(ScanBatch.objects.filter(job=job))
    assert all(b.status == BatchStatus.DONE and b.read == b.files for b in rows)
    assert sum(b.read for b in rows) == FILES  # no file counted twice
    assert job.batches_reading == 0 and job.batches_done == job.batches_total == BATCHES


def test_a_host_killed_mid_scan_has_its_batch_finished_by_the_other(
    hosts: dict[str, Host], tmp_path: Path, library_dir: Path
) -> None:
    library_of(library_dir)
    start(hosts, "host-a", tmp_path / "hosts")
    host_b = start(hosts, "host-b", tmp_path / "hosts")
    job = services.start_scan(str(library_dir)).job
    wait_for(lambda: reading_on(job, "host-b"), 60, "host-b to be half-way through a batch")

    host_b.kill()

    job = ended(job, 90)
    assert_stored_once(job)
    taken = ScanBatch.objects.filter(job=job, losses=1)
    assert taken.exists(), "host-b's batch should have been handed on"
    assert all(b.worker.startswith("host-a:") for b in taken)
    assert job.worker_losses == 1 and job.worker_lost_at is not None


def test_the_only_host_killed_and_started_again_resumes_the_scan(
    hosts: dict[str, Host], tmp_path: Path, library_dir: Path
) -> None:
    library_of(library_dir)
    host = start(hosts, "host-a", tmp_path / "hosts")
    job = services.start_scan(str(library_dir)).job
    wait_for(lambda: reading_on(job, "host-a"), 60, "host-a to be half-way through a batch")

    host.kill()
    stored = Job.objects.get(pk=job.pk).new
    assert 0 < stored < FILES
    silent = ScanBatch.objects.filter(job=job, status=BatchStatus.RUNNING)
    wait_for(
        lambda: (
            not silent.filter(heartbeat_at__gte=timezone.now() - timedelta(seconds=STALE)).exists()
        ),
        30,
        "the lost batches to go silent",
    )
    start(hosts, "host-a", tmp_path / "hosts")

    job = ended(job, 90)
    assert_stored_once(job)
    assert job.worker_losses == 1
