"""A cancel stops the move and copy checks that run before any file is read, not only reading."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from stoat.library.backfill import Backfill, fingerprint_one
from stoat.library.models import Video, storable_inode
from stoat.scans import (
    arrivals,
    batches,
    lifecycle,
    maybe_moved,
    reconcile,
    scanner,
    services,
    tasks,
)
from stoat.scans.models import Job, Status
from stoat.scans.runner import run_here
from tests.media import make_clip

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def check_every_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every throttled check reads the job row: no test depends on timing.
    monkeypatch.setattr(scanner, "CANCEL_CHECK_SECONDS", 0)


def stored(folder: Path) -> None:
    job = lifecycle.create_scan(str(folder)).job
    assert run_here(job) == Status.COMPLETE


def test_a_cancel_while_an_old_library_is_fingerprinted_stops_at_the_next_video(
    library_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = make_clip(library_dir.parent / "source.mp4")
    old = library_dir / "old"
    old.mkdir()
    for n in range(20):
        shutil.copy(source, old / f"v{n:02d}.mp4")
        with (old / f"v{n:02d}.mp4").open("ab") as file:
            file.write(bytes([n]) * (300 * 1024))  # the same size, other content
    stored(library_dir)
    # Stored as before fingerprints existed.
    Video.objects.update(fingerprint="", inode=None)
    shutil.copy(old / "v00.mp4", library_dir / "copy.mp4")
    job = lifecycle.create_scan(str(library_dir)).job
    calls: list[int] = []
    real = fingerprint_one

    def cancel_on_first(video: Video, progress: Backfill) -> None:
        calls.append(video.pk)
        if len(calls) == 1:
            services.cancel_job(job.pk)
        real(video, progress)

    monkeypatch.setattr(maybe_moved, "fingerprint_one", cancel_on_first)

    tasks.run_scan(job.pk)

    job.refresh_from_db()
    assert job.status == Status.CANCELLED
    assert len(calls) == 1
    assert not Video.objects.filter(filename="copy.mp4").exists()


def test_a_cancel_while_a_batch_looks_for_moves_stops_at_the_next_stat(
    library_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = make_clip(library_dir / "source.mp4")
    for n in range(5):
        shutil.copy(source, library_dir / f"in_place{n}.mp4")
    stored(library_dir)
    assert Video.objects.exclude(fingerprint="").count() == 6
    fresh = library_dir.parent / "fresh"
    fresh.mkdir()
    for n in range(2):
        shutil.copy(source, fresh / f"new{n}.mp4")
    job = lifecycle.create_scan(str(fresh)).job
    lifecycle.claim(job.pk)
    lifecycle.progress(job.pk, found=2, found_final=True)
    items = []
    for path in sorted(fresh.iterdir()):
        st = os.stat(path)
        items.append((str(path), st.st_size, st.st_mtime_ns, False))
    batches.plan(job.pk, [items])
    calls: list[str] = []
    real = reconcile.look

    def cancel_on_first(path: str, *args: Any) -> tuple[bool, bool]:
        calls.append(path)
        if len(calls) == 1:
            services.cancel_job(job.pk)
        return real(path, *args)

    monkeypatch.setattr(reconcile, "look", cancel_on_first)

    tasks.run_batch(job.pk, 1)

    assert Job.objects.get(pk=job.pk).status == Status.CANCELLED
    assert len(calls) == 1
    assert Video.objects.count() == 6


def test_a_cancel_while_renamed_files_are_matched_stops_at_the_next_file(
    library_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(2):
        make_clip(library_dir / f"v{n}.mp4", seconds=1 + n * 0.5)
    stored(library_dir)
    for n in range(2):
        (library_dir / f"v{n}.mp4").rename(library_dir / f"renamed{n}.mp4")
    job = lifecycle.create_scan(str(library_dir)).job
    real = storable_inode

    def cancel_on_first(inode: int) -> int | None:
        # Asked once a renamed file's size and date matched, before its inode is compared.
        services.cancel_job(job.pk)
        return real(inode)

    monkeypatch.setattr(arrivals, "storable_inode", cancel_on_first)

    tasks.run_scan(job.pk)

    job.refresh_from_db()
    # The first rename was set aside before the cancel, and settling still moves it.
    assert (job.status, job.moved) == (Status.CANCELLED, 1)
    assert Video.objects.filter(filename__startswith="renamed").count() == 1
