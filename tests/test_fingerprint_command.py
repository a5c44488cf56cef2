"""`manage.py fingerprint`: videos stored before fingerprints existed gain them, boundedly."""

from __future__ import annotations

import io
import signal
from pathlib import Path

import pytest
from django.core.management import call_command

from stoat.library import backfill
from stoat.library.backfill import fingerprint_videos
from stoat.library.fingerprint import SAMPLE
from stoat.library.models import Video
from stoat.scans import lifecycle
from stoat.scans.models import Job, Status
from stoat.scans.runner import run_here
from tests.media import make_clip

pytestmark = pytest.mark.django_db


def scan(folder: Path) -> Job:
    job = lifecycle.create_scan(str(folder)).job
    assert run_here(job) == Status.COMPLETE
    job.refresh_from_db()
    return job


def old_library(folder: Path, count: int) -> dict[int, str]:
    """Videos stored as before fingerprints existed: the scan's fingerprints, then forgotten."""
    for n in range(count):
        clip = make_clip(folder / f"v{n}.mp4", seconds=1 + n * 0.2)
        with clip.open("ab") as file:
            file.write(bytes([n]) * (300 * 1024))  # larger than the three samples
    scan(folder)
    prints = dict(Video.objects.values_list("pk", "fingerprint"))
    Video.objects.update(fingerprint="", inode=None)
    return prints


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("fingerprint", *args, stdout=out)
    return out.getvalue()


def test_it_gives_each_video_the_fingerprint_a_scan_would(library_dir: Path) -> None:
    expected = old_library(library_dir, 3)

    output = run()

    assert dict(Video.objects.values_list("pk", "fingerprint")) == expected
    assert all(Video.objects.values_list("inode", flat=True))
    assert "3/3 files" in output
    assert "done: 3 fingerprinted, 0 skipped" in output
    assert f"{3 * 3 * SAMPLE // 1024:,} KiB read" in output
    # Nothing is left to do, so a second run reads nothing.
    assert "0 fingerprinted" in run()


def test_a_renamed_file_of_an_old_library_keeps_its_video_once_fingerprinted(
    library_dir: Path,
) -> None:
    old_library(library_dir, 2)
    run()
    video = Video.objects.get(filename="v0.mp4")
    (library_dir / "v0.mp4").rename(library_dir / "renamed.mp4")

    job = scan(library_dir)

    video.refresh_from_db()
    assert (video.path, video.moved_from) == (
        str(library_dir / "renamed.mp4"),
        str(library_dir / "v0.mp4"),
    )
    assert (job.moved, job.new) == (1, 0)


def test_all_fingerprints_every_video_again(library_dir: Path) -> None:
    expected = old_library(library_dir, 2)
    run()
    Video.objects.filter(filename="v0.mp4").update(fingerprint="0" * 32)

    assert "0 fingerprinted" in run()
    output = run("--all")

    assert "2 fingerprinted" in output
    assert dict(Video.objects.values_list("pk", "fingerprint")) == expected


def test_a_file_changed_or_gone_since_its_scan_is_left_to_the_next_scan(
    library_dir: Path,
) -> None:
    old_library(library_dir, 3)
    with (library_dir / "v0.mp4").open("ab") as file:
        file.write(b"grown")
    (library_dir / "v1.mp4").unlink()

    result = fingerprint_videos()

    assert (result.total, result.fingerprinted, result.skipped) == (3, 1, 2)
    assert list(Video.objects.exclude(fingerprint="").values_list("filename", flat=True)) == [
        "v2.mp4"
    ]


def test_ctrl_c_stops_between_files_and_a_second_run_goes_on(
    library_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = old_library(library_dir, 4)
    real_one = backfill.fingerprint_one
    seen: list[int] = []

    def one_then_interrupt(video: Video, progress: backfill.Backfill) -> None:
        seen.append(video.pk)
        real_one(video, progress)
        if len(seen) == 2:
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(backfill, "fingerprint_one", one_then_interrupt)
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("fingerprint", stdout=out)

    assert exit_info.value.code == 2
    assert "cancelled: 2 fingerprinted" in out.getvalue()
    assert Video.objects.exclude(fingerprint="").count() == 2
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler

    assert "2 fingerprinted" in run()
    assert dict(Video.objects.values_list("pk", "fingerprint")) == expected


def test_a_scan_fingerprints_an_old_video_when_a_file_of_its_size_turns_up(
    library_dir: Path,
) -> None:
    expected = old_library(library_dir, 2)
    original = Video.objects.get(filename="v0.mp4")
    copy = library_dir / "copy of v0.mp4"
    copy.write_bytes((library_dir / "v0.mp4").read_bytes())

    job = scan(library_dir)

    original.refresh_from_db()
    new = Video.objects.get(filename=copy.name)
    assert original.fingerprint == expected[original.pk] == new.fingerprint
    # Only the video whose size the new file has was fingerprinted.
    assert Video.objects.get(filename="v1.mp4").fingerprint == ""
    assert (job.new, job.moved) == (1, 0)
