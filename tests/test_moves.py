"""A moved or renamed file keeps its video: id, thumbnail and every field; copies are new videos."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import LazySettings, settings
from django.test import Client

from stoat.library.fingerprint import WHOLE_UP_TO
from stoat.library.models import Video, VideoMove, name_key
from stoat.library.probe import VideoFile, open_video
from stoat.scans import lifecycle, moves, scanner, services
from stoat.scans.models import Job, ScanArrival, Status
from stoat.scans.runner import run_here
from stoat.scans.walker import walk_chunks
from tests.media import make_clip

pytestmark = pytest.mark.django_db

# What a move changes; every other field of the row must stay as it was.
PLACE_FIELDS = {
    "id",
    "path",
    "path_key",
    "folder",
    "filename",
    "name_order",
    "thumbnail",
    "moved_from",
    "moved_at",
    "missing",
    "missing_job",
    "updated_at",
    # A move across file systems gives the file a new inode.
    "inode",
}
KEPT_FIELDS = [f.attname for f in Video._meta.concrete_fields if f.name not in PLACE_FIELDS]


@pytest.fixture
def probed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The files the scanner probes (the real probe still runs)."""
    calls: list[str] = []

    def counting_open(path: str) -> VideoFile:
        calls.append(path)
        return open_video(path)

    monkeypatch.setattr(scanner, "open_video", counting_open)
    yield calls


def scan(folder: Path, recursive: bool = True) -> Job:
    job = lifecycle.create_scan(str(folder), recursive).job
    assert run_here(job) == Status.COMPLETE
    job.refresh_from_db()
    return job


def kept(video: Video) -> dict[str, Any]:
    return {name: getattr(video, name) for name in KEPT_FIELDS}


def thumbnail_identity(video: Video) -> tuple[int, int, bytes]:
    """The JPEG's inode, mtime and bytes: a thumbnail made again would change them."""
    path = settings.STOAT_THUMB_DIR / video.thumbnail
    st = path.stat()
    return st.st_ino, st.st_mtime_ns, path.read_bytes()


def distinct_clip(path: Path, n: int) -> Path:
    """A clip whose content (and size) differs from the clips made with another `n`."""
    return make_clip(path, seconds=1 + n * 0.2, width=160 + 16 * n)


def test_a_renamed_file_keeps_its_video_and_is_not_read_again(
    library_dir: Path, probed: list[str]
) -> None:
    clip = distinct_clip(library_dir / "holiday.mp4", 1)
    # A tiny file: it is hashed whole.
    assert clip.stat().st_size < WHOLE_UP_TO
    distinct_clip(library_dir / "other.mp4", 2)
    scan(library_dir)
    before = Video.objects.get(filename="holiday.mp4")
    thumb = thumbnail_identity(before)
    probed.clear()

    renamed = library_dir / "Holiday in Rome.mp4"
    clip.rename(renamed)
    job = scan(library_dir)

    after = Video.objects.get(pk=before.pk)
    assert (after.path, after.filename, after.folder) == (
        str(renamed),
        renamed.name,
        str(library_dir),
    )
    assert kept(after) == kept(before)
    assert after.name_order == name_key(renamed.name)
    assert after.inode == before.inode == renamed.stat().st_ino
    assert after.fingerprint and after.missing is False
    assert (after.moved_from, after.moved_at is not None) == (str(clip), True)
    assert thumbnail_identity(after) == thumb
    assert probed == []
    assert (job.moved, job.new, job.missing, job.updated) == (1, 0, 0, 0)
    assert Video.objects.count() == 2
    move = VideoMove.objects.get(video=after)
    assert (move.from_path, move.to_path, move.job_id) == (str(clip), str(renamed), job.pk)
    assert not ScanArrival.objects.exists()


def test_a_file_moved_to_another_folder_keeps_its_video(library_dir: Path) -> None:
    clip = distinct_clip(library_dir / "a" / "x.mp4", 1)
    scan(library_dir)
    before = Video.objects.get()

    target = library_dir / "b" / "deeper" / "x.mp4"
    target.parent.mkdir(parents=True)
    clip.rename(target)
    job = scan(library_dir)

    after = Video.objects.get()
    assert after.pk == before.pk
    assert (after.path, after.folder, after.moved_from) == (
        str(target),
        str(target.parent),
        str(clip),
    )
    assert kept(after) == kept(before)
    assert (job.moved, job.new, job.missing) == (1, 0, 0)


