"""Build the libraries the benchmarks scan: generated clips, copies of them, and hard links."""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

# ext4 allows 65,000 links per inode; stay well below it.
MAX_LINKS_PER_SOURCE = 60_000
# Files per folder in the big library, so the walk sees a realistic tree, not one huge folder.
FILES_PER_FOLDER = 500


@dataclass(frozen=True)
class ClipSpec:
    width: int = 320
    height: int = 240
    seconds: float = 2.0

    def __str__(self) -> str:
        return f"{self.width}x{self.height}, {self.seconds:g} s, H.264"


def make_source(args: tuple[Path, ClipSpec, int]) -> Path:
    from tests.media import make_clip

    path, spec, index = args
    # Every fourth clip carries an audio track and every fifth is Matroska, as real folders mix.
    return make_clip(
        path,
        width=spec.width,
        height=spec.height,
        seconds=spec.seconds + (index % 3) * 0.5,
        audio=index % 4 == 0,
    )


def make_sources(folder: Path, count: int, spec: ClipSpec) -> list[Path]:
    """`count` distinct clips, encoded on all cores."""
    folder.mkdir(parents=True)
    jobs = [
        (folder / f"source{index:04d}.{'mkv' if index % 5 == 0 else 'mp4'}", spec, index)
        for index in range(count)
    ]
    with ProcessPoolExecutor() as pool:
        return list(pool.map(make_source, jobs, chunksize=8))


def copy_library(folder: Path, sources: list[Path], count: int) -> list[Path]:
    """`count` distinct files (own inodes) made by copying the sources round-robin."""
    paths = []
    for index in range(count):
        source = sources[index % len(sources)]
        path = folder / f"part{index // FILES_PER_FOLDER:03d}" / f"clip{index:05d}{source.suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, path)
        paths.append(path)
    return paths


def link_library(folder: Path, sources: list[Path], count: int) -> list[tuple[Path, Path]]:
    """`count` distinct paths, hard links to the sources round-robin: (link, its source)."""
    if count > len(sources) * MAX_LINKS_PER_SOURCE:
        raise ValueError(f"{count} links need more than {len(sources)} sources")
    pairs = []
    for index in range(count):
        source = sources[index % len(sources)]
        group, part = divmod(index // FILES_PER_FOLDER, 20)
        path = folder / f"shelf{group:03d}" / f"box{part:02d}" / f"clip{index:06d}{source.suffix}"
        if index % FILES_PER_FOLDER == 0:
            path.parent.mkdir(parents=True, exist_ok=True)
        os.link(source, path)
        pairs.append((path, source))
    return pairs


def seed_library(pairs: list[tuple[Path, Path]]) -> None:
    """Store rows for linked files as a finished scan would have, probing each source once."""
    from stoat.library.models import Video
    from stoat.library.probe import VideoInfo, probe_video
    from stoat.scans.scanner import ReadItem, video_row

    infos: dict[Path, VideoInfo] = {}
    rows = []
    for path, source in pairs:
        info = infos.get(source)
        if info is None:
            info = infos[source] = probe_video(str(source))
        st = path.stat()
        item = ReadItem(str(path), st.st_size, st.st_mtime_ns, existing=False)
        rows.append(video_row(item, info, ""))
        if len(rows) == 5000:
            Video.objects.bulk_create(rows)
            rows.clear()
    Video.objects.bulk_create(rows)


def forget(folder: Path, thumbs: Path) -> None:
    """Make the next scan of `folder` cold again: no rows, no thumbnails."""
    from stoat.library.models import Video

    Video.objects.filter(folder__startswith=str(folder)).delete()
    shutil.rmtree(thumbs, ignore_errors=True)
