"""The watcher as it runs: real `watch` and `qcluster` processes on a real file system."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from stoat.library.models import Video
from stoat.scans.models import Job, ScanError, Status
from stoat.watch.models import Mode
from tests.libraries import add_library
from tests.media import make_clip
from tests.watching import kill, lease_of, start_watch, wait_watched, watch_scans, watching
from tests.worker import holds_for, qcluster, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def indexed(name: str) -> bool:
    return Video.objects.filter(filename=name, missing=False).exists()


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    """A clip made outside the library, to be copied in as a person would."""
    return make_clip(tmp_path / "staging" / "clip.mp4", seconds=1, width=320, height=240)


def test_a_copied_file_appears_with_its_thumbnail_and_a_deleted_one_goes_missing(
    client: Client, library_dir: Path, data_dir: Path, clip: Path
) -> None:
    library = add_library(library_dir, every="off")
    (library_dir / "holidays").mkdir()

    with qcluster(data_dir), watching(data_dir):
        wait_watched(library, Mode.EVENTS)
        shutil.copy(clip, library_dir / "holidays" / "beach.mp4")
        wait_for(lambda: indexed("beach.mp4"), 30, "the copied file to be indexed")
        (library_dir / "holidays" / "beach.mp4").unlink()
        wait_for(
            lambda: Video.objects.filter(filename="beach.mp4", missing=True).exists(),
            30,
            "the deleted file to be marked missing",
        )

    video = Video.objects.get(filename="beach.mp4")
    assert (data_dir / "thumbs" / video.thumbnail).is_file()
    first = watch_scans(library)[0]
    assert first.label == f"watch: 1 file in {library_dir / 'holidays'}"
    assert (first.path, first.recursive) == (str(library_dir / "holidays"), False)
    page = client.get(reverse("scans:jobs")).content.decode()
    # Long labels are cut in the middle; the start and the folder's name stay.
    assert "watch: 1 file in /" in page and "holidays" in page


def test_a_file_written_slowly_is_read_only_once_it_has_settled(
    library_dir: Path, data_dir: Path, clip: Path
) -> None:
    library = add_library(library_dir, every="off")
    data = clip.read_bytes()
    target = library_dir / "slow.mp4"

    # Settling takes 2 s here: a busy machine pausing this writer must not end its writing.
    with qcluster(data_dir), watching(data_dir, STOAT_WATCH_SETTLE="2"):
        wait_watched(library, Mode.EVENTS)
        with target.open("wb") as out:
            # A write every 0.2 s: never quiet for the settling time until the end.
            for start in range(0, len(data), len(data) // 10 + 1):
                out.write(data[start : start + len(data) // 10 + 1])
                out.flush()
                assert not watch_scans(library), "a scan started while the file was written"
                time.sleep(0.2)
        written = time.time()
        wait_for(lambda: indexed("slow.mp4"), 30, "the settled file to be indexed")

    (scan,) = watch_scans(library)
    assert scan.created_at.timestamp() >= written
    assert Video.objects.get(filename="slow.mp4").size == len(data)
    assert not ScanError.objects.exists()


def test_a_burst_of_files_becomes_one_scan(library_dir: Path, data_dir: Path, clip: Path) -> None:
    library = add_library(library_dir, every="off")
    staging = clip.parent / "burst"
    staging.mkdir()
    for index in range(200):
        shutil.copy(clip, staging / f"burst{index:03d}.mp4")

    with qcluster(data_dir), watching(data_dir):
        wait_watched(library, Mode.EVENTS)
        shutil.move(str(staging), str(library_dir / "burst"))
        wait_for(
            lambda: Video.objects.filter(folder=str(library_dir / "burst")).count() == 200,
            90,
            "all 200 files to be indexed",
        )

    (scan,) = watch_scans(library)
    assert scan.new == 200 and scan.status == Status.COMPLETE


def test_a_watcher_killed_and_restarted_finds_the_files_added_meanwhile(
    library_dir: Path, data_dir: Path, clip: Path
) -> None:
    library = add_library(library_dir, every="off")

    with qcluster(data_dir):
        watcher = start_watch(data_dir)
        try:
            wait_watched(library, Mode.EVENTS)
        finally:
            kill(watcher)
        shutil.copy(clip, library_dir / "while-down.mp4")
        Job.objects.all().delete()
        with watching(data_dir):
            wait_for(lambda: indexed("while-down.mp4"), 30, "the file added while down")

    comparison = Job.objects.get(label__startswith="watch: comparing")
    assert comparison.new == 1


def test_of_two_watchers_one_watches_and_the_other_takes_over_after_a_kill(
    library_dir: Path, data_dir: Path, clip: Path
) -> None:
    library = add_library(library_dir, every="off")

    with qcluster(data_dir):
        first = start_watch(data_dir, "host-a")
        second = start_watch(data_dir, "host-b")
        try:
            lease = wait_watched(library, Mode.EVENTS)
            holder, other = (
                (first, second) if lease.holder.startswith("host-a") else (second, first)
            )
            standby = "host-b" if lease.holder.startswith("host-a") else "host-a"
            # The other one keeps trying, and keeps failing, while the holder beats.
            assert holds_for(lambda: lease_of(library).holder == lease.holder, 4)  # type: ignore[union-attr]

            kill(holder)
            killed_at = time.monotonic()
            wait_watched(library, Mode.EVENTS, by=standby, timeout=15)
            assert time.monotonic() - killed_at < 3 + 2 + 3  # lease + refresh + margin
            shutil.copy(clip, library_dir / "after-takeover.mp4")
            wait_for(lambda: indexed("after-takeover.mp4"), 30, "the new watcher to index")
        finally:
            kill(first)
            kill(second)


def test_polling_finds_a_new_file(library_dir: Path, data_dir: Path, clip: Path) -> None:
    library = add_library(library_dir, every="off", watch="poll", poll_seconds=5)

    with qcluster(data_dir), watching(data_dir):
        wait_watched(library, Mode.POLL)
        shutil.copy(clip, library_dir / "polled.mp4")
        wait_for(lambda: indexed("polled.mp4"), 30, "polling to find the file")

    assert len(watch_scans(library)) == 1


def test_refused_events_fall_back_to_polling_and_say_so(
    client: Client, library_dir: Path, data_dir: Path, clip: Path
) -> None:
    library = add_library(library_dir, every="off", poll_seconds=5)

    with qcluster(data_dir), watching(data_dir, STOAT_WATCH_REFUSE_EVENTS="ENOSPC"):
        lease = wait_watched(library, Mode.POLL)
        assert "max_user_watches" in lease.reason
        page = client.get(reverse("libraries:list")).content.decode()
        assert "watching by polling every 5 s; file-system events were refused" in page
        shutil.copy(clip, library_dir / "fallback.mp4")
        wait_for(lambda: indexed("fallback.mp4"), 30, "polling to find the file")


def test_a_move_inside_the_library_is_noticed_and_the_video_kept(
    library_dir: Path, data_dir: Path, clip: Path
) -> None:
    library = add_library(library_dir, every="off")
    (library_dir / "inbox").mkdir()
    (library_dir / "sorted").mkdir()
    shutil.copy(clip, library_dir / "inbox" / "film.mp4")

    with qcluster(data_dir), watching(data_dir):
        wait_watched(library, Mode.EVENTS)
        before = Video.objects.get(filename="film.mp4")
        os.rename(library_dir / "inbox" / "film.mp4", library_dir / "sorted" / "film.mp4")
        wait_for(
            lambda: Video.objects.filter(folder=str(library_dir / "sorted")).exists(),
            30,
            "the move to be noticed",
        )

    after = Video.objects.get(filename="film.mp4")
    assert after.pk == before.pk and not after.missing
    assert len(watch_scans(library)) == 1


def test_hidden_files_and_system_folders_are_ignored(
    library_dir: Path, data_dir: Path, clip: Path
) -> None:
    library = add_library(library_dir, every="off")
    (library_dir / "@eaDir").mkdir()
    shutil.copy(clip, library_dir / "@eaDir" / "SYNOPHOTO_FILM.mp4")

    with qcluster(data_dir), watching(data_dir):
        wait_watched(library, Mode.EVENTS)
        shutil.copy(clip, library_dir / ".hidden.mp4")
        shutil.copy(clip, library_dir / "@eaDir" / "other.mp4")
        shutil.copy(clip, library_dir / "seen.mp4")
        wait_for(lambda: indexed("seen.mp4"), 30, "the visible file")

    assert list(Video.objects.values_list("filename", flat=True)) == ["seen.mp4"]