def test_a_whole_tree_moved_keeps_every_video(library_dir: Path, probed: list[str]) -> None:
    old = library_dir / "2023"
    for n in range(6):
        distinct_clip(old / f"trip{n % 2}" / f"v{n}.mp4", n)
    scan(library_dir)
    before = {v.pk: v for v in Video.objects.all()}
    probed.clear()

    new = library_dir / "archive" / "2023"
    new.parent.mkdir()
    old.rename(new)
    job = scan(library_dir)

    after = {v.pk: v for v in Video.objects.all()}
    assert set(after) == set(before)
    for pk, video in after.items():
        was = before[pk]
        assert video.path == was.path.replace(str(old), str(new))
        assert video.moved_from == was.path
        assert kept(video) == kept(was)
    assert (job.moved, job.new, job.missing) == (6, 0, 0)
    assert probed == []


def test_two_files_that_swap_names_swap_paths(library_dir: Path) -> None:
    a = distinct_clip(library_dir / "a.mp4", 1)
    b = distinct_clip(library_dir / "b.mp4", 2)
    scan(library_dir)
    video_a = Video.objects.get(filename="a.mp4")
    video_b = Video.objects.get(filename="b.mp4")

    a.rename(library_dir / "tmp")
    b.rename(a)
    (library_dir / "tmp").rename(b)
    job = scan(library_dir)

    after_a = Video.objects.get(pk=video_a.pk)
    after_b = Video.objects.get(pk=video_b.pk)
    assert (after_a.path, after_a.moved_from) == (str(b), str(a))
    assert (after_b.path, after_b.moved_from) == (str(a), str(b))
    assert kept(after_a) == kept(video_a) and kept(after_b) == kept(video_b)
    assert (job.moved, job.new, job.updated, job.missing) == (2, 0, 0, 0)
    assert Video.objects.count() == 2


def test_a_file_moved_and_changed_is_a_new_video(library_dir: Path) -> None:
    clip = distinct_clip(library_dir / "a" / "x.mp4", 1)
    scan(library_dir)
    old = Video.objects.get()

    clip.unlink()
    distinct_clip(library_dir / "b" / "x.mp4", 2)  # same name, other content and size
    job = scan(library_dir)

    old.refresh_from_db()
    new = Video.objects.exclude(pk=old.pk).get()
    assert (old.missing, old.path) == (True, str(clip))
    assert (new.path, new.moved_from, new.size != old.size) == (
        str(library_dir / "b" / "x.mp4"),
        "",
        True,
    )
    assert new.fingerprint != old.fingerprint
    assert (job.moved, job.new, job.missing) == (0, 1, 1)


def test_a_copy_is_a_new_video_with_the_same_fingerprint(library_dir: Path) -> None:
    clip = distinct_clip(library_dir / "x.mp4", 1)
    scan(library_dir)
    original = Video.objects.get()

    shutil.copy2(clip, library_dir / "copy of x.mp4")
    job = scan(library_dir)

    copy = Video.objects.exclude(pk=original.pk).get()
    original.refresh_from_db()
    assert (original.path, original.missing, original.moved_from) == (str(clip), False, "")
    assert (copy.path, copy.moved_from) == (str(library_dir / "copy of x.mp4"), "")
    assert (copy.size, copy.fingerprint) == (original.size, original.fingerprint)
    assert (job.moved, job.new) == (0, 1)


def test_a_missing_file_that_reappears_elsewhere_takes_back_its_row(
    library_dir: Path, tmp_path: Path
) -> None:
    clip = distinct_clip(library_dir / "x.mp4", 1)
    scan(library_dir)
    video = Video.objects.get()

    outside = tmp_path / "outside.mp4"
    clip.rename(outside)
    gone = scan(library_dir)
    video.refresh_from_db()
    assert (gone.missing, video.missing, video.missing_job_id) == (1, True, gone.pk)

    back = library_dir / "found" / "y.mp4"
    back.parent.mkdir()
    outside.rename(back)
    job = scan(library_dir)

    after = Video.objects.get()
    assert after.pk == video.pk
    assert (after.path, after.missing, after.moved_from) == (str(back), False, str(clip))
    assert kept(after) == kept(video)
    # It was missing before this scan, so this scan found no file missing.
    assert (job.moved, job.new, job.missing) == (1, 0, 0)


