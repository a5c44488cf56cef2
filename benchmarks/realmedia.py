"""The camera-like set beside the small clips: cold scan against the baseline, the foreground
command on 1 and 2 processes, the thumbnail step, decoder options and the fade from black."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks import baseline, camera, scenarios, steps
from benchmarks.cluster import MANAGE
from benchmarks.libraries import forget

Say = Callable[[str], None]


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


@dataclass(frozen=True)
class Versus:
    ratio: float | None
    peak_rss_mib: float


def cold_versus_baseline(
    say: Say, base: Path, folder: Path, paths: list[Path], thumbs: Path, target: float
) -> Versus:
    """Cold scan by 2 workers, the baseline, then the scan again; the slower one makes the ratio."""
    count = len(paths)
    first = scenarios.cold_scan(base, folder, count, thumbs, workers=2)
    say(
        f"   stoat     {first.processed:,} files in {first.seconds:.2f} s"
        f" = {first.processed / first.seconds:,.1f} files/s ({first.batches} batches,"
        f" {first.errors} errors, {first.cores:.2f} cores busy)"
    )
    if not baseline.available():
        say("   baseline  skipped: ffprobe/ffmpeg are not installed (apt-get install ffmpeg)")
        return Versus(None, first.peak_rss_mib)
    seconds = scenarios.baseline_seconds(base, paths)
    rate = count / seconds
    say(
        f"   baseline  {count:,} files in {seconds:.2f} s = {rate:,.1f} files/s"
        " (ffprobe + ffmpeg per file, serially)"
    )
    # Scanned again after the long baseline, so a change in outside load shows.
    again = scenarios.cold_scan(base, folder, count, thumbs, workers=2)
    say(
        f"   stoat     {again.processed:,} files in {again.seconds:.2f} s"
        f" = {again.processed / again.seconds:,.1f} files/s (again, after the baseline)"
    )
    ratio = (count / max(first.seconds, again.seconds)) / rate
    say(f"   ratio     {ratio:.1f}x, by the slower stoat run (target >= {target:g}x:"
        f" {verdict(ratio >= target)})")  # fmt: skip
    return Versus(ratio, max(first.peak_rss_mib, again.peak_rss_mib))


def hd_library(folder: Path, sources: list[Path], copies: int) -> list[Path]:
    """`copies` hard links of each camera file, so every path is a file of its own to scan."""
    paths = []
    for number in range(copies):
        for source in sources:
            path = folder / f"card{number:02d}" / source.name
            path.parent.mkdir(parents=True, exist_ok=True)
            os.link(source, path)
            paths.append(path)
    return paths


def foreground_seconds(
    base: Path, folder: Path, thumbs: Path, processes: int
) -> tuple[float, float]:
    """`manage.py scan FOLDER --processes N` run cold, as a person runs it: its wall time, and the
    job's own time (claim to end, without the interpreter's start, the same for any N)."""
    from stoat.scans.models import Job

    forget(folder, thumbs)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, str(MANAGE), "scan", str(folder), "--processes", str(processes)],
        check=True,
        capture_output=True,
        cwd=base,
    )
    wall = time.perf_counter() - started
    job = Job.objects.order_by("-pk").first()
    assert job is not None and job.started_at and job.finished_at
    return wall, (job.finished_at - job.started_at).total_seconds()


# Passes of each group that are timed, after one that is not.
STEP_PASSES = 2


def step_lines(say: Say, groups: list[tuple[str, list[Path]]], work: Path, size: int) -> None:
    say(steps.header())
    for label, paths in groups:
        # Not timed: a process's first opens cost 3-10 ms more than a worker's steady 1-2 ms.
        steps.time_steps(paths, work, size)
        times = steps.StepTimes()
        for _ in range(STEP_PASSES):
            times.add(steps.time_steps(paths, work, size))
        say(steps.line(label, times))


def run(
    say: Say, base: Path, small_paths: list[Path], thumbs: Path, copies: int, repeats: int
) -> list[str]:
    """Section 6; returns its summary lines."""
    from django.conf import settings

    from stoat.library.thumbnails import DARK_MEAN

    summary: list[str] = []
    size = settings.STOAT_THUMB_SIZE
    missing = camera.encoders_missing()
    if missing:
        say(f"   skipped: this PyAV has no {', '.join(missing)} encoder to make the set")
        return summary
    clock = time.perf_counter()
    sources = camera.camera_set()
    megabytes = sum(path.stat().st_size for path in sources) / 1e6
    say(f"   the set ({megabytes:,.0f} MB, cached in {camera.cache_folder()},"
        f" ready in {time.perf_counter() - clock:.1f} s):")  # fmt: skip
    for clip in camera.CAMERA_SET:
        say(f"     {clip}, {clip.mbps:g} Mbit/s, stereo AAC")
    folder = base / "hd"
    paths = hd_library(folder, sources, copies)

    say("")
    say(f"6a. where one file's read goes (this process, one core, warm cache: each file read"
        f" once untimed, then {STEP_PASSES} times)")  # fmt: skip
    groups = [("small clips (320x240)", small_paths[:200])]
    groups += [(f"{clip.height}p {clip.codec}{' fade' if clip.fade_in else ''}", [path])
               for clip, path in zip(camera.CAMERA_SET, sources, strict=True)]  # fmt: skip
    work = base / "steps"
    work.mkdir(exist_ok=True)
    step_lines(say, groups, work, size)

    say("")
    reference = sources[camera.CAMERA_SET.index(camera.REFERENCE)]
    runs = steps.thumbnail_ms(reference, work, size, repeats)
    median = statistics.median(runs)
    ok = median <= 15
    say(f"6b. thumbnail step on {camera.REFERENCE}, one core: median {median:.1f} ms of {repeats}"
        f" (min {min(runs):.1f}, max {max(runs):.1f}; target <= 15 ms: {verdict(ok)})")  # fmt: skip
    summary.append(f"HD thumbnail step       {median:8.1f} ms     <= 15 ms   {verdict(ok)}")
    every = statistics.median(steps.thumbnail_ms(reference, work, size, repeats, cores="all"))
    say(f"    the same on every core (a worker's slice threads, other cores idle): {every:.1f} ms")
    say("    decoder settings for that keyframe (median ms wall / CPU; RMS change of thumbnail):")
    for path, label in ((reference, "1080p H.264"), (sources[5], "2160p HEVC")):
        for name, wall, cpu, diff in steps.decoder_variants(path, size, repeats):
            say(f"     {label:<12} {name:<28} {wall:7.2f} / {cpu:7.2f} ms   RMS {diff:5.2f}")

    say("")
    say(f"6c. cold scan of the camera-like set, {copies} links of each = {len(paths)} files,"
        " 2 workers")  # fmt: skip
    versus = cold_versus_baseline(say, base, folder, paths, thumbs, target=10)
    if versus.ratio is not None:
        summary.append(f"HD cold scan vs base    {versus.ratio:8.1f}x      >= 10x     "
                       f"{verdict(versus.ratio >= 10)}")  # fmt: skip
    ok = versus.peak_rss_mib <= 300
    say(f"   worker peak RSS {versus.peak_rss_mib:.1f} MiB (target <= 300 MB: {verdict(ok)})")
    summary.append(f"HD worker peak RSS      {versus.peak_rss_mib:8.1f} MiB  <= 300 MB   "
                   f"{verdict(ok)}")  # fmt: skip

    from stoat.library.models import Video

    fade = Video.objects.filter(filename=camera.FADE.name).exclude(thumbnail="").first()
    if fade is not None:
        from PIL import Image, ImageStat

        with Image.open(thumbs / fade.thumbnail) as image:
            mean = ImageStat.Stat(image.convert("L")).mean[0]
        ok = mean > DARK_MEAN
        say(f"   fade from black: its thumbnail's mean luminance {mean:.0f}"
            f" (threshold {DARK_MEAN:g}: {verdict(ok)})")  # fmt: skip
        summary.append(
            f"HD fade thumbnail luma  {mean:8.0f}        > {DARK_MEAN:g}      {verdict(ok)}"
        )

    say("")
    big = base / "hd-big"
    big_paths = hd_library(big, sources, copies * 4)
    rounds = repeats // 5 or 1
    say(f"6d. manage.py scan in the foreground, {len(big_paths)} camera-like files (links),"
        f" 1 and 2 processes, {rounds} of each, alternated")  # fmt: skip
    one: list[tuple[float, float]] = []
    two: list[tuple[float, float]] = []
    for _ in range(rounds):
        one.append(foreground_seconds(base, big, thumbs, 1))
        two.append(foreground_seconds(base, big, thumbs, 2))
    for label, timings in (("1 process  ", one), ("2 processes", two)):
        wall, job = min(timings, key=lambda run: run[1])
        say(f"   {label} best job {job:.2f} s = {len(big_paths) / job:.1f} files/s"
            f" (the command, with its start: {wall:.2f} s)")  # fmt: skip
    ratio = min(run[1] for run in one) / min(run[1] for run in two)
    ok = ratio >= 1.7
    say(f"   speed-up  {ratio:.2f}x by the job's own time (target >= 1.7x: {verdict(ok)})")
    summary.append(f"foreground 2 vs 1       {ratio:8.2f}x      >= 1.7x    {verdict(ok)}")
    return summary
