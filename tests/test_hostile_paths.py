"""Hostile names and shapes in the file system: the scan completes and says what it passed over."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from django.conf import LazySettings
from django.test import Client

from stoat.library.models import Video, display_path, path_key
from stoat.scans.models import Status
from tests.hostile import assert_completed_with_the_good_clip, errors_of, scan, with_a_good_clip
from tests.media import make_clip

pytestmark = pytest.mark.django_db


def test_a_folder_named_like_a_video_is_entered_not_read(library_dir: Path) -> None:
    good = with_a_good_clip(library_dir)
    inside = make_clip(library_dir / "x.mkv" / "inside.mp4")

    job = scan(library_dir)

    assert_completed_with_the_good_clip(job, good)
    assert (job.found, job.new, job.error_count) == (2, 2, 0)
    assert Video.objects.filter(path=str(inside)).exists()


def test_a_fifo_named_mp4_is_never_opened_and_is_an_error(
    library_dir: Path, settings: LazySettings
) -> None:
    good = with_a_good_clip(library_dir)
    fifo = library_dir / "x.mp4"
    os.mkfifo(fifo)
    # Were it opened, it would block (no writer) until this limit and say "timed out" instead.
    settings.STOAT_FILE_TIME_LIMIT = 2

    job = scan(library_dir)

    assert_completed_with_the_good_clip(job, good)
    assert errors_of(job) == {
        str(fifo): "not a regular file (a pipe, socket or device); it was not opened"
    }


def test_a_broken_symlink_is_an_error_saying_its_target_is_missing(library_dir: Path) -> None:
    good = with_a_good_clip(library_dir)
    link = library_dir / "broken.mp4"
    link.symlink_to(library_dir / "moved-away.mp4")

    job = scan(library_dir)

    assert_completed_with_the_good_clip(job, good)
    assert errors_of(job) == {str(link): "a broken link: the file it points to does not exist"}


def test_symlink_loops_end_and_a_looping_file_link_is_an_error(library_dir: Path) -> None:
    good = with_a_good_clip(library_dir)
    (library_dir / "sub").mkdir()
    (library_dir / "sub" / "back-up").symlink_to(library_dir)  # a folder loop: entered once
    ping, pong = library_dir / "ping.mp4", library_dir / "pong.mp4"
    ping.symlink_to(pong)
    pong.symlink_to(ping)

    job = scan(library_dir)

    assert_completed_with_the_good_clip(job, good)
    loop = "the path goes round a loop of symbolic links"
    assert errors_of(job) == {str(ping): loop, str(pong): loop}
    assert Video.objects.count() == 1


def test_a_symlink_to_a_file_outside_the_folder_is_not_followed_and_says_so(
    library_dir: Path, tmp_path: Path
) -> None:
    good = with_a_good_clip(library_dir)
    secret = make_clip(tmp_path / "elsewhere" / "secret.mp4")
    link = library_dir / "peek.mp4"
    link.symlink_to(secret)

    job = scan(library_dir)

    assert_completed_with_the_good_clip(job, good)
    assert "outside the folders being scanned" in errors_of(job)[str(link)]
    assert not Video.objects.filter(path__contains="secret").exists()
    assert not Video.objects.filter(path=str(link)).exists()


NAMES = [
    "two  spaces .mp4",
    'it\'s "quoted".mp4',
    "line\nbreak.mp4",
    "emoji 🎬🦦.mp4",
    "tab\tand\rreturn.mp4",
]
NOT_UTF8 = b"caf\xe9 latin-1.mp4"


def test_awkward_names_are_stored_once_and_shown_readably(
    library_dir: Path, client: Client
) -> None:
    source = make_clip(library_dir / "source.mp4")
    for name in NAMES:
        os.link(source, library_dir / name)
    raw = os.path.join(os.fsencode(library_dir), NOT_UTF8)
    os.link(source, raw)

    job = scan(library_dir)
    again = scan(library_dir)

    assert (job.status, job.found, job.new, job.error_count) == (Status.COMPLETE, 7, 7, 0)
    assert (again.new, again.unchanged, Video.objects.count()) == (0, 7, 7)
    stored = set(Video.objects.values_list("filename", flat=True))
    assert stored == {"source.mp4", *NAMES, "caf\\xe9 latin-1.mp4"}
    latin = Video.objects.get(filename="caf\\xe9 latin-1.mp4")
    assert latin.path_key == path_key(os.fsdecode(raw))
    assert latin.path == display_path(os.fsdecode(raw))
    page = client.get("/?q=latin").content.decode()
    assert "caf\\xe9 latin-1.mp4" in page
    assert client.get(f"/videos/{latin.pk}/thumbnail.jpg").status_code == 200
    assert client.get(f"/jobs/{job.pk}/").status_code == 200


def test_a_path_4000_bytes_long_is_scanned(library_dir: Path) -> None:
    source = make_clip(library_dir / "source.mp4")
    deep = library_dir
    while len(os.fsencode(deep)) < 4000 - 250:
        deep = deep / ("d" * 200)
    deep.mkdir(parents=True)
    name = "v" * (4000 - len(os.fsencode(deep)) - 1 - len(".mp4")) + ".mp4"
    target = deep / name
    os.link(source, target)
    assert len(os.fsencode(target)) == 4000

    job = scan(library_dir)

    assert (job.status, job.found, job.new, job.error_count) == (Status.COMPLETE, 2, 2, 0)
    assert Video.objects.get(filename=name).path == str(target)


def test_twenty_levels_of_folders_are_scanned(library_dir: Path) -> None:
    source = make_clip(library_dir / "top.mp4")
    deep = library_dir.joinpath(*[f"level{n:02d}" for n in range(1, 21)])
    deep.mkdir(parents=True)
    os.link(source, deep / "bottom.mp4")

    job = scan(library_dir)

    assert (job.status, job.found, job.new) == (Status.COMPLETE, 2, 2)
    assert Video.objects.get(filename="bottom.mp4").folder == str(deep)


def test_ten_thousand_files_in_one_folder_are_all_accounted_for(library_dir: Path) -> None:
    good = with_a_good_clip(library_dir)
    # Hard links keep it fast: ten thousand names, one inode with nothing in it.
    empty = library_dir / "empty0000.mp4"
    empty.touch()
    for index in range(1, 10_000):
        os.link(empty, library_dir / f"empty{index:04d}.mp4")
    started = time.monotonic()

    job = scan(library_dir)

    took = time.monotonic() - started
    assert_completed_with_the_good_clip(job, good)
    assert (job.found, job.processed, job.new, job.error_count) == (10_001, 10_001, 1, 10_000)
    assert set(errors_of(job).values()) == {"the file is empty (0 bytes)"}
    assert took < 60
