"""Cancel keeps what was read: the files a scan set aside are settled when it is stopped."""

from __future__ import annotations

import shutil
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import LazySettings, settings
from django.utils import timezone

from stoat.library.models import Video, VideoMove
from stoat.library.probe import VideoFile, open_video
from stoat.scans import batches, lifecycle, parallel, scanner, services, tasks
from stoat.scans.batches import Claim
from stoat.scans.models import Job, ScanArrival, Status
from stoat.scans.runner import run_here
from tests.test_moves import distinct_clip, kept, scan

pytestmark = pytest.mark.django_db


def stop_on_first_read(monkeypatch: pytest.MonkeyPatch, end: Status) -> list[str]:
    """Once the first file the scanner probes is recorded, its job is asked to cancel (as the
    page's button does), or runs out of time. Returns the files probed."""
    probed: list[str] = []
    asked: list[int] = []
    record = scanner.Scanner.record

    def counting_open(path: str) -> VideoFile:
        probed.append(path)
        return open_video(path)

    def record_then_cancel(self: scanner.Scanner, *args: Any, **kwargs: Any) -> None:
        record(self, *args, **kwargs)
        if probed and not asked:
            asked.append(self.job.pk)
            if end is Status.CANCELLED:
                services.cancel_job(self.job.pk)
            else:
                # The job's time limit has passed: for this run, and for the batches after it.
                limit = timedelta(seconds=settings.STOAT_JOB_TIME_LIMIT + 1)
                Job.objects.filter(pk=self.job.pk).update(started_at=timezone.now() - limit)
                self.deadline = time.time() - 1

    monkeypatch.setattr(scanner, "open_video", counting_open)
    monkeypatch.setattr(scanner.Scanner, "record", record_then_cancel)
    return probed


def moved_and_copied(library_dir: Path) -> tuple[Video, Path, Path, list[Path]]:
    """A video moved into two places at once (copied across file systems, then removed), and
    new files after it in the walk: one of the two is the move, the other a copy."""
    original = distinct_clip(library_dir / "old" / "x.mp4", 1)
    scan(library_dir)
    before = Video.objects.get(filename="x.mp4")
    first, second = library_dir / "a1" / "x.mp4", library_dir / "a2" / "x.mp4"
    for target in (first, second):
        target.parent.mkdir()
        shutil.copy2(original, target)
    shutil.rmtree(original.parent)
    fresh = [distinct_clip(library_dir / "z" / f"v{n}.mp4", n) for n in range(2, 6)]
    return before, first, second, fresh


def assert_kept(before: Video, first: Path, second: Path, job: Job) -> Video:
    """The move is applied (same id, all its fields) and the copy stored as a new video."""
    moved = Video.objects.get(pk=before.pk)
    # Equal name, no inode match, equal mtime: the path decides, whatever the walk's order.
    assert (moved.path, moved.moved_from, moved.missing) == (
        str(first),
        str(before.path),
        False,
    )
    assert kept(moved) == kept(before)
    move = VideoMove.objects.get(video=moved)
    assert (move.from_path, move.to_path, move.job_id) == (before.path, str(first), job.pk)
    copy = Video.objects.get(path=str(second))
    assert copy.pk != before.pk
    assert (copy.fingerprint, copy.size, copy.duration, copy.width) == (
        before.fingerprint,
        before.size,
        before.duration,
        before.width,
    )
    assert copy.thumbnail and copy.missing is False
    assert not ScanArrival.objects.filter(job=job).exists()
    return copy


ENDS = [Status.CANCELLED, Status.TIMEOUT]


def scan_in_its_task(folder: Path) -> Job:
    """The scan's task as one worker runs it alone: it walks, queues batch 2 onwards, reads
    batch 1, then takes the batches whose tasks have not come yet."""
    job = lifecycle.create_scan(str(folder)).job
    tasks.run_scan(job.pk)
    job.refresh_from_db()
    return job


@pytest.mark.parametrize("end", ENDS)
def test_a_scan_stopped_after_setting_files_aside_keeps_them(
    library_dir: Path, monkeypatch: pytest.MonkeyPatch, end: Status
) -> None:
    before, first, second, fresh = moved_and_copied(library_dir)
    probed = stop_on_first_read(monkeypatch, end)

    job = lifecycle.create_scan(str(library_dir)).job
    assert run_here(job) == end
    job.refresh_from_db()

    copy = assert_kept(before, first, second, job)
    # One new file was read before the cancel was seen; the copy was read while settling.
    assert probed == [str(fresh[0]), str(second)]
    assert Video.objects.filter(path=str(fresh[0])).exists()
    assert (job.moved, job.new, job.missing, job.processed) == (1, 2, 0, 3)

    # Continuing finds the kept files as they were and reads only the rest.
    later = scan(library_dir)
    assert (later.moved, later.new, later.unchanged, later.updated) == (0, 3, 3, 0)
    assert Video.objects.get(pk=before.pk).path == str(first)
    assert Video.objects.get(pk=copy.pk).path == str(second)
    assert Video.objects.count() == 6


