"""Rescans read only what changed, load the folder's rows once, and track files that vanish."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from stoat.library.models import Video
from stoat.library.probe import VideoFile, open_video
from stoat.scans import lifecycle, scanner
from stoat.scans.models import Job, ScanError, Status
from stoat.scans.runner import run_here
from tests.media import make_clip
from tests.unprivileged import permissions_enforced

pytestmark = pytest.mark.django_db

Clips = Callable[..., list[Path]]


@pytest.fixture
def probed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The paths the scanner probes, in order (the real probe still runs)."""
    calls: list[str] = []

    def counting_open(path: str) -> VideoFile:
        calls.append(os.path.basename(path))
        return open_video(path)

    monkeypatch.setattr(scanner, "open_video", counting_open)
    yield calls


def scan(folder: Path, recursive: bool = True) -> Job:
    job = lifecycle.create_scan(str(folder), recursive).job
    assert run_here(job) == Status.COMPLETE
    job.refresh_from_db()
    return job


def test_unchanged_files_are_not_probed_again(
    library_dir: Path, clips: Clips, probed: list[str]
) -> None:
    clips(5)
    first = scan(library_dir)
    assert (len(probed), first.new) == (5, 5)
    probed.clear()

    second = scan(library_dir)

    assert probed == []
    assert (second.found, second.processed, second.unchanged, second.new) == (5, 5, 5, 0)
    assert second.updated == second.error_count == second.skipped == 0
    assert Video.objects.count() == 5


def test_a_file_with_a_new_size_or_date_is_probed_again(
    library_dir: Path, clips: Clips, probed: list[str]
) -> None:
    grown, touched, _ = clips(3)
    scan(library_dir)
    probed.clear()
    make_clip(grown, seconds=2)
    stat = touched.stat()
    os.utime(touched, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))

    job = scan(library_dir)

    assert sorted(probed) == sorted([grown.name, touched.name])
    assert (job.unchanged, job.updated, job.new) == (1, 2, 0)
    video = Video.objects.get(filename=touched.name)
    assert video.mtime_ns == stat.st_mtime_ns + 1_000_000_000
    assert Video.objects.get(filename=grown.name).duration == pytest.approx(2.0, abs=0.1)


def test_what_the_library_knows_is_loaded_in_the_same_queries_for_3_or_30_files(
    library_dir: Path, tmp_path: Path
) -> None:
    small, large = library_dir / "small", library_dir / "large"
    source = make_clip(tmp_path / "source.mp4")
    for folder, count in ((small, 3), (large, 30)):
        folder.mkdir()
        for index in range(count):
            os.link(source, folder / f"clip{index:02d}.mp4")
        scan(folder)
    queries: list[list[str]] = []
    for folder in (small, large):
        job = lifecycle.create_scan(str(folder)).job
        assert lifecycle.claim(job.pk)
        job.refresh_from_db()
        rescan = scanner.Scanner(job)
        found = rescan.find()
        assert found is not None
        with CaptureQueriesContext(connection) as captured:
            plan = rescan.plan(*found)
        assert plan.to_read == [] and plan.missing == 0
        queries.append([q["sql"] for q in captured if "library_video" in q["sql"]])

    assert len(queries[0]) == len(queries[1]) == 1
    assert queries[0][0].startswith("SELECT")


def test_vanished_files_are_marked_missing_and_come_back_without_a_probe(
    library_dir: Path, clips: Clips, probed: list[str]
) -> None:
    clips(2, sub="kept")
    gone = clips(3, sub="gone")
    scan(library_dir)
    probed.clear()
    hidden = library_dir.parent / "hidden"
    (library_dir / "gone").rename(hidden)

    job = scan(library_dir)

    assert (job.found, job.unchanged, job.missing) == (2, 2, 3)
    assert Video.objects.filter(missing=True).count() == 3
    assert Video.objects.present().count() == 2
    # Marked, not deleted: the metadata read before is still there.
    assert all(v.width == 160 for v in Video.objects.filter(missing=True))
    again = scan(library_dir)
    assert again.missing == 0, "a file already marked missing is not counted twice"

    hidden.rename(library_dir / "gone")
    back = scan(library_dir)

    assert probed == []
    assert (back.found, back.unchanged, back.missing, back.new) == (5, 5, 0, 0)
    assert Video.objects.filter(missing=True).count() == 0
    assert all(path.exists() for path in gone)


