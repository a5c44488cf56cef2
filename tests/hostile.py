"""Shared steps of the hostile-input tests: scan a folder, read back what the user is told."""

from __future__ import annotations

from pathlib import Path

from stoat.library.models import Video, display_path
from stoat.scans import lifecycle
from stoat.scans.models import Job, ScanError, Status
from stoat.scans.runner import run_here
from tests.media import make_clip


def scan(folder: Path) -> Job:
    """Scan `folder` here, as the worker would, and return the ended job."""
    job = lifecycle.create_scan(str(folder)).job
    run_here(job)
    job.refresh_from_db()
    return job


def errors_of(job: Job) -> dict[str, str]:
    """What the job page lists under "Files that could not be read": path → why."""
    return dict(ScanError.objects.filter(job=job).values_list("path", "message"))


def with_a_good_clip(folder: Path) -> Path:
    """A normal clip beside the hostile file: proof that the scan went on past it."""
    return make_clip(folder / "good.mp4")


def assert_completed_with_the_good_clip(job: Job, good: Path) -> None:
    assert job.status == Status.COMPLETE
    assert Video.objects.filter(path=display_path(str(good))).exists()
    # Counters equal the rows stored.
    assert job.error_count == ScanError.objects.filter(job=job).count()
    assert job.new + job.updated == Video.objects.filter(missing=False).count()
