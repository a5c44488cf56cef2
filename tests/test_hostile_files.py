"""Hostile file contents: each a per-file error or skip that names the file; the scan goes on."""

from __future__ import annotations

import logging
import os
import random
from pathlib import Path

import pytest
from PIL import Image

from stoat.library.models import Video
from stoat.scans import scanner
from stoat.scans.models import Status
from tests.hostile import assert_completed_with_the_good_clip, errors_of, scan, with_a_good_clip
from tests.media import make_audio_file, make_clip, truncate

pytestmark = pytest.mark.django_db


def test_a_zero_byte_file_is_an_error_saying_it_is_empty(library_dir: Path) -> None:
    good = with_a_good_clip(library_dir)
    empty = library_dir / "empty.mp4"
    empty.touch()

    job = scan(library_dir)

    assert_completed_with_the_good_clip(job, good)
    assert errors_of(job) == {str(empty): "the file is empty (0 bytes)"}


def test_random_bytes_named_mp4_are_an_error_saying_the_data_is_invalid(library_dir: Path) -> None:
    good = with_a_good_clip(library_dir)
    junk = library_dir / "junk.mp4"
    junk.write_bytes(random.Random(5).randbytes(64 * 1024))

    job = scan(library_dir)

    assert_completed_with_the_good_clip(job, good)
    assert errors_of(job) == {str(junk): "not a video file that can be read: its data is invalid"}


def test_an_mp4_cut_before_its_moov_atom_is_an_error(library_dir: Path) -> None:
    good = with_a_good_clip(library_dir)
    cut = make_clip(library_dir / "cut.mp4", seconds=2)
    data = cut.read_bytes()
    assert data.rfind(b"moov") > len(data) // 2  # the index sits at the end of this file
    truncate(cut, keep=0.5)

    job = scan(library_dir)

    assert_completed_with_the_good_clip(job, good)
    assert errors_of(job) == {str(cut): "not a video file that can be read: its data is invalid"}


def test_a_valid_header_over_a_corrupt_stream_is_an_error_saying_the_stream_is_damaged(
    library_dir: Path,
) -> None:
    good = with_a_good_clip(library_dir)
    damaged = make_clip(library_dir / "damaged.mp4", seconds=2)
    data = bytearray(damaged.read_bytes())
    # Keep the container's boxes (ftyp, mdat header, moov) and scramble the coded pictures.
    start, end = data.find(b"mdat") + 4 + 16, data.rfind(b"moov") - 4
    noise = random.Random(1)
    data[start:end] = bytes(noise.randrange(256) for _ in range(end - start))
    damaged.write_bytes(bytes(data))

    job = scan(library_dir)

    assert_completed_with_the_good_clip(job, good)
    message = errors_of(job)[str(damaged)]
    assert message.startswith("the video stream is damaged")
    assert not Video.objects.filter(filename="damaged.mp4").exists()


def test_audio_with_cover_art_is_skipped_as_not_a_video_naming_the_file(
    library_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    good = with_a_good_clip(library_dir)
    song = make_audio_file(library_dir / "song.mp4", cover=True)

    with caplog.at_level(logging.INFO, logger="stoat"):
        job = scan(library_dir)

    assert_completed_with_the_good_clip(job, good)
    assert (job.skipped, job.error_count, Video.objects.count()) == (1, 0, 1)
    assert f"skipped {song}: only a still cover image, no moving picture" in caplog.messages


def test_an_animated_gif_is_not_in_the_default_list_so_it_is_never_read(
    library_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = with_a_good_clip(library_dir)
    frames = [make_frame(shade) for shade in (0, 120, 240)]
    frames[0].save(library_dir / "dance.gif", save_all=True, append_images=frames[1:])
    read: list[str] = []
    real_read = scanner.read_video

    def recording_read(item: scanner.ReadItem) -> Video:
        read.append(os.path.basename(item.path))
        return real_read(item)

    monkeypatch.setattr(scanner, "read_video", recording_read)

    job = scan(library_dir)

    assert_completed_with_the_good_clip(job, good)
    assert (job.found, job.error_count, job.skipped) == (1, 0, 0)
    assert read == ["good.mp4"]


def make_frame(shade: int) -> Image.Image:
    return Image.new("RGB", (32, 32), (shade, 80, 160))


def test_a_file_deleted_between_the_walk_and_the_probe_is_an_error_saying_it_disappeared(
    library_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = with_a_good_clip(library_dir)
    doomed = make_clip(library_dir / "doomed.mp4")
    real_record_plan = scanner.Scanner.record_plan

    def delete_then_record(self: scanner.Scanner, plan: scanner.Plan) -> None:
        # The walk has listed the file; it goes before anything opens it.
        assert str(doomed) in [item.path for item in plan.to_read]
        doomed.unlink()
        real_record_plan(self, plan)

    monkeypatch.setattr(scanner.Scanner, "record_plan", delete_then_record)

    job = scan(library_dir)

    assert_completed_with_the_good_clip(job, good)
    assert errors_of(job) == {str(doomed): "the file disappeared during the scan"}


def test_a_file_replaced_by_a_different_video_between_scans_is_read_again(
    library_dir: Path, data_dir: Path
) -> None:
    movie = make_clip(library_dir / "movie.mp4", width=160, height=120)
    scan(library_dir)
    first = Video.objects.get()
    old_thumbnail = (data_dir / "thumbs" / first.thumbnail).read_bytes()
    old_mtime = movie.stat().st_mtime_ns
    # A download manager finishing: a new file renamed over the old one, its date kept.
    replacement = make_clip(library_dir / ".movie.part.mkv", width=320, height=240, seconds=2)
    os.replace(replacement, movie)
    os.utime(movie, ns=(old_mtime, old_mtime))

    job = scan(library_dir)

    assert (job.status, job.updated, job.new, job.unchanged) == (Status.COMPLETE, 1, 0, 0)
    video = Video.objects.get()
    assert video.pk == first.pk
    assert (video.width, video.height, video.container) == (320, 240, "matroska,webm")
    assert (data_dir / "thumbs" / video.thumbnail).read_bytes() != old_thumbnail
