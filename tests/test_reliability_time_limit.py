"""Fault 2: a file that hangs the reader costs its time limit, never the scan."""

from __future__ import annotations

import threading
import time
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

import pytest
from django.conf import LazySettings
from django.db import connection

from stoat.core.time_limit import TimedOut, abandoned_steps, call_with_time_limit
from stoat.library import thumbnails
from stoat.library.models import Video
from stoat.library.probe import VideoFile
from stoat.library.thumbnails import Pick
from stoat.scans import lifecycle, scanner, steps
from stoat.scans.models import Job, ScanError, Status
from stoat.scans.runner import run_here
from tests.hanging import hanging_file, release
from tests.media import make_clip


def wait_for_abandoned_steps_to_end(seconds: float = 10) -> None:
    end = time.monotonic() + seconds
    while abandoned_steps() and time.monotonic() < end:
        time.sleep(0.02)
    assert abandoned_steps() == 0


def stalled_library(root: Path) -> Path:
    """Two clips, then one whose read will hang, then one more."""
    make_clip(root / "a0.mp4")
    make_clip(root / "a1.mp4")
    make_clip(root / "c0.mp4")
    return make_clip(root / "b_stalled.mp4")


@pytest.mark.django_db
def test_a_file_whose_read_hangs_becomes_a_timed_out_error_and_the_scan_moves_on(
    library_dir: Path, settings: LazySettings
) -> None:
    stalled = stalled_library(library_dir)
    settings.STOAT_FILE_TIME_LIMIT = 1
    job = lifecycle.create_scan(str(library_dir)).job

    with hanging_file(stalled) as holder:
        started = time.monotonic()
        assert run_here(job) == Status.COMPLETE
        took = time.monotonic() - started
        # The read was still blocked when the scan ended: the limit, not the file, ended it.
        assert holder.poll() is None and abandoned_steps() == 1
        release(holder)
    wait_for_abandoned_steps_to_end()

    job.refresh_from_db()
    assert took < 10
    assert (job.found, job.processed, job.new, job.error_count) == (4, 4, 3, 1)
    error = ScanError.objects.get(job=job)
    assert error.path == str(stalled)
    assert error.message.startswith("reading the file timed out after 1 s")
    stored = sorted(Video.objects.values_list("filename", flat=True))
    assert stored == ["a0.mp4", "a1.mp4", "c0.mp4"]


