"""Paths as long as Linux allows, and names that are not UTF-8, on either database."""

from __future__ import annotations

import os
import random
import string
from pathlib import Path

import pytest

from stoat.library.models import Video
from stoat.scans import lifecycle
from stoat.scans.models import Status
from stoat.scans.runner import run_here
from tests.media import make_clip

pytestmark = pytest.mark.django_db


def deep_folder(root: Path, length: int = 3800) -> Path:
    """A folder whose path passes `length` bytes: more than a PostgreSQL B-tree entry may hold."""
    rng = random.Random(7)  # random names, so no index compresses them below the limit
    folder = root
    while len(os.fsencode(folder)) < length:
        folder = folder / "".join(rng.choice(string.ascii_letters) for _ in range(200))
    folder.mkdir(parents=True)
    return folder


def test_a_video_in_a_very_deep_folder_is_stored_and_found_again(library_dir: Path) -> None:
    deep = deep_folder(library_dir)
    make_clip(deep / "deep.mp4")
    job = lifecycle.create_scan(str(library_dir)).job

    run_here(job)
    job.refresh_from_db()
    assert job.status == Status.COMPLETE, job.failure_reason
    assert Video.objects.get().folder == str(deep)

    again = lifecycle.create_scan(str(library_dir)).job
    run_here(again)
    again.refresh_from_db()
    assert (again.status, again.unchanged, again.new) == (Status.COMPLETE, 1, 0)


def test_a_scan_of_a_very_deep_folder_is_one_active_job(library_dir: Path) -> None:
    deep = str(deep_folder(library_dir))

    first = lifecycle.create_scan(deep)
    second = lifecycle.create_scan(deep)

    assert first.created and not second.created
    assert second.job.pk == first.job.pk


def test_names_that_are_not_utf8_are_stored_escaped_and_errors_keep_the_scan_going(
    library_dir: Path,
) -> None:
    folder = os.fsencode(library_dir)
    make_clip(Path(os.fsdecode(folder + b"/caf\xe9.mp4")))
    with open(folder + b"/broken \xff.mp4", "wb") as junk:
        junk.write(b"not a video" * 50)
    job = lifecycle.create_scan(str(library_dir)).job

    run_here(job)
    job.refresh_from_db()

    assert (job.status, job.new, job.error_count) == (Status.COMPLETE, 1, 1)
    assert Video.objects.get().filename == "caf\\xe9.mp4"
    assert job.file_errors.get().path.endswith("broken \\xff.mp4")
