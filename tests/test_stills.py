"""Images with a video extension are "not video"; real videos with one frame or a cover stay."""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path

import av
import pytest
from PIL import Image

from stoat.library.models import Video
from stoat.library.probe import NotAVideo, probe_video
from stoat.library.stills import STILL_IMAGE, is_still_image
from stoat.scans.models import Status
from tests.hostile import scan, with_a_good_clip

# (Pillow format, frames): every kind of image a camera, phone or browser saves.
IMAGES = {
    "jpeg": ("JPEG", 1),
    "png": ("PNG", 1),
    "gif": ("GIF", 1),
    "bmp": ("BMP", 1),
    "webp": ("WEBP", 1),
    "animated-gif": ("GIF", 4),
    "animated-webp": ("WEBP", 4),
    "apng": ("PNG", 4),
}
VIDEO_EXTENSIONS = [".mp4", ".mov", ".mkv"]


def make_image(path: Path, kind: str, size: tuple[int, int] = (96, 64)) -> Path:
    """An image file of `kind` written under `path`, whatever the extension says."""
    image_format, count = IMAGES[kind]
    frames = [Image.new("RGB", size, (40 * i, 200 - 40 * i, 90)) for i in range(count)]
    options: dict[str, object] = {}
    if count > 1:
        options = {"save_all": True, "append_images": frames[1:], "duration": 100, "loop": 0}
    frames[0].save(path, format=image_format, **options)
    return path


def make_one_frame_mjpeg(path: Path) -> Path:
    """A video of one JPEG frame in a real container, as some cameras' time-lapse files are."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mjpeg", rate=25)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuvj420p"
        frame = av.VideoFrame.from_image(Image.new("RGB", (160, 120), (30, 160, 90)))  # type: ignore[no-untyped-call]
        frame.pts = 0
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def make_video_with_cover(path: Path) -> Path:
    """An H.264 MP4 that also carries cover art, as downloaded films and TV recordings do."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        cover = container.add_stream("mjpeg", rate=1)
        cover.width, cover.height, cover.pix_fmt = 64, 64, "yuvj420p"
        cover.disposition = av.stream.Disposition.attached_pic
        poster = av.VideoFrame.from_image(Image.new("RGB", (64, 64), (200, 30, 30)))  # type: ignore[no-untyped-call]
        poster.pts = 0
        container.mux(cover.encode(poster))
        container.mux(cover.encode(None))
        for index in range(25):
            image = Image.new("RGB", (160, 120), (index * 8, 90, 160))
            frame = av.VideoFrame.from_image(image)  # type: ignore[no-untyped-call]
            frame.pts = index
            frame.time_base = Fraction(1, 25)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


@pytest.mark.parametrize("extension", VIDEO_EXTENSIONS)
@pytest.mark.parametrize("kind", IMAGES)
def test_an_image_renamed_to_a_video_extension_is_a_still_image_not_a_video(
    tmp_path: Path, kind: str, extension: str
) -> None:
    image = make_image(tmp_path / f"{kind}{extension}", kind)

    with pytest.raises(NotAVideo) as raised:
        probe_video(str(image))

    assert str(raised.value) == STILL_IMAGE == "a still image, not a video"


def test_a_camera_sized_jpeg_renamed_mp4_is_a_still_image(tmp_path: Path) -> None:
    photo = make_image(tmp_path / "IMG_0001.mp4", "jpeg", size=(4032, 3024))
    with pytest.raises(NotAVideo, match=STILL_IMAGE):
        probe_video(str(photo))


@pytest.mark.parametrize("name", ["one-frame.avi", "one-frame.mp4", "one-frame.mov"])
def test_a_one_frame_mjpeg_video_is_still_a_video(tmp_path: Path, name: str) -> None:
    clip = make_one_frame_mjpeg(tmp_path / name)
    with av.open(str(clip)) as container:
        assert not is_still_image(container)
        assert container.streams.video[0].codec_context.name == "mjpeg"

    info = probe_video(str(clip))

    assert (info.video_codec, info.width, info.height) == ("mjpeg", 160, 120)


def test_a_video_with_cover_art_is_still_a_video(tmp_path: Path) -> None:
    film = make_video_with_cover(tmp_path / "film.mp4")

    info = probe_video(str(film))

    assert (info.video_codec, info.width, info.height) == ("h264", 160, 120)


@pytest.mark.django_db
def test_a_scan_counts_renamed_images_as_not_video_with_the_reason(
    library_dir: Path, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    good = with_a_good_clip(library_dir)
    images = [make_image(library_dir / f"{kind}.mov", kind) for kind in IMAGES]
    mjpeg = make_one_frame_mjpeg(library_dir / "one-frame.avi")
    cover = make_video_with_cover(library_dir / "film.mp4")

    with caplog.at_level(logging.INFO, logger="stoat"):
        job = scan(library_dir)

    assert job.status == Status.COMPLETE
    assert job.skipped == len(IMAGES)
    assert (job.new, job.error_count) == (3, 0)
    assert set(Video.objects.values_list("filename", flat=True)) == {
        good.name,
        mjpeg.name,
        cover.name,
    }
    for image in images:
        assert f"skipped {image}: a still image, not a video" in caplog.messages