@pytest.mark.parametrize("end", ENDS)
def test_a_fanned_out_scan_stopped_in_its_first_batch_keeps_what_it_set_aside(
    library_dir: Path,
    settings: LazySettings,
    end: Status,
    empty_queue: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.STOAT_BATCH_MIN = 3
    before, first, second, fresh = moved_and_copied(library_dir)
    probed = stop_on_first_read(monkeypatch, end)

    job = scan_in_its_task(library_dir)

    assert (job.status, job.batches_total, job.batches_done) == (end, 2, 2)
    copy = assert_kept(before, first, second, job)
    assert probed == [str(fresh[0]), str(second)]
    assert (job.moved, job.new, job.processed) == (1, 2, 3)

    later = scan(library_dir)
    assert (later.moved, later.new, later.unchanged) == (0, 3, 3)
    assert Video.objects.get(pk=copy.pk).path == str(second)
    assert Video.objects.count() == 6


def test_a_cancel_between_batches_waits_for_the_next_batch_to_settle(
    library_dir: Path, settings: LazySettings, empty_queue: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.STOAT_BATCH_MIN = 3
    before, first, second, fresh = moved_and_copied(library_dir)
    claim = batches.claim
    answers: list[tuple[lifecycle.CancelOutcome, str]] = []

    def cancel_before_the_second(job_id: int, number: int | None, worker: str) -> Claim | None:
        if number is None and not answers:
            # Batch 1 ended, batch 2 not yet taken: no batch reads now, but the first set files
            # aside, so the job is not ended here.
            outcome = services.cancel_job(job_id).outcome
            answers.append((outcome, Job.objects.get(pk=job_id).status))
        return claim(job_id, number, worker)

    monkeypatch.setattr(batches, "claim", cancel_before_the_second)
    job = scan_in_its_task(library_dir)

    assert answers == [(lifecycle.CancelOutcome.REQUESTED, Status.RUNNING)]
    assert (job.status, job.batches_total, job.batches_done) == (Status.CANCELLED, 2, 2)
    assert_kept(before, first, second, job)
    # The first batch read all its files (the two set aside and v2); the second read none.
    assert (job.moved, job.new, job.processed) == (1, 2, 3)
    assert [Video.objects.filter(path=str(path)).exists() for path in fresh] == [
        True,
        False,
        False,
        False,
    ]


def test_reader_processes_read_the_copies_set_aside_after_a_cancel(
    library_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = distinct_clip(library_dir / "old" / "x.mp4", 1)
    scan(library_dir)
    before = Video.objects.get()
    # Enough copies that the reader processes read them.
    targets = [library_dir / f"a{n}" / "x.mp4" for n in range(parallel.MIN_FILES + 1)]
    for target in targets:
        target.parent.mkdir()
        shutil.copy2(original, target)
    shutil.rmtree(original.parent)
    fresh = [distinct_clip(library_dir / "z" / f"v{n}.mp4", n) for n in range(2, 12)]
    record = scanner.Scanner.record

    def record_then_cancel(self: scanner.Scanner, *args: Any, **kwargs: Any) -> None:
        # The readers probe in processes of their own: the first file recorded asks the cancel.
        record(self, *args, **kwargs)
        services.cancel_job(self.job.pk)

    monkeypatch.setattr(scanner.Scanner, "record", record_then_cancel)

    job = lifecycle.create_scan(str(library_dir)).job
    assert run_here(job, processes=2) == Status.CANCELLED
    job.refresh_from_db()

    assert Video.objects.get(pk=before.pk).path == str(targets[0])
    copies = Video.objects.filter(path__in=[str(t) for t in targets[1:]])
    assert sorted(copies.values_list("path", "fingerprint", "size")) == [
        (str(t), before.fingerprint, before.size) for t in targets[1:]
    ]
    read_fresh = Video.objects.filter(path__in=[str(p) for p in fresh]).count()
    assert 1 <= read_fresh < len(fresh)
    assert (job.moved, job.new) == (1, len(targets) - 1 + read_fresh)
    assert not ScanArrival.objects.exists()


@pytest.mark.parametrize("end", ENDS)
def test_a_scan_waiting_for_a_worker_that_set_files_aside_is_settled_by_its_next_batch(
    library_dir: Path,
    settings: LazySettings,
    end: Status,
    empty_queue: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.STOAT_BATCH_MIN = 3
    before, first, second, fresh = moved_and_copied(library_dir)
    queued: list[tuple[int, int]] = []
    # The second batch's task is held, as by a worker that was lost.
    monkeypatch.setattr(tasks, "enqueue_batch", lambda *task: queued.append(task))
    job = lifecycle.create_scan(str(library_dir)).job
    assert lifecycle.claim(job.pk)
    assert tasks.fan_out(job.pk, scanner.Scanner(Job.objects.get(pk=job.pk))) == 2
    # The scan's worker reads batch 1, and is lost before it takes batch 2.
    first_batch = batches.claim(job.pk, 1, "lost-host:1")
    assert first_batch is not None
    tasks.read_batch(first_batch)
    job.refresh_from_db()
    assert (job.status, job.batches_done, ScanArrival.objects.filter(job=job).count()) == (
        Status.RUNNING,
        1,
        2,
    )
    # Nobody reads it: the reaper says it waits for a worker (even once out of time).
    silent = timezone.now() - timedelta(minutes=5)
    Job.objects.filter(pk=job.pk).update(heartbeat_at=silent)
    if end is Status.TIMEOUT:
        limit = timedelta(seconds=settings.STOAT_JOB_TIME_LIMIT + 1)
        Job.objects.filter(pk=job.pk).update(started_at=timezone.now() - limit)
    assert batches.wait_for_workers(job.pk) == ([job.pk], [])
    assert Job.objects.get(pk=job.pk).status == Status.PENDING

    if end is Status.CANCELLED:
        answer = services.cancel_job(job.pk)
        assert (answer.outcome, Job.objects.get(pk=job.pk).status) == (
            lifecycle.CancelOutcome.REQUESTED,
            Status.PENDING,
        )
    assert tasks.run_batch(*queued[0]).endswith(f"job {end}")

    job.refresh_from_db()
    assert (job.status, job.batches_total, job.batches_done) == (end, 2, 2)
    assert_kept(before, first, second, job)
    assert (job.moved, job.new, job.processed) == (1, 2, 3)