@pytest.mark.django_db
def test_a_file_that_hangs_while_decoding_is_a_timed_out_error_too(
    library_dir: Path, tmp_path: Path, settings: LazySettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    stalled = stalled_library(library_dir)
    settings.STOAT_FILE_TIME_LIMIT = 1
    # The file is opened and probed once; what blocks is a read inside the decoding step, as a
    # stalled share blocks a read that the opened file makes.
    blocker = make_clip(tmp_path / "blocker.mp4")
    real_write = thumbnails.write_thumbnail
    leases = ExitStack()

    def decode_then_stall(
        video: VideoFile, dest: Path, max_size: int, threads: int | None = None
    ) -> Pick:
        if video.container.name == str(stalled):
            leases.enter_context(hanging_file(blocker))
            with open(blocker, "rb"):  # blocks in the kernel until the lease ends
                pass
        return real_write(video, dest, max_size, threads)

    monkeypatch.setattr(scanner, "write_thumbnail", decode_then_stall)
    job = lifecycle.create_scan(str(library_dir)).job

    with leases:
        assert run_here(job) == Status.COMPLETE
        assert abandoned_steps() == 1
    wait_for_abandoned_steps_to_end()

    job.refresh_from_db()
    assert (job.processed, job.new, job.error_count) == (4, 3, 1)
    error = ScanError.objects.get(job=job)
    assert error.path == str(stalled)
    assert error.message.startswith("making its thumbnail timed out after 1 s")


@pytest.mark.django_db
def test_a_scan_stops_failed_when_too_many_reads_hang_at_once(
    library_dir: Path, settings: LazySettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    stalled = stalled_library(library_dir)
    settings.STOAT_FILE_TIME_LIMIT = 0.5
    # One hanging read stands for a whole stalled share here (the limit is 16 in production).
    monkeypatch.setattr(steps, "MAX_HANGING_READS", 1)
    job = lifecycle.create_scan(str(library_dir)).job

    with hanging_file(stalled):
        assert run_here(job) == Status.FAILED
    wait_for_abandoned_steps_to_end()

    job.refresh_from_db()
    assert "stuck being read" in job.failure_reason and "stalled" in job.failure_reason
    # What was read before is kept, with counters equal to the rows.
    assert (job.processed, job.new, job.error_count, Video.objects.count()) == (3, 2, 1, 2)
    assert ScanError.objects.get(job=job).path == str(stalled)


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_stays_fresh_while_one_file_hangs(
    library_dir: Path, settings: LazySettings
) -> None:
    stalled = stalled_library(library_dir)
    # The hang ends when this test releases the file, not by a time limit or a clock.
    settings.STOAT_FILE_TIME_LIMIT = 120
    settings.STOAT_PROGRESS_INTERVAL = 0
    settings.STOAT_HEARTBEAT_INTERVAL = 0.2
    # Five beats of slack for a busy machine; without beats the age passes it while sampling.
    settings.STOAT_HEARTBEAT_STALE = 1.0
    job = lifecycle.create_scan(str(library_dir)).job
    outcome: list[Status | None] = []

    def worker() -> None:
        try:
            outcome.append(run_here(job))
        finally:
            connection.close()

    with hanging_file(stalled) as holder:
        thread = threading.Thread(target=worker)
        thread.start()
        deadline = time.monotonic() + 60
        while Job.objects.get(pk=job.pk).processed < 2:
            assert time.monotonic() < deadline, "the first two files were never read"
            time.sleep(0.02)
        # The worker now reads b_stalled.mp4, held until released below: sample until six
        # different heartbeats were written meanwhile.
        ages = []
        beats: set[datetime] = set()
        while len(beats) < 6:
            row = Job.objects.get(pk=job.pk)
            assert row.status == Status.RUNNING and row.processed == 2
            assert row.heartbeat_at is not None
            beats.add(row.heartbeat_at)
            ages.append(time.time() - row.heartbeat_at.timestamp())
            assert not lifecycle.is_silent(row)
            assert time.monotonic() < deadline, f"the heartbeat stopped: {sorted(beats)}"
            time.sleep(0.05)
        release(holder)
        thread.join(timeout=60)
    wait_for_abandoned_steps_to_end()

    assert outcome == [Status.COMPLETE]
    assert max(ages) < 1.0
    job.refresh_from_db()
    # Released, the file was read like the others.
    assert (job.processed, job.new, job.error_count) == (4, 4, 0)


@pytest.mark.django_db
def test_a_job_out_of_time_while_a_file_hangs_ends_as_timeout_with_its_partial_result(
    library_dir: Path, settings: LazySettings
) -> None:
    stalled = stalled_library(library_dir)
    settings.STOAT_FILE_TIME_LIMIT = 30
    settings.STOAT_JOB_TIME_LIMIT = 1.5
    job = lifecycle.create_scan(str(library_dir)).job

    with hanging_file(stalled):
        started = time.monotonic()
        assert run_here(job) == Status.TIMEOUT
        assert time.monotonic() - started < 10
    wait_for_abandoned_steps_to_end()

    job.refresh_from_db()
    # The hanging file was neither counted nor stored: the counters equal the rows.
    assert (job.found, job.processed, job.new, job.error_count) == (4, 2, 2, 0)
    assert Video.objects.count() == 2 and job.failure_reason == ""


def test_a_step_that_ends_in_time_gives_its_result_or_its_error() -> None:
    assert call_with_time_limit(lambda: 42, 5) == 42

    def broken() -> int:
        raise ValueError("bad header")

    with pytest.raises(ValueError, match="bad header"):
        call_with_time_limit(broken, 5)


def test_a_step_past_its_limit_times_out_while_the_caller_ticks() -> None:
    release_step = threading.Event()
    ticks: list[float] = []

    with pytest.raises(TimedOut, match=r"timed out after 0\.5 s"):
        call_with_time_limit(
            lambda: release_step.wait(30), 0.5, tick=lambda: ticks.append(1), tick_every=0.1
        )
    release_step.set()
    wait_for_abandoned_steps_to_end()
    assert 3 <= len(ticks) <= 5


def test_an_exception_from_the_tick_stops_the_wait() -> None:
    release_step = threading.Event()

    def tick() -> None:
        raise RuntimeError("job ended elsewhere")

    with pytest.raises(RuntimeError, match="job ended elsewhere"):
        call_with_time_limit(lambda: release_step.wait(30), 5, tick=tick, tick_every=0.05)
    release_step.set()
    wait_for_abandoned_steps_to_end()


def test_a_step_that_ended_in_time_leaves_its_thread_to_the_next_step() -> None:
    first = call_with_time_limit(threading.current_thread, 5)
    second = call_with_time_limit(threading.current_thread, 5)

    assert first is second and first is not threading.current_thread()


def test_a_step_left_hanging_keeps_its_thread_and_the_next_step_gets_another() -> None:
    release_step = threading.Event()
    hanging: list[threading.Thread] = []

    def hang() -> None:
        hanging.append(threading.current_thread())
        release_step.wait(30)

    with pytest.raises(TimedOut):
        call_with_time_limit(hang, 0.2)
    assert abandoned_steps() == 1
    assert call_with_time_limit(threading.current_thread, 5) is not hanging[0]
    release_step.set()
    wait_for_abandoned_steps_to_end()