def test_a_file_moved_into_another_scanned_folder_is_found_by_that_scan(
    library_dir: Path,
) -> None:
    clip = distinct_clip(library_dir / "a" / "x.mp4", 1)
    scan(library_dir)
    video = Video.objects.get()

    target = library_dir / "b" / "x.mp4"
    target.parent.mkdir()
    clip.rename(target)
    # Only the new folder is scanned: the old path is outside it and gone from disk.
    job = scan(library_dir / "b")

    after = Video.objects.get()
    assert (after.pk, after.path, after.missing) == (video.pk, str(target), False)
    assert (job.moved, job.new) == (1, 0)


def test_identical_copies_moved_together_each_keep_their_name(library_dir: Path) -> None:
    first = distinct_clip(library_dir / "a" / "one.mp4", 1)
    second = library_dir / "a" / "two.mp4"
    shutil.copy2(first, second)
    scan(library_dir)
    one = Video.objects.get(filename="one.mp4")
    two = Video.objects.get(filename="two.mp4")

    (library_dir / "a").rename(library_dir / "b")
    job = scan(library_dir)

    one.refresh_from_db()
    two.refresh_from_db()
    assert (one.path, two.path) == (
        str(library_dir / "b" / "one.mp4"),
        str(library_dir / "b" / "two.mp4"),
    )
    assert (job.moved, job.new) == (2, 0)


def test_an_empty_file_is_never_a_move(library_dir: Path) -> None:
    (library_dir / "a.mp4").touch()
    scan(library_dir)
    (library_dir / "a.mp4").rename(library_dir / "b.mp4")

    job = scan(library_dir)

    assert Video.objects.count() == 0
    assert (job.moved, job.error_count) == (0, 1)
    assert job.file_errors.get().path == str(library_dir / "b.mp4")


