"""Two qcluster processes, as on two hosts, sharing one PostgreSQL database and one Redis queue."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from stoat.library.models import Video
from stoat.scans import lifecycle, services
from stoat.scans.models import BatchStatus, Job, ScanBatch, Status
from tests.media import make_clip
from tests.worker import Host, start_host, stop_cluster, wait_for

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql" or not settings.STOAT_BROKER_URL,
        reason="workers on several hosts need a shared network database and broker "
        "(PostgreSQL + Redis); SQLite + the ORM broker serve one machine",
    ),
]

# 800 files in 8 batches of 100: more batch tasks than two one-worker clusters hold at once
# (one running, two prefetched each), and each batch reads long enough to be caught mid-way.
FILES = 800
BATCHES = 8


def library_of(folder: Path, count: int = FILES) -> None:
    """`count` distinct files made from one real clip: copying is much faster than encoding."""
    clip = make_clip(folder / "clip0000.mp4")
    for index in range(1, count):
        shutil.copyfile(clip, folder / f"clip{index:04d}.mp4")


Hosts = dict[str, Host]


def start(folder: Path, name: str) -> Host:
    return start_host(
        name,
        folder,
        STOAT_BATCH_MIN=str(FILES // BATCHES // 2),
        STOAT_MAX_BATCHES=str(BATCHES),
        STOAT_PROGRESS_INTERVAL="0.1",
        # A killed host's batches are handed on within seconds.
        STOAT_HEARTBEAT_INTERVAL="0.5",
        STOAT_HEARTBEAT_STALE="4",
    )


@pytest.fixture(scope="module")
def hosts(django_db_setup: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hosts]:
    """host-a and host-b, started once for this module (starting takes seconds).

    A test may replace one (a restart); the kill test comes last.
    """
    folder = tmp_path_factory.mktemp("hosts")
    running = {name: start(folder, name) for name in ("host-a", "host-b")}
    try:
        for host in running.values():
            host.wait_ready()
        yield running
    finally:
        for host in running.values():
            stop_cluster(host.process, timeout=5)


def wait_until_ended(job: Job, timeout: float = 60.0) -> Job:
    wait_for(lambda: Job.objects.get(pk=job.pk).is_terminal, timeout, f"job {job.pk} to end")
    job.refresh_from_db()
    return job


def batches_by_host(job_id: int) -> dict[str, list[ScanBatch]]:
    hosts: dict[str, list[ScanBatch]] = {}
    for batch in ScanBatch.objects.filter(job_id=job_id).exclude(worker=""):
        hosts.setdefault(batch.worker.split(":")[0], []).append(batch)
    return hosts


def test_two_hosts_share_the_batches_of_one_scan(hosts: Hosts, library_dir: Path) -> None:
    library_of(library_dir)

    job = wait_until_ended(services.start_scan(str(library_dir)).job)

    assert job.status == Status.COMPLETE, job.failure_reason
    assert (job.found, job.processed, job.new, job.error_count) == (FILES, FILES, FILES, 0)
    assert Video.objects.count() == job.new
    assert (job.batches_total, job.batches_done) == (BATCHES, BATCHES)
    batches = ScanBatch.objects.filter(job=job)
    assert all(b.status == BatchStatus.DONE and b.read == b.files for b in batches)
    assert sum(b.read for b in batches) == FILES
    readers = batches_by_host(job.pk)
    assert set(readers) == {"host-a", "host-b"}, "each host should have read part of the scan"


def test_a_cancel_stops_the_batches_on_both_hosts(hosts: Hosts, library_dir: Path) -> None:
    library_of(library_dir)
    job = services.start_scan(str(library_dir)).job
    wait_for(lambda: len(batches_by_host(job.pk)) == 2, 30, "both hosts to take a batch")

    assert services.cancel_job(job.pk).outcome is lifecycle.CancelOutcome.REQUESTED
    job = wait_until_ended(job, timeout=20)

    assert job.status == Status.CANCELLED
    assert job.processed < job.found == FILES
    assert Video.objects.count() == job.new == job.processed
    # Every batch ends, and none that started after the cancel read anything.
    wait_for(
        lambda: not ScanBatch.objects.filter(job=job).exclude(status=BatchStatus.DONE).exists(),
        20,
        "every batch to end",
    )
    batches = list(ScanBatch.objects.filter(job=job))
    assert job.cancel_requested_at is not None
    late = [b for b in batches if b.started_at and b.started_at > job.cancel_requested_at]
    assert late, "some batches should still have been queued when the cancel came"
    assert all(b.read == 0 for b in late)
    assert sum(b.read for b in batches) == job.processed


def test_a_host_stopped_for_a_restart_finishes_what_it_took_and_the_scan_completes(
    hosts: Hosts, library_dir: Path
) -> None:
    library_of(library_dir)
    job = services.start_scan(str(library_dir)).job
    running_on_b = ScanBatch.objects.filter(
        job=job, worker__startswith="host-b:", status=BatchStatus.RUNNING
    )
    wait_for(running_on_b.exists, 30, "host-b to be reading a batch")

    # What `systemctl restart` does: SIGTERM to the qcluster, wait, start it again.
    old_b = hosts["host-b"]
    stop_cluster(old_b.process, timeout=30)
    assert old_b.process.returncode == 0, old_b.log.read_text()
    assert not running_on_b.exists(), "host-b left a batch unfinished"
    hosts["host-b"] = start(old_b.log.parent, "host-b")

    job = wait_until_ended(job)
    assert job.status == Status.COMPLETE, job.failure_reason
    assert (job.processed, job.new) == (FILES, FILES) == (FILES, Video.objects.count())
    assert job.batches_done == job.batches_total == BATCHES
    hosts["host-b"].wait_ready()


def test_a_host_killed_mid_scan_has_what_it_held_finished_by_the_other(
    hosts: Hosts, library_dir: Path
) -> None:
    host_a, host_b = hosts["host-a"], hosts["host-b"]
    library_of(library_dir)
    job = services.start_scan(str(library_dir)).job
    running_on_b = ScanBatch.objects.filter(
        job=job, worker__startswith="host-b:", status=BatchStatus.RUNNING, read__gt=0
    )
    wait_for(running_on_b.exists, 30, "host-b to be half-way through a batch")

    # What host-b held dies with it: its batch half read, and the tasks it had prefetched
    # (Redis handed those out once and never again).
    host_b.kill()

    job = wait_until_ended(job, timeout=90)
    assert host_a.process.poll() is None
    assert job.status == Status.COMPLETE, job.failure_reason
    assert (job.found, job.processed, job.new, job.error_count) == (FILES, FILES, FILES, 0)
    assert Video.objects.count() == FILES
    batches = list(ScanBatch.objects.filter(job=job))
    assert all(b.status == BatchStatus.DONE and b.read == b.files for b in batches)
    assert sum(b.read for b in batches) == FILES
    handed_on = [b for b in batches if b.losses]
    assert handed_on and all(b.worker.startswith("host-a:") for b in handed_on)
