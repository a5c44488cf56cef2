from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import LazySettings

from stoat.library.models import Video
from stoat.scans import lifecycle, scanner
from stoat.scans.models import Job, ScanError, Status
from stoat.scans.runner import run_here
from tests.media import make_audio_file, make_clip, truncate

pytestmark = pytest.mark.django_db

Clips = Callable[..., list[Path]]


def scan(folder: Path, recursive: bool = True) -> Job:
    job = lifecycle.create_scan(str(folder), recursive).job
    run_here(job)
    job.refresh_from_db()
    return job


def mixed_folder(root: Path) -> None:
    make_clip(root / "a.mp4", audio=True)
    make_clip(root / "b.mkv")
    make_clip(root / "sub" / "c.webm")
    make_clip(root / "sub" / "deeper" / "d.avi")
    make_audio_file(root / "song.mp4", cover=True)  # a video extension, not a video
    (root / "notes.txt").write_text("not even looked at")
    (root / "empty.mp4").touch()
    # Seeded: now and then truly random bytes sniff as some container with no video stream.
    (root / "junk.mkv").write_bytes(random.Random(1).randbytes(2048))
    truncate(make_clip(root / "cut.mp4", seconds=2), keep=0.4)


def test_scan_of_a_mixed_folder_counts_each_kind(library_dir: Path, data_dir: Path) -> None:
    mixed_folder(library_dir)

    job = scan(library_dir)

    assert job.status == Status.COMPLETE
    assert (job.found, job.processed) == (8, 8)
    assert (job.new, job.updated, job.unchanged, job.skipped, job.error_count) == (4, 0, 0, 1, 3)
    assert job.found_final and job.fraction == 1.0
    assert Video.objects.count() == 4
    errors = dict(ScanError.objects.filter(job=job).values_list("path", "message"))
    assert set(errors) == {str(library_dir / n) for n in ("empty.mp4", "junk.mkv", "cut.mp4")}
    assert "empty" in errors[str(library_dir / "empty.mp4")]
    video = Video.objects.get(filename="a.mp4")
    assert (video.width, video.height, video.video_codec, video.audio_codec) == (
        160,
        120,
        "h264",
        "aac",
    )
    assert video.folder == str(library_dir)
    assert (data_dir / "thumbs" / video.thumbnail).is_file()