def test_a_file_that_comes_back_changed_is_read_again(
    library_dir: Path, clips: Clips, probed: list[str]
) -> None:
    (clip,) = clips(1)
    scan(library_dir)
    aside = library_dir.parent / "aside.mp4"
    clip.rename(aside)
    assert scan(library_dir).missing == 1
    make_clip(clip, width=320, height=240)
    probed.clear()

    job = scan(library_dir)

    assert (probed, job.updated, job.missing) == ([clip.name], 1, 0)
    video = Video.objects.get()
    assert (video.missing, video.width) == (False, 320)


def test_a_folder_sharing_a_name_prefix_is_not_touched(
    library_dir: Path, tmp_path: Path, probed: list[str]
) -> None:
    make_clip(library_dir / "a.mp4")
    sibling = tmp_path / (library_dir.name + "-old")
    make_clip(sibling / "b.mp4")
    scan(library_dir)
    scan(sibling)
    (library_dir / "a.mp4").unlink()

    job = scan(library_dir)

    assert job.missing == 1
    assert Video.objects.get(filename="b.mp4").missing is False


def test_a_shallow_rescan_reads_only_the_top_folder_and_marks_only_its_files(
    library_dir: Path, probed: list[str]
) -> None:
    make_clip(library_dir / "top.mp4")
    make_clip(library_dir / "top2.mp4")
    make_clip(library_dir / "sub" / "deep.mp4")
    scan(library_dir)
    (library_dir / "top2.mp4").unlink()
    (library_dir / "sub" / "deep.mp4").unlink()
    probed.clear()

    job = scan(library_dir, recursive=False)

    assert (probed, job.found, job.unchanged, job.missing) == ([], 1, 1, 1)
    assert Video.objects.get(filename="deep.mp4").missing is False
    assert Video.objects.get(filename="top2.mp4").missing is True


def test_files_under_a_folder_that_could_not_be_listed_are_not_marked_missing(
    library_dir: Path, clips: Clips
) -> None:
    clips(2, sub="open")
    clips(2, sub="locked")
    clips(1, sub="gone")
    scan(library_dir)
    for path in (library_dir / "gone").iterdir():
        path.unlink()
    locked = library_dir / "locked"
    locked.chmod(0)
    try:
        # A folder the walker really cannot list (root too: see tests/unprivileged.py).
        with permissions_enforced():
            job = scan(library_dir)
    finally:
        locked.chmod(0o755)

    assert (job.found, job.unchanged, job.missing, job.error_count) == (2, 2, 1, 1)
    assert list(Video.objects.filter(missing=True).values_list("folder", flat=True)) == [
        str(library_dir / "gone")
    ]
    error = ScanError.objects.get(job=job)
    assert error.path == str(locked)
    assert error.message.startswith("folder could not be listed: permission denied")


def test_a_file_whose_name_is_not_utf8_goes_missing_and_comes_back_without_a_probe(
    library_dir: Path, tmp_path: Path, probed: list[str]
) -> None:
    make_clip(library_dir / "plain.mp4")
    raw = os.path.join(os.fsencode(library_dir), b"caf\xe9.mp4")
    aside = os.path.join(os.fsencode(tmp_path), b"aside.mp4")
    make_clip(Path(os.fsdecode(raw)))
    scan(library_dir)
    probed.clear()

    os.rename(raw, aside)
    gone = scan(library_dir)
    stored = Video.objects.get(filename="caf\\xe9.mp4")
    os.rename(aside, raw)
    back = scan(library_dir)

    assert (gone.unchanged, gone.missing, stored.missing, stored.missing_job_id) == (
        1,
        1,
        True,
        gone.pk,
    )
    assert (back.unchanged, back.missing, back.new, probed) == (2, 0, 0, [])
    assert Video.objects.get(pk=stored.pk).missing is False


def test_a_folder_whose_name_differs_only_in_case_is_not_touched(
    library_dir: Path, probed: list[str]
) -> None:
    upper, lower = library_dir / "Films", library_dir / "films"
    make_clip(upper / "a.mp4")
    make_clip(lower / "b.mp4")
    scan(upper)
    scan(lower)
    probed.clear()
    (upper / "a.mp4").unlink()

    job = scan(upper)

    assert (job.found, job.missing, probed) == (0, 1, [])
    assert Video.objects.get(filename="b.mp4").missing is False
    assert Video.objects.get(filename="a.mp4").missing is True
