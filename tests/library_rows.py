"""A varied library of rows (no files) for the filter, facet, stats and export tests."""

from __future__ import annotations

import random
from datetime import datetime, timezone

from stoat.library.models import Video, name_key, path_key

CODECS = ["h264", "hevc", "vp9", "av1", "mpeg4"]
AUDIO = ["aac", "opus", None, "mp3"]
SHAPES = [(640, 480), (1280, 720), (1920, 1080), (1080, 1920), (2560, 1440), (3840, 2160)]
FILES = [
    ("mov,mp4,m4a,3gp,3g2,mj2", "mp4"),
    ("mov,mp4,m4a,3gp,3g2,mj2", "mov"),
    ("matroska,webm", "mkv"),
    ("matroska,webm", "webm"),
    ("avi", "avi"),
]
FOLDERS = ["/srv/videos", "/srv/videos/2019", "/srv/videos/2019/june", "/srv/other", "/srv/videosx"]


def make_library(count: int = 60, seed: int = 7) -> list[Video]:
    rng = random.Random(seed)
    videos = []
    for number in range(count):
        container, ext = FILES[number % len(FILES)]
        folder = FOLDERS[rng.randrange(len(FOLDERS))]
        path = f"{folder}/clip-{number:03d}.{ext}"
        width, height = SHAPES[rng.randrange(len(SHAPES))]
        videos.append(
            Video(
                path=path,
                path_key=path_key(path),
                folder=folder,
                filename=path.rsplit("/", 1)[1],
                name_order=name_key(path.rsplit("/", 1)[1]),
                size=rng.randrange(1, 5000) * 1_000_000,
                mtime_ns=1,
                container=container,
                duration=float(rng.randrange(5, 7200)),
                width=width,
                height=height,
                video_codec=CODECS[rng.randrange(len(CODECS))],
                audio_codec=AUDIO[rng.randrange(len(AUDIO))],
                missing=number % 13 == 0,
            )
        )
    Video.objects.bulk_create(videos)
    # created_at is set on insert; spread the videos over two years, as scans over time would.
    for number, video in enumerate(Video.objects.order_by("id")):
        added = datetime(
            2019 + number % 2, 1 + number % 12, 1 + number % 28, 12, tzinfo=timezone.utc
        )
        Video.objects.filter(pk=video.pk).update(created_at=added)
    return list(Video.objects.order_by("id"))