def test_a_second_scan_creates_no_duplicates_and_reads_nothing_again(
    library_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mixed_folder(library_dir)
    first = scan(library_dir)
    ids = set(Video.objects.values_list("id", flat=True))
    probed: list[str] = []
    real_read = scanner.read_video

    def counting_read(item: scanner.ReadItem) -> Video:
        probed.append(item.path)
        return real_read(item)

    monkeypatch.setattr(scanner, "read_video", counting_read)

    second = scan(library_dir)

    assert set(Video.objects.values_list("id", flat=True)) == ids
    assert (second.new, second.updated, second.unchanged) == (0, 0, first.new)
    # Only the files that are not (yet) in the library are read again.
    assert sorted(os.path.basename(p) for p in probed) == [
        "cut.mp4",
        "empty.mp4",
        "junk.mkv",
        "song.mp4",
    ]


def test_a_changed_file_is_read_again_and_updated(library_dir: Path) -> None:
    clip = make_clip(library_dir / "a.mp4", width=160, height=120)
    scan(library_dir)
    created = Video.objects.get().created_at
    make_clip(clip, width=320, height=240, seconds=2)

    job = scan(library_dir)

    assert (job.new, job.updated, job.unchanged) == (0, 1, 0)
    video = Video.objects.get()
    assert (video.width, video.height) == (320, 240)
    assert video.created_at == created


def test_vanished_files_are_marked_missing_and_come_back(library_dir: Path) -> None:
    keep = make_clip(library_dir / "keep.mp4")
    gone = make_clip(library_dir / "sub" / "gone.mp4")
    scan(library_dir)
    hidden = library_dir.parent / "gone.mp4"
    gone.rename(hidden)

    job = scan(library_dir)

    assert job.missing == 1
    assert Video.objects.get(filename="gone.mp4").missing is True
    assert Video.objects.get(filename="keep.mp4").missing is False
    assert Video.objects.present().count() == 1

    hidden.rename(gone)
    back = scan(library_dir)
    assert (back.missing, back.unchanged, back.new) == (0, 2, 0)
    assert Video.objects.filter(missing=True).count() == 0
    assert keep.exists()


def test_a_shallow_scan_does_not_mark_subfolder_files_missing(library_dir: Path) -> None:
    make_clip(library_dir / "top.mp4")
    make_clip(library_dir / "sub" / "deep.mp4")
    scan(library_dir)

    job = scan(library_dir, recursive=False)

    assert (job.found, job.unchanged, job.missing) == (1, 1, 0)
    assert Video.objects.filter(missing=True).count() == 0


def test_cancel_while_running_stops_at_the_next_file_and_keeps_what_was_read(
    library_dir: Path, clips: Clips, monkeypatch: pytest.MonkeyPatch, settings: LazySettings
) -> None:
    clips(10)
    settings.STOAT_PROGRESS_INTERVAL = 0
    job = lifecycle.create_scan(str(library_dir)).job
    real_read = scanner.read_video
    reads: list[str] = []

    def read_then_cancel(item: scanner.ReadItem) -> Video:
        reads.append(item.path)
        if len(reads) == 4:
            lifecycle.request_cancel(job.pk)
        return real_read(item)

    monkeypatch.setattr(scanner, "read_video", read_then_cancel)

    assert run_here(job) == Status.CANCELLED

    job.refresh_from_db()
    assert len(reads) == 4
    assert (job.status, job.found, job.processed, job.new) == (Status.CANCELLED, 10, 4, 4)
    assert Video.objects.count() == job.new
    assert job.finished_at is not None and job.cancel_requested_at is not None


def test_a_scan_past_its_time_limit_ends_as_timeout_with_its_partial_result(
    library_dir: Path, clips: Clips, monkeypatch: pytest.MonkeyPatch, settings: LazySettings
) -> None:
    clips(5)
    settings.STOAT_JOB_TIME_LIMIT = 60
    job = lifecycle.create_scan(str(library_dir)).job
    real_read = scanner.read_video
    reads: list[str] = []
    start = time.time()

    def slow_read(item: scanner.ReadItem) -> Video:
        reads.append(item.path)
        video = real_read(item)
        # The limit passes once the second file is read (a step that starts later is refused).
        if len(reads) == 2:
            monkeypatch.setattr(time, "time", lambda: start + 120)
        return video

    monkeypatch.setattr(scanner, "read_video", slow_read)

    assert run_here(job) == Status.TIMEOUT
    job.refresh_from_db()
    assert (job.processed, job.new, Video.objects.count()) == (2, 2, 2)


def test_an_unexpected_reader_error_is_a_per_file_error(
    library_dir: Path, clips: Clips, monkeypatch: pytest.MonkeyPatch
) -> None:
    clips(2)

    def broken(item: scanner.ReadItem) -> Video:
        raise RuntimeError("decoder exploded")

    monkeypatch.setattr(scanner, "read_video", broken)
    job = scan(library_dir)
    assert (job.status, job.error_count) == (Status.COMPLETE, 2)
    assert ScanError.objects.filter(message__contains="decoder exploded").count() == 2


def test_a_scan_that_breaks_ends_failed_with_its_error(
    library_dir: Path, clips: Clips, monkeypatch: pytest.MonkeyPatch
) -> None:
    clips(1)

    def broken_plan(self: scanner.Scanner, *args: object) -> scanner.Plan:
        raise RuntimeError("database went away")

    monkeypatch.setattr(scanner.Scanner, "plan", broken_plan)
    job = lifecycle.create_scan(str(library_dir)).job
    assert run_here(job) == Status.FAILED
    job.refresh_from_db()
    assert job.status == Status.FAILED
    assert "database went away" in job.failure_reason


def test_a_job_ended_elsewhere_stops_the_scanner(
    library_dir: Path, clips: Clips, monkeypatch: pytest.MonkeyPatch, settings: LazySettings
) -> None:
    clips(3)
    settings.STOAT_PROGRESS_INTERVAL = 0
    job = lifecycle.create_scan(str(library_dir)).job
    real_read = scanner.read_video

    def read_then_fail_job(item: scanner.ReadItem) -> Video:
        lifecycle.finish(job.pk, Status.FAILED, failure_reason="worker lost")
        return real_read(item)

    monkeypatch.setattr(scanner, "read_video", read_then_fail_job)
    assert run_here(job) is None
    job.refresh_from_db()
    assert (job.status, job.failure_reason, Video.objects.count()) == (
        Status.FAILED,
        "worker lost",
        0,
    )


def test_a_job_that_is_not_pending_is_not_run(library_dir: Path) -> None:
    job = lifecycle.create_scan(str(library_dir)).job
    lifecycle.request_cancel(job.pk)
    assert run_here(job) is None
