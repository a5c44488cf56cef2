from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from stoat.library.probe import ProbeError
from stoat.library.thumbnails import make_thumbnail, seek_target, thumbnail_name
from tests.media import make_audio_file, make_clip


def green_level(path: Path) -> int:
    with Image.open(path) as image:
        pixel = image.convert("RGB").getpixel((image.width // 2, image.height // 2))
    assert isinstance(pixel, tuple)
    return int(pixel[1])


def test_thumbnail_is_a_scaled_jpeg(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "wide.mp4", width=640, height=360)
    dest = tmp_path / "thumbs" / "ab" / "x.jpg"

    make_thumbnail(str(clip), dest, duration=1.0, max_size=320)

    with Image.open(dest) as image:
        assert image.format == "JPEG"
        assert image.size == (320, 180)
    assert not list(dest.parent.glob("*.tmp"))


def test_long_video_thumbnail_is_not_the_first_frame(tmp_path: Path) -> None:
    # The test clip's green fades from 215 at the start towards 35 at the end.
    clip = make_clip(tmp_path / "long.mp4", seconds=10, fps=10)
    first = tmp_path / "first.jpg"
    later = tmp_path / "later.jpg"

    make_thumbnail(str(clip), first, duration=None, max_size=160)
    make_thumbnail(str(clip), later, duration=10.0, max_size=160)

    assert green_level(first) > 200
    assert green_level(later) < green_level(first) - 10


def test_seek_target_skips_the_opening_of_long_videos() -> None:
    assert seek_target(None) == 0.0
    assert seek_target(3.0) == 0.0
    assert seek_target(10.0) == 1.0
    assert seek_target(600.0) == 60.0
    assert seek_target(36000.0) == 120.0


def test_file_without_video_stream_has_no_thumbnail(tmp_path: Path) -> None:
    song = make_audio_file(tmp_path / "song.m4a")
    with pytest.raises(ProbeError, match="no video stream"):
        make_thumbnail(str(song), tmp_path / "t.jpg", duration=1.0, max_size=100)


def test_thumbnail_name_spreads_files_over_folders() -> None:
    assert thumbnail_name("abcdef") == "ab/abcdef.jpg"
