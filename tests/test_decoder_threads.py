"""Big keyframes are decoded by slice threads in a worker, on one thread in the foreground."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from stoat.library import thumbnails
from stoat.library.probe import VideoFile, open_video
from stoat.library.thumbnails import Pick, decoder_threads, pick_frame
from stoat.scans import lifecycle, scanner
from stoat.scans.runner import run_here
from tests.media import make_clip


def cores(monkeypatch: pytest.MonkeyPatch, count: int) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(count)))


def test_a_720p_or_larger_picture_gets_a_thread_per_core_up_to_four(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cores(monkeypatch, 2)
    assert decoder_threads(1280, 720) == 2
    assert decoder_threads(3840, 2160, limit=1) == 1
    cores(monkeypatch, 16)
    assert decoder_threads(1920, 1080) == 4


def test_a_small_picture_is_decoded_on_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    cores(monkeypatch, 8)
    assert decoder_threads(640, 360) == 1


def test_slice_threads_give_the_same_keyframe_as_one_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cores(monkeypatch, 2)
    clip = make_clip(tmp_path / "hd.mp4", seconds=2, width=1280, height=720)
    pictures = []
    for threads in (None, 1):
        with open_video(str(clip)) as video:
            pick = pick_frame(video, threads)
            ctx = video.stream.codec_context
            picture = b"".join(bytes(plane) for plane in pick.frame.planes)
            pictures.append((ctx.thread_type, ctx.thread_count, picture))
    (threaded_type, threaded_count, threaded), (single_type, _, single) = pictures

    assert (threaded_type.name, threaded_count) == ("SLICE", 2)
    assert single_type.name == "NONE"
    assert threaded == single


@pytest.mark.django_db
def test_the_foreground_decodes_on_one_thread_and_a_worker_on_every_core(
    library_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_clip(library_dir / "a.mp4", width=1280, height=720)
    asked: list[int | None] = []
    real_write = thumbnails.write_thumbnail

    def spy(video: VideoFile, dest: Path, max_size: int, threads: int | None = None) -> Pick:
        asked.append(threads)
        return real_write(video, dest, max_size, threads)

    monkeypatch.setattr(scanner, "write_thumbnail", spy)

    assert run_here(lifecycle.create_scan(str(library_dir)).job) is not None
    (library_dir / "b.mp4").write_bytes((library_dir / "a.mp4").read_bytes())
    job = lifecycle.create_scan(str(library_dir)).job
    assert lifecycle.claim(job.pk)
    job.refresh_from_db()
    scanner.Scanner(job).run()

    assert asked == [1, None]
