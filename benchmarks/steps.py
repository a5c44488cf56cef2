"""Where one file's read goes, step by step, in this process: the figures of the next profile.

Each step is the production function itself, called one after the other as `read_video` does.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

STEPS = ("open", "probe", "fingerprint", "seek+decode", "scale", "encode", "store")


@dataclass
class StepTimes:
    """Milliseconds per file of each step."""

    ms: dict[str, list[float]] = field(default_factory=lambda: {step: [] for step in STEPS})

    def add(self, other: StepTimes) -> None:
        for step in STEPS:
            self.ms[step] += other.ms[step]

    def median(self, step: str) -> float:
        return statistics.median(self.ms[step]) if self.ms[step] else 0.0

    def mean(self, step: str) -> float:
        return statistics.fmean(self.ms[step]) if self.ms[step] else 0.0

    def total(self) -> float:
        return sum(self.mean(step) for step in STEPS)


@contextmanager
def one_core() -> Iterator[None]:
    """This process (and the decoder threads it starts) on one core only, as the figures of one
    core are meant: a worker's decoder would otherwise spread a keyframe over idle cores."""
    if not hasattr(os, "sched_setaffinity"):
        yield
        return
    cores = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cores)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, cores)


def time_steps(paths: list[Path], thumbs: Path, max_size: int) -> StepTimes:
    """Read each file as a scan does, timing each step; the rows are stored as one flush."""
    with one_core():
        return timed_steps(paths, thumbs, max_size)


def timed_steps(paths: list[Path], thumbs: Path, max_size: int) -> StepTimes:
    from stoat.library.fingerprint import fingerprint_file
    from stoat.library.models import Video
    from stoat.library.probe import VideoFile, check_regular_file, describe, open_input
    from stoat.library.thumbnails import pick_frame, save_jpeg, scale
    from stoat.scans import lifecycle
    from stoat.scans.scanner import ReadItem, video_row
    from stoat.scans.store import Buffer

    times = StepTimes()
    rows: list[Video] = []
    for index, path in enumerate(paths):
        marks = [time.perf_counter()]
        st = check_regular_file(str(path))
        container = open_input(str(path))
        marks.append(time.perf_counter())
        stream, info = describe(container, st)
        marks.append(time.perf_counter())
        print_ = fingerprint_file(str(path))
        marks.append(time.perf_counter())
        pick = pick_frame(VideoFile(container, stream, info))
        marks.append(time.perf_counter())
        image = scale(pick.frame, max_size)
        marks.append(time.perf_counter())
        save_jpeg(image, thumbs / f"{index}.jpg")
        marks.append(time.perf_counter())
        container.close()
        for step, start, end in zip(STEPS, marks, marks[1:], strict=False):
            times.ms[step].append((end - start) * 1000)
        item = ReadItem(str(path), st.st_size, st.st_mtime_ns, existing=False)
        rows.append(video_row(item, info, f"{index}.jpg", print_))
    # Stored as the scanner stores them: one transaction with the job's counters.
    job = lifecycle.create_scan(str(paths[0].parent)).job
    lifecycle.claim(job.pk)
    buffer = Buffer()
    buffer.videos += rows
    started = time.perf_counter()
    buffer.flush(job.pk)
    per_row = (time.perf_counter() - started) * 1000 / len(rows)
    times.ms["store"] = [per_row] * len(rows)
    lifecycle.conclude(job.pk)
    Video.objects.filter(pk__in=[row.pk for row in rows if row.pk]).delete()
    Video.objects.filter(path__in=[str(path) for path in paths]).delete()
    return times


def header() -> str:
    return "   ms per file (mean)        " + " ".join(f"{step:>11}" for step in STEPS) + "   total"


def line(label: str, times: StepTimes) -> str:
    cells = " ".join(f"{times.mean(step):11.2f}" for step in STEPS)
    return f"   {label:<26}{cells} {times.total():7.1f}"


def thumbnail_ms(
    path: Path, thumbs: Path, max_size: int, repeats: int, cores: str = "one"
) -> list[float]:
    """The thumbnail step alone (seek, decode, scale, encode) on an opened file, `repeats` times,
    on one core (or on all of them, as a worker with idle cores beside it decodes)."""
    if cores == "one":
        with one_core():
            return thumbnail_ms(path, thumbs, max_size, repeats, cores="all")
    from stoat.library.probe import open_video
    from stoat.library.thumbnails import write_thumbnail

    runs = []
    for index in range(repeats):
        with open_video(str(path)) as video:
            started = time.perf_counter()
            write_thumbnail(video, thumbs / f"t{index}.jpg", max_size)
            runs.append((time.perf_counter() - started) * 1000)
    return runs


@dataclass(frozen=True)
class Variant:
    label: str
    options: dict[str, str]
    thread_type: str = "NONE"
    threads: int = 1


SKIP = {"skip_loop_filter": "all"}
VARIANTS = (
    Variant("loop filter on, 1 thread", {}),
    Variant("no loop filter (foreground)", SKIP),
    Variant("+ slice threads x2 (workers)", SKIP, "SLICE", 2),
    Variant("+ frame threads x2", SKIP, "FRAME", 2),
)


def decoder_variants(
    path: Path, max_size: int, repeats: int
) -> list[tuple[str, float, float, float]]:
    """Per decoder setting: median wall and CPU ms of the keyframe decode at the target, and how
    far its thumbnail is from the default's (RMS, 0-255)."""
    from PIL import ImageChops, ImageStat

    from stoat.library.probe import open_video
    from stoat.library.thumbnails import keyframe_at, scale, seek_target

    def once(variant: Variant) -> tuple[float, float, object]:
        with open_video(str(path)) as video:
            ctx = video.stream.codec_context
            ctx.skip_frame = "NONKEY"
            ctx.thread_type = variant.thread_type
            ctx.thread_count = variant.threads
            ctx.options = dict(variant.options)
            target = seek_target(video.info.duration)
            wall, cpu = time.perf_counter(), time.process_time()
            frame = keyframe_at(video.container, video.stream, target)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            assert frame is not None
            return wall * 1000, cpu * 1000, scale(frame, max_size)

    reference = once(VARIANTS[0])[2]
    results = []
    for variant in VARIANTS:
        runs = [once(variant) for _ in range(repeats)]
        diff = ImageStat.Stat(ImageChops.difference(reference, runs[0][2])).rms  # type: ignore[arg-type]
        results.append(
            (
                variant.label,
                statistics.median(run[0] for run in runs),
                statistics.median(run[1] for run in runs),
                max(diff),
            )
        )
    return results


def timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started
