"""A moved folder is recognised from the walk's own stats and one listing per folder, not a stat
of each file: on a network share each stat is a round trip."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from stoat.library.models import Video, VideoMove, path_key
from stoat.scans import lifecycle, store
from stoat.scans.arrivals import WalkedInodes
from stoat.scans.models import Job, Status
from stoat.scans.reconcile import LISTED_FROM, Arrival, Listings, look
from stoat.scans.runner import run_here
from stoat.scans.walker import walk_chunks
from tests.media import make_clip

pytestmark = pytest.mark.django_db


def scan(folder: Path) -> Job:
    job = lifecycle.create_scan(str(folder), True).job
    assert run_here(job) == Status.COMPLETE
    job.refresh_from_db()
    return job


@pytest.fixture
def stats(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The paths `os.stat` is asked about (the real stat still answers)."""
    asked: list[str] = []
    real_stat = os.stat

    def counting_stat(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        if isinstance(path, str):
            asked.append(path)
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", counting_stat)
    yield asked


def test_a_moved_folder_costs_no_stat_of_its_files_old_or_new(
    library_dir: Path, stats: list[str]
) -> None:
    old = library_dir / "camera"
    for n in range(2 * LISTED_FROM):
        make_clip(old / f"day{n % 2}" / f"clip{n:02d}.mp4", seconds=1 + n * 0.1)
    scan(library_dir)
    before = dict(Video.objects.values_list("pk", "path"))

    new = library_dir / "archive" / "camera"
    new.parent.mkdir()
    old.rename(new)
    stats.clear()
    job = scan(library_dir)

    after = dict(Video.objects.values_list("pk", "path"))
    assert after == {pk: path.replace(str(old), str(new)) for pk, path in before.items()}
    assert (job.moved, job.new, job.missing) == (2 * LISTED_FROM, 0, 0)
    files = {*before.values(), *after.values()}
    assert [path for path in stats if path in files] == []


def test_the_walk_gives_each_files_inode_as_a_stat_does(library_dir: Path) -> None:
    clip = make_clip(library_dir / "a" / "x.mp4")
    (library_dir / "b").mkdir()
    link = library_dir / "b" / "y.mp4"
    link.symlink_to(clip)
    inodes: list[int] = []

    found = [
        file[0]
        for files, _ in walk_chunks(str(library_dir), extensions={"mp4"}, inodes=inodes)
        for file in files
    ]

    assert found == [str(clip), str(link)]
    # In the order of the files; a link's inode is its target's, as the file a reader opens.
    assert inodes == [clip.stat().st_ino, clip.stat().st_ino]
    assert (
        WalkedInodes([(path, 0, 0) for path in found], inodes).get(str(link)) == clip.stat().st_ino
    )
    # Out of step with the files, it knows none: each then gets a stat of its own.
    assert WalkedInodes([(str(clip), 0, 0)], inodes).get(str(clip)) is None


def test_a_listing_tells_gone_from_present_in_each_kind_of_folder(tmp_path: Path) -> None:
    kept = tmp_path / "kept"
    kept.mkdir()
    here = [kept / f"{n}.mp4" for n in range(LISTED_FROM)]
    for path in here[:2]:
        path.write_bytes(b"x")
    gone = [tmp_path / "gone" / f"{n}.mp4" for n in range(LISTED_FROM)]
    few = [tmp_path / "few" / f"{n}.mp4" for n in range(LISTED_FROM - 1)]

    listings = Listings(str(path) for path in [*here, *gone, *few])

    assert [listings.absent(str(path)) for path in here] == [False, False] + [True] * (
        LISTED_FROM - 2
    )
    assert all(listings.absent(str(path)) for path in gone)
    # Too few paths in a folder to be worth its listing: each gets its stat instead.
    assert not any(listings.absent(str(path)) for path in few)
    assert set(listings.names) == {str(kept), str(tmp_path / "gone")}


def test_a_folder_that_cannot_be_listed_leaves_each_path_to_its_stat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    paths = [folder / f"{n}.mp4" for n in range(LISTED_FROM)]
    paths[0].write_bytes(b"x")
    real_scandir = os.scandir

    def refusing(path: Any) -> Any:
        if str(path) == str(folder):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", refusing)
    listings = Listings(str(path) for path in paths)

    assert not any(listings.absent(str(path)) for path in paths)
    size, mtime = paths[0].stat().st_size, paths[0].stat().st_mtime_ns
    assert look(str(paths[0]), path_key(str(paths[0])), size, mtime, listings) == (False, False)
    assert look(str(paths[1]), path_key(str(paths[1])), 1, 1, listings) == (True, True)


@pytest.fixture
def set_aside(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths written to `ScanArrival` for reconcile (the real insert still runs)."""
    written: list[str] = []
    real_insert = store.insert_arrivals

    def counting_insert(job_id: int, arrivals: Sequence[Arrival]) -> None:
        written.extend(arrival.path for arrival in arrivals)
        real_insert(job_id, arrivals)

    monkeypatch.setattr(store, "insert_arrivals", counting_insert)
    return written


def test_a_moved_folder_is_moved_while_planning_with_nothing_set_aside(
    library_dir: Path, set_aside: list[str]
) -> None:
    old = library_dir / "camera"
    for n in range(3):
        make_clip(old / f"clip{n}.mp4", seconds=1 + n * 0.1)
    scan(library_dir)
    before = {v.pk: (v.path, v.thumbnail, v.fingerprint) for v in Video.objects.all()}

    new = library_dir / "2026" / "camera"
    new.parent.mkdir()
    old.rename(new)
    job = scan(library_dir)

    assert set_aside == []
    assert (job.moved, job.new, job.missing, job.processed) == (3, 0, 0, 3)
    for video in Video.objects.all():
        path, thumbnail, fingerprint = before[video.pk]
        assert (video.path, video.moved_from) == (path.replace(str(old), str(new)), path)
        assert video.fingerprint == fingerprint
        assert (settings.STOAT_THUMB_DIR / video.thumbnail).exists()
    assert VideoMove.objects.filter(job_id=job.pk).count() == 3


def test_hard_links_of_a_moved_file_are_weighed_by_reconcile_as_the_rule_says(
    library_dir: Path, set_aside: list[str]
) -> None:
    clip = make_clip(library_dir / "x" / "clip.mp4")
    scan(library_dir)
    video = Video.objects.get()
    links = [library_dir / name / "clip.mp4" for name in ("z", "y")]
    for link in links:
        link.parent.mkdir()
        os.link(clip, link)
    clip.unlink()
    job = scan(library_dir)

    # Both have its name, inode and mtime: neither is certain while planning; the rule's last
    # tie-break (the path) gives it to y, and z is a copy of it.
    assert sorted(set_aside) == sorted(str(link) for link in links)
    video.refresh_from_db()
    copy = Video.objects.exclude(pk=video.pk).get()
    assert (video.path, copy.path) == (str(links[1]), str(links[0]))
    assert copy.fingerprint == video.fingerprint
    assert (job.moved, job.new, job.missing) == (1, 1, 0)


def test_a_file_renamed_to_another_name_is_left_to_reconcile(
    library_dir: Path, set_aside: list[str]
) -> None:
    clip = make_clip(library_dir / "x.mp4")
    scan(library_dir)
    video = Video.objects.get()
    clip.rename(library_dir / "y.mp4")
    job = scan(library_dir)

    assert set_aside == [str(library_dir / "y.mp4")]
    video.refresh_from_db()
    assert (video.path, video.moved_from, job.moved) == (str(library_dir / "y.mp4"), str(clip), 1)
