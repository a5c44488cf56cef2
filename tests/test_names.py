"""Containers and codecs shown by names a person knows, for every extension stoat reads."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from stoat.library.models import Video
from stoat.library.names import (
    CODEC_NAMES,
    CONTAINER_KINDS,
    codec_name,
    container_kind,
    container_name,
    resolution_class,
)
from stoat.library.probe import probe_video
from tests.media import make_clip

# extension → (muxer, video encoder, audio encoder, the name a person knows)
WRITTEN = {
    "mp4": (None, "libx264", "aac", "MP4"),
    "m4v": ("mp4", "libx264", "aac", "MP4"),
    "mov": (None, "libx264", "aac", "QuickTime"),
    "mkv": (None, "libx264", "aac", "Matroska"),
    "webm": (None, "libvpx-vp9", "libopus", "WebM"),
    "avi": (None, "mpeg4", "mp3", "AVI"),
    "wmv": ("asf", "wmv2", "mp3", "ASF/WMV"),
    "asf": ("asf", "msmpeg4", "ac3", "ASF/WMV"),
    "flv": (None, "flv", None, "Flash"),
    "f4v": (None, "libx264", "aac", "Flash"),
    "mpg": ("mpeg", "mpeg1video", "mp2", "MPEG-PS"),
    "mpeg": ("mpeg", "mpeg2video", "mp2", "MPEG-PS"),
    "vob": ("vob", "mpeg2video", "ac3", "MPEG-PS"),
    "ts": ("mpegts", "libx264", "aac", "MPEG-TS"),
    "m2ts": ("mpegts", "hevc", "eac3", "MPEG-TS"),
    "mts": ("mpegts", "mpeg2video", "mp2", "MPEG-TS"),
    "ogv": ("ogg", "libvpx", "opus", "Ogg"),
    "3gp": ("3gp", "h263", "aac", "3GP"),
    "3g2": ("3g2", "libx264", "aac", "3GP"),
}


def test_every_default_extension_has_a_clip_here() -> None:
    assert set(WRITTEN) == set(settings.STOAT_VIDEO_EXTENSIONS)


@pytest.mark.parametrize("ext", sorted(WRITTEN))
def test_a_real_file_of_each_extension_gets_friendly_names(tmp_path: Path, ext: str) -> None:
    muxer, video, audio, expected = WRITTEN[ext]
    path = make_clip(
        tmp_path / f"clip.{ext}",
        width=176,
        height=144,
        video_codec=video,
        audio_codec=audio,
        audio=audio is not None,
        muxer=muxer,
    )

    info = probe_video(str(path))

    assert container_name(container_kind(info.container, path.name)) == expected
    assert info.video_codec in CODEC_NAMES, info.video_codec
    assert codec_name(info.video_codec) != info.video_codec
    if audio is not None:
        assert info.audio_codec in CODEC_NAMES, info.audio_codec


def test_the_database_sorts_containers_as_python_does(db: None) -> None:
    cases = [
        ("mov,mp4,m4a,3gp,3g2,mj2", "a.MOV"),
        ("mov,mp4,m4a,3gp,3g2,mj2", "a.mp4"),
        ("mov,mp4,m4a,3gp,3g2,mj2", "a.3g2"),
        ("mov,mp4,m4a,3gp,3g2,mj2", "a.f4v"),
        ("matroska,webm", "a.WebM"),
        ("matroska,webm", "a.mkv"),
        ("mpeg", "a.vob"),
        ("mpegts", "a.m2ts"),
        ("asf", "a.wmv"),
        ("flv", "a.flv"),
        ("ogg", "a.ogv"),
        ("avi", "a.avi"),
        ("rm", "a.rm"),
    ]
    for number, (demuxer, name) in enumerate(cases):
        Video.objects.create(
            path=f"/v/{number}/{name}",
            path_key=str(number),
            folder=f"/v/{number}",
            filename=name,
            size=1,
            mtime_ns=1,
            container=demuxer,
            width=1,
            height=1,
            video_codec="h264",
        )

    stored = dict(Video.objects.values_list("filename", "container_kind"))

    assert stored == {name: container_kind(demuxer, name) for demuxer, name in cases}
    assert set(stored.values()) == set(CONTAINER_KINDS) | {"rm"}


@pytest.mark.parametrize(
    ("width", "height", "expected"),
    [
        (640, 480, "sd"),
        (1279, 720, "sd"),
        (1280, 720, "720p"),
        (1080, 1920, "1080p"),
        (2560, 1440, "1440p"),
        (3840, 2160, "4k"),
        (4096, 1716, "4k"),
        (7680, 4320, "8k"),
    ],
)
def test_resolution_classes_go_by_the_longer_side(
    db: None, width: int, height: int, expected: str
) -> None:
    video = Video.objects.create(
        path="/v/a.mp4",
        path_key="a",
        folder="/v",
        filename="a.mp4",
        size=1,
        mtime_ns=1,
        width=width,
        height=height,
        video_codec="h264",
    )

    assert resolution_class(width, height) == expected
    assert Video.objects.values_list("resolution_class", flat=True).get(pk=video.pk) == expected


def test_the_video_page_shows_everyday_names_with_ffmpegs_on_hover(client: Client) -> None:
    video = Video.objects.create(
        path="/v/film.webm",
        path_key="film",
        folder="/v",
        filename="film.webm",
        size=1,
        mtime_ns=1,
        width=1920,
        height=1080,
        container="matroska,webm",
        video_codec="vp9",
        audio_codec="opus",
    )

    page = client.get(reverse("library:video", args=[video.pk])).content.decode()

    assert '<abbr title="matroska,webm">WebM</abbr>' in page
    assert '<abbr title="vp9">VP9</abbr>' in page
    assert '<abbr title="opus">Opus</abbr>' in page
