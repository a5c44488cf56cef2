"""The replaced service's way: one `ffprobe` and one `ffmpeg` subprocess per file, one at a time."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

from stoat.library.thumbnails import seek_target


def available() -> bool:
    return shutil.which("ffprobe") is not None and shutil.which("ffmpeg") is not None


def probe_and_thumbnail(path: Path, thumb: Path, max_size: int) -> None:
    probed = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", path],
        capture_output=True,
        check=True,
    )
    duration = float(json.loads(probed.stdout)["format"].get("duration", 0) or 0)
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-ss",
            f"{seek_target(duration):.3f}",
            "-i",
            path,
            "-frames:v",
            "1",
            "-vf",
            f"scale='min({max_size},iw)':-2",
            thumb,
        ],  # fmt: skip
        capture_output=True,
        check=True,
    )


def run(paths: list[Path], thumbs: Path, max_size: int) -> float:
    """Seconds to probe and thumbnail every file serially (no database writes: in its favour)."""
    thumbs.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    for index, path in enumerate(paths):
        probe_and_thumbnail(path, thumbs / f"{index}.jpg", max_size)
    return time.perf_counter() - started
