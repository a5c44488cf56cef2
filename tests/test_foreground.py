"""`manage.py scan PATH` in the foreground reads with a pool of processes, one file each."""

from __future__ import annotations

import io
import multiprocessing
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import LazySettings
from django.core.management import call_command
from django.db import connections

from stoat.library.models import Video
from stoat.scans.models import Job, ScanError, Status
from tests.media import make_clip

pytestmark = pytest.mark.django_db(transaction=True)


def library(folder: Path, count: int) -> list[Path]:
    return [make_clip(folder / f"part{i % 3}" / f"c{i:03d}.mp4", seconds=0.2) for i in range(count)]


class Watcher(threading.Thread):
    """Looks at the scan from its own database connection, as another program would."""

    def __init__(self, when: Callable[[Job], bool], then: Callable[[], None]) -> None:
        super().__init__(daemon=True)
        self.when, self.then = when, then
        self.readers_seen = 0
        self.fired_at: float | None = None

    def run(self) -> None:
        try:
            end = time.monotonic() + 60
            while time.monotonic() < end:
                self.readers_seen = max(self.readers_seen, len(multiprocessing.active_children()))
                job = Job.objects.first()
                if job is not None and self.when(job):
                    self.fired_at = time.time()
                    self.then()
                    return
                time.sleep(0.005)  # a poll of observable state, not a wait for time to pass
        finally:
            connections.close_all()


def readers_gone(seconds: float = 30) -> bool:
    end = time.monotonic() + seconds
    while multiprocessing.active_children():
        if time.monotonic() > end:
            return False
        time.sleep(0.01)
    return True


def scan(*args: str) -> str:
    out = io.StringIO()
    call_command("scan", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_the_foreground_scan_reads_with_one_process_per_core_requested(
    library_dir: Path, settings: LazySettings
) -> None:
    paths = library(library_dir, 24)
    watcher = Watcher(lambda job: job.processed > 0, lambda: None)
    watcher.start()

    out = scan(str(library_dir), "--processes", "2")
    watcher.join()

    job = Job.objects.get()
    errors = list(ScanError.objects.values_list("message", flat=True))
    assert "2 reader processes" in out and "complete: 24 new" in out, errors
    assert (job.status, job.processed, job.new, job.error_count) == (Status.COMPLETE, 24, 24, 0)
    assert watcher.readers_seen == 2
    assert readers_gone()
    stored = Video.objects.order_by("filename")
    assert [video.filename for video in stored] == sorted(path.name for path in paths)
    for video in stored:
        assert (settings.STOAT_THUMB_DIR / video.thumbnail).stat().st_size > 0


def test_ctrl_c_stops_the_reader_processes_within_a_second_keeping_what_was_read(
    library_dir: Path, settings: LazySettings
) -> None:
    library(library_dir, 150)
    settings.STOAT_PROGRESS_INTERVAL = 0.02
    watcher = Watcher(lambda job: job.processed >= 4, lambda: signal.raise_signal(signal.SIGINT))
    watcher.start()

    with pytest.raises(SystemExit) as exit_info:
        scan(str(library_dir), "--processes", "2")
    watcher.join()

    assert exit_info.value.code == 2
    job = Job.objects.get()
    assert job.status == Status.CANCELLED and job.cancel_requested_at is not None
    assert watcher.fired_at is not None and watcher.readers_seen == 2
    assert job.finished_at is not None and job.finished_at.timestamp() - watcher.fired_at < 1.0
    assert 4 <= job.processed < 150
    # What was read is kept, and the counters equal the rows stored.
    assert Video.objects.count() == job.new == job.processed
    assert readers_gone()


def test_a_few_files_are_read_in_this_process(library_dir: Path) -> None:
    library(library_dir, 3)
    watcher = Watcher(
        lambda job: job.status != Status.RUNNING and job.finished_at is not None, lambda: None
    )
    watcher.start()

    out = scan(str(library_dir), "--processes", "4")
    watcher.join()

    assert "complete: 3 new" in out
    assert watcher.readers_seen == 0