def test_a_moved_file_unreadable_after_the_walk_is_an_error_and_stays_missing(
    library_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clip = distinct_clip(library_dir / "x.mp4", 1)
    scan(library_dir)
    video = Video.objects.get()
    moved = library_dir / "y.mp4"
    clip.rename(moved)

    def walk_then_remove(*args: Any, **kwargs: Any) -> Iterator[Any]:
        yield from walk_chunks(*args, **kwargs)
        os.remove(moved)  # gone between the walk and the read

    monkeypatch.setattr(scanner, "walk_chunks", walk_then_remove)
    job = scan(library_dir)

    video.refresh_from_db()
    assert (video.path, video.missing) == (str(clip), True)
    error = job.file_errors.get()
    assert (error.path, error.message) == (str(moved), "the file disappeared during the scan")
    assert (job.moved, job.new, job.missing, job.error_count) == (0, 0, 1, 1)


def test_a_touched_file_is_read_again_in_place(library_dir: Path, probed: list[str]) -> None:
    clip = distinct_clip(library_dir / "x.mp4", 1)
    shutil.copy2(clip, library_dir / "y.mp4")
    scan(library_dir)
    video = Video.objects.get(filename="x.mp4")
    probed.clear()

    os.utime(clip, ns=(0, clip.stat().st_mtime_ns + 10**9))
    job = scan(library_dir)

    after = Video.objects.get(pk=video.pk)
    assert (after.path, after.mtime_ns, after.moved_from) == (
        str(clip),
        clip.stat().st_mtime_ns,
        "",
    )
    assert probed == [str(clip)]
    assert (job.moved, job.updated, job.new) == (0, 1, 0)


def scan_through_the_queue(folder: Path, on_commit: Callable[..., Any]) -> Job:
    """Ask for a scan as the page does; `sync_tasks` runs each task it queues at once."""
    with on_commit(execute=True):
        job = services.start_scan(str(folder)).job
    job.refresh_from_db()
    return job


def test_a_move_across_two_batches_is_one_move(
    library_dir: Path,
    settings: LazySettings,
    sync_tasks: None,
    probed: list[str],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    settings.STOAT_BATCH_MIN = 2
    first = distinct_clip(library_dir / "old" / "one.mp4", 1)
    shutil.copy2(first, library_dir / "old" / "two.mp4")
    for n in range(2, 6):
        distinct_clip(library_dir / "old" / f"v{n}.mp4", n)
    first_scan = scan_through_the_queue(library_dir, django_capture_on_commit_callbacks)
    assert (first_scan.status, first_scan.batches_total > 1) == (Status.COMPLETE, True)
    before = {v.pk: v for v in Video.objects.all()}
    probed.clear()

    # Moved as across file systems (copied, then removed): new inodes, so each file is
    # fingerprinted, by whichever batch reads it.
    shutil.copytree(library_dir / "old", library_dir / "new")
    shutil.rmtree(library_dir / "old")
    for n in range(6, 9):  # new files, so the reading splits into batches
        distinct_clip(library_dir / "new" / f"v{n}.mp4", n)
    job = scan_through_the_queue(library_dir, django_capture_on_commit_callbacks)

    assert (job.status, job.batches_total > 1) == (Status.COMPLETE, True)
    after = {v.pk: v for v in Video.objects.filter(pk__in=before)}
    for pk, video in after.items():
        assert video.path == before[pk].path.replace("/old/", "/new/")
        assert kept(video) == kept(before[pk])
    assert (job.moved, job.new, job.missing, job.processed, job.found) == (6, 3, 0, 9, 9)
    assert sorted(probed) == sorted(str(library_dir / "new" / f"v{n}.mp4") for n in (6, 7, 8))
    assert Video.objects.count() == 9


def test_the_page_and_the_api_say_where_a_moved_file_was(library_dir: Path, client: Client) -> None:
    clip = distinct_clip(library_dir / "a" / "x.mp4", 1)
    scan(library_dir)
    video = Video.objects.get()
    middle = library_dir / "b" / "x.mp4"
    middle.parent.mkdir()
    clip.rename(middle)
    scan(library_dir)
    final = library_dir / "b" / "y.mp4"
    middle.rename(final)
    job = scan(library_dir)

    page = client.get(f"/videos/{video.pk}/").content.decode()
    assert f"This file was at <code>{middle}</code>" in page
    assert f"<code>{clip}</code> → <code>{middle}</code>" in page
    data = client.get(f"/api/v1/videos/{video.pk}").json()
    assert (data["id"], data["path"], data["moved_from"]) == (video.pk, str(final), str(middle))
    assert data["moved_at"] is not None
    assert client.get(f"/api/v1/jobs/{job.pk}").json()["result"]["moved"] == 1
    assert "<dt>Moved</dt><dd" in client.get(f"/jobs/{job.pk}/").content.decode()
    assert list(video.moves.values_list("from_path", "to_path")) == [
        (str(middle), str(final)),
        (str(clip), str(middle)),
    ]


def test_a_moved_file_whose_read_hangs_is_a_timed_out_error_and_the_others_still_move(
    library_dir: Path, settings: LazySettings
) -> None:
    from stoat.core.time_limit import abandoned_steps
    from tests.hanging import hanging_file, release
    from tests.test_reliability_time_limit import wait_for_abandoned_steps_to_end

    for n in range(3):
        distinct_clip(library_dir / "old" / f"v{n}.mp4", n)
    scan(library_dir)
    before = {v.filename: v.pk for v in Video.objects.all()}
    # Copied, then removed (new inodes): each file has to be fingerprinted.
    shutil.copytree(library_dir / "old", library_dir / "new")
    shutil.rmtree(library_dir / "old")
    stalled = library_dir / "new" / "v1.mp4"
    settings.STOAT_FILE_TIME_LIMIT = 1
    job = lifecycle.create_scan(str(library_dir)).job

    with hanging_file(stalled) as holder:
        assert run_here(job) == Status.COMPLETE
        assert abandoned_steps() == 1
        release(holder)
    wait_for_abandoned_steps_to_end()

    job.refresh_from_db()
    error = job.file_errors.get()
    assert (error.path, error.message.startswith("reading the file timed out")) == (
        str(stalled),
        True,
    )
    assert (job.moved, job.new, job.error_count, job.processed) == (2, 0, 1, 3)
    paths = dict(Video.objects.values_list("pk", "path"))
    assert paths[before["v0.mp4"]] == str(library_dir / "new" / "v0.mp4")
    assert paths[before["v2.mp4"]] == str(library_dir / "new" / "v2.mp4")
    assert paths[before["v1.mp4"]] == str(library_dir / "old" / "v1.mp4")
    assert Video.objects.get(pk=before["v1.mp4"]).missing


def test_with_fingerprints_off_nothing_is_fingerprinted_and_a_rename_is_a_new_video(
    library_dir: Path, settings: LazySettings
) -> None:
    settings.STOAT_FINGERPRINTS = False
    clip = distinct_clip(library_dir / "x.mp4", 1)
    scan(library_dir)
    old = Video.objects.get()
    clip.rename(library_dir / "y.mp4")

    job = scan(library_dir)

    new = Video.objects.exclude(pk=old.pk).get()
    assert (old.fingerprint, new.fingerprint, new.path) == ("", "", str(library_dir / "y.mp4"))
    assert (job.moved, job.new, job.missing) == (0, 1, 1)


def test_a_new_file_at_a_moved_videos_old_path_does_not_take_its_thumbnail(
    library_dir: Path,
) -> None:
    clip = distinct_clip(library_dir / "x.mp4", 1)
    scan(library_dir)
    moved = Video.objects.get()
    clip.rename(library_dir / "y.mp4")
    scan(library_dir)
    moved.refresh_from_db()
    thumb = thumbnail_identity(moved)

    distinct_clip(library_dir / "x.mp4", 3)  # another video where the moved one was
    job = scan(library_dir)

    moved.refresh_from_db()
    newcomer = Video.objects.exclude(pk=moved.pk).get()
    assert (job.new, newcomer.path) == (1, str(clip))
    assert newcomer.thumbnail != moved.thumbnail
    assert thumbnail_identity(moved) == thumb


def test_a_renamed_files_video_that_another_copy_takes_over_is_marked_missing(
    library_dir: Path,
) -> None:
    one = distinct_clip(library_dir / "x" / "one.mp4", 1)
    two = library_dir / "y" / "two.mp4"
    two.parent.mkdir()
    shutil.copy2(one, two)  # the same content and date, another inode
    scan(library_dir)
    first = Video.objects.get(filename="one.mp4")
    copy = Video.objects.get(filename="two.mp4")
    assert first.fingerprint == copy.fingerprint

    two.unlink()
    target = library_dir / "z" / "two.mp4"
    target.parent.mkdir()
    one.rename(target)  # its inode says `first`, its name says `copy`: the name wins
    job = scan(library_dir)

    first.refresh_from_db()
    copy.refresh_from_db()
    assert (copy.path, copy.missing, copy.moved_from) == (str(target), False, str(two))
    assert (first.path, first.missing, first.missing_job_id) == (str(one), True, job.pk)
    assert (job.moved, job.missing, job.new) == (1, 1, 0)
    assert Video.objects.count() == 2


def test_a_move_whose_writes_fail_keeps_its_thumbnail_under_the_stored_name(
    library_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clip = distinct_clip(library_dir / "x.mp4", 1)
    scan(library_dir)
    video = Video.objects.get()
    thumb = thumbnail_identity(video)
    clip.rename(library_dir / "y.mp4")

    class Broken:
        @staticmethod
        def progress(job_id: int, **changes: object) -> bool:
            raise RuntimeError("the database went away")

    monkeypatch.setattr(moves, "lifecycle", Broken)
    job = lifecycle.create_scan(str(library_dir)).job
    assert run_here(job) == Status.FAILED

    after = Video.objects.get()
    assert (after.path, after.thumbnail) == (video.path, video.thumbnail)
    assert thumbnail_identity(after) == thumb
    assert not VideoMove.objects.exists()
