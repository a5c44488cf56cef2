from __future__ import annotations

from pathlib import Path

import av
import pytest
from PIL import Image, ImageStat

from stoat.core.time_limit import call_with_time_limit
from stoat.library.probe import NotAVideo, open_video
from stoat.library.thumbnails import (
    DARK_MEAN,
    FLAT_STDDEV,
    luma_stats,
    make_thumbnail,
    pick_frame,
    seek_target,
    thumbnail_name,
)
from tests.media import damage_keyframes, make_audio_file, make_clip


def green_level(path: Path) -> int:
    with Image.open(path) as image:
        pixel = image.convert("RGB").getpixel((image.width // 2, image.height // 2))
    assert isinstance(pixel, tuple)
    return int(pixel[1])


def brightness(path: Path) -> float:
    with Image.open(path) as image:
        return float(ImageStat.Stat(image.convert("L")).mean[0])


def encodes(codec: str) -> bool:
    try:
        av.codec.Codec(codec, "w")
    except av.codec.codec.UnknownCodecError:
        return False
    return True


def test_thumbnail_is_a_scaled_jpeg(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "wide.mp4", width=640, height=360)
    dest = tmp_path / "thumbs" / "ab" / "x.jpg"

    make_thumbnail(str(clip), dest, max_size=320)

    with Image.open(dest) as image:
        assert image.format == "JPEG"
        assert image.size == (320, 180)
    assert not list(dest.parent.glob("*.tmp"))


def test_long_video_thumbnail_is_not_the_first_frame(tmp_path: Path) -> None:
    # The test clip's green fades from 215 at the start towards 35 at the end.
    short = make_clip(tmp_path / "short.mp4", seconds=3, fps=10, keyframe_every=10)
    long = make_clip(tmp_path / "long.mp4", seconds=10, fps=10, keyframe_every=10)
    first = tmp_path / "first.jpg"
    later = tmp_path / "later.jpg"

    make_thumbnail(str(short), first, max_size=160)
    make_thumbnail(str(long), later, max_size=160)

    assert green_level(first) > 200
    assert green_level(later) < green_level(first) - 10


def test_the_thumbnail_is_the_first_keyframe_at_the_target(tmp_path: Path) -> None:
    # Keyframes every 2 s; the target is a tenth of 30 s, so the keyframe at 4 s is the one.
    clip = make_clip(tmp_path / "k.mp4", seconds=30, fps=5, keyframe_every=10)

    with open_video(str(clip)) as video:
        pick = pick_frame(video)

    assert seek_target(video.info.duration) == pytest.approx(3.0, abs=0.01)
    assert pick.keyframe and pick.frame.key_frame
    assert pick.frame.time == pytest.approx(4.0)
    assert pick.tries == 1


def test_a_video_that_opens_with_20_s_of_black_gets_a_picture(tmp_path: Path) -> None:
    clip = make_clip(
        tmp_path / "black.mp4", seconds=60, fps=5, width=96, height=64, keyframe_every=10,
        dark_until=20,
    )  # fmt: skip
    dest = tmp_path / "t.jpg"

    pick = make_thumbnail(str(clip), dest, max_size=96)

    assert pick.keyframe and pick.tries > 1
    assert pick.frame.time is not None and pick.frame.time >= 20
    assert brightness(dest) > DARK_MEAN


def test_an_all_black_video_keeps_a_keyframe_after_three_replacements(tmp_path: Path) -> None:
    clip = make_clip(
        tmp_path / "night.mp4", seconds=40, fps=5, width=96, height=64, keyframe_every=10,
        dark_until=40,
    )  # fmt: skip

    pick = make_thumbnail(str(clip), tmp_path / "t.jpg", max_size=96)

    assert (pick.keyframe, pick.tries) == (True, 4)


def test_one_keyframe_and_a_long_gop_still_give_a_thumbnail_in_time(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "gop.mp4", seconds=40, fps=10, keyframe_every=100_000)

    pick = call_with_time_limit(lambda: make_thumbnail(str(clip), tmp_path / "t.jpg", 96), 5)

    # No keyframe after the target: the one at the start is taken, not 4 s of frames decoded.
    assert pick.keyframe and pick.frame.time == 0.0
    assert (tmp_path / "t.jpg").stat().st_size > 0


def test_damaged_keyframes_fall_back_to_decoding_frames(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "ok.mp4", seconds=6, fps=10, keyframe_every=10)
    damaged = damage_keyframes(clip, tmp_path / "damaged.mp4")
    dest = tmp_path / "t.jpg"

    pick = make_thumbnail(str(damaged), dest, max_size=96)

    assert not pick.keyframe
    assert pick.frame.time is not None and pick.frame.time > 0
    with Image.open(dest) as image:
        assert image.size == (96, 72)


@pytest.mark.parametrize(
    ("name", "encoder", "codec"),
    [
        ("hevc.mp4", "libx265", "hevc"),
        ("vp9.webm", "libvpx-vp9", "vp9"),
        ("av1.mkv", "libsvtav1", "av1"),
    ],
)
def test_other_codecs_get_thumbnails(tmp_path: Path, name: str, encoder: str, codec: str) -> None:
    if not encodes(encoder):
        pytest.skip(f"this PyAV cannot encode {encoder}")
    clip = make_clip(tmp_path / name, seconds=6, keyframe_every=25, video_codec=encoder)
    dest = tmp_path / "t.jpg"

    with open_video(str(clip)) as video:
        assert video.info.video_codec == codec
    pick = make_thumbnail(str(clip), dest, max_size=120)

    assert pick.keyframe
    with Image.open(dest) as image:
        assert image.size == (120, 90)


def test_seek_target_skips_the_opening_of_long_videos() -> None:
    assert seek_target(None) == 0.0
    assert seek_target(3.0) == 0.0
    assert seek_target(10.0) == 1.0
    assert seek_target(600.0) == 60.0
    assert seek_target(36000.0) == 120.0


def test_file_without_video_stream_has_no_thumbnail(tmp_path: Path) -> None:
    song = make_audio_file(tmp_path / "song.m4a")
    with pytest.raises(NotAVideo, match="no video stream"):
        make_thumbnail(str(song), tmp_path / "t.jpg", max_size=100)


def test_thumbnail_name_spreads_files_over_folders() -> None:
    assert thumbnail_name("abcdef") == "ab/abcdef.jpg"


def test_brightness_of_a_picture_that_is_not_8_bit_yuv_is_measured_too() -> None:
    dark = av.VideoFrame.from_image(Image.new("RGB", (64, 48), (10, 10, 10)))  # type: ignore[no-untyped-call]
    bright = av.VideoFrame.from_image(Image.new("RGB", (64, 48), (200, 200, 200)))  # type: ignore[no-untyped-call]

    assert luma_stats(dark)[0] < DARK_MEAN < luma_stats(bright)[0]
    assert luma_stats(bright)[1] < FLAT_STDDEV
