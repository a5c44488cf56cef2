"""`python -m benchmarks.watch [--quick]`: how quickly watched libraries take in new files.

Real `qcluster` and `watch` processes on a temp folder of this machine's disk:
1. latency: camera-like HD files copied one at a time into a watched folder; from the end of each
   copy (its last write) until its row and thumbnail exist; median over 20 (issue: < 3 s);
2. the same by polling (issue: within the poll interval + 3 s);
3. a burst of 1,000 files dropped at once: how many scans read them (issue: one or a few);
4. an idle watcher of 100,000 files in 5,000 folders: its CPU and memory (issue: < 2 % of one
   core, < 150 MB).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from benchmarks import environment
from benchmarks.cluster import MANAGE, Cluster, cpu_seconds, peak_rss_kib

# Like a phone or camera clip: 1080p30, 1-second GOP, about 16 Mbit/s of detailed picture.
HD_SECONDS, HD_FPS, HD_BITRATE = 4, 30, 16_000_000


def say(text: str = "") -> None:
    print(text, flush=True)


def make_hd(path: Path) -> Path:
    """A camera-like 1080p H.264 + AAC clip: noise keeps the encoder at a camera's bit rate."""
    from fractions import Fraction

    import av
    from PIL import Image

    from tests.media import write_silence

    textures = [Image.effect_noise((1920, 1080), 40 + 5 * i).convert("RGB") for i in range(6)]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=HD_FPS)
        stream.width, stream.height, stream.pix_fmt = 1920, 1080, "yuv420p"
        stream.bit_rate = HD_BITRATE
        stream.codec_context.options = {"preset": "ultrafast", "x264-params": "keyint=30"}
        sound = container.add_stream("aac", rate=48000)
        for index in range(HD_SECONDS * HD_FPS):
            frame = av.VideoFrame.from_image(textures[index % len(textures)])  # type: ignore[no-untyped-call]
            frame.pts, frame.time_base = index, Fraction(1, HD_FPS)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
        write_silence(container, sound, HD_SECONDS)
    return path


def start_watch(base: Path) -> subprocess.Popen[bytes]:
    log = (base / "watch.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, str(MANAGE), "watch"], stdout=log, stderr=subprocess.STDOUT
    )
    log.close()
    return process


def wait(condition: object, timeout: float, what: str, poll: float = 0.01) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():  # type: ignore[operator]
        if time.perf_counter() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(poll)


def wait_watched(library_id: int, mode: str, timeout: float = 600, after: int = 0) -> None:
    from stoat.scans.models import ACTIVE, Job
    from stoat.watch.models import WatchLease

    wait(
        lambda: WatchLease.objects.filter(library_id=library_id, mode=mode).exists(),
        60,
        f"the watcher to watch by {mode}",
        poll=0.1,
    )
    comparing = Job.objects.filter(
        library_id=library_id, label__startswith="watch: comparing", pk__gt=after
    )
    wait(
        lambda: comparing.exists() and not comparing.filter(status__in=ACTIVE).exists(),
        timeout,
        "the watcher's first comparison",
        poll=0.1,
    )


def indexed_with_thumbnail(path: Path, thumbs: Path) -> bool:
    from stoat.library.models import Video

    name = Video.objects.filter(path=str(path), missing=False).values_list("thumbnail", flat=True)
    found = name.first()
    return bool(found) and (thumbs / str(found)).is_file()


def latencies(folder: Path, sources: list[Path], count: int, thumbs: Path) -> list[float]:
    """Copy files in one at a time; seconds from each copy's end to its row and thumbnail."""
    seconds = []
    for index in range(count):
        path = folder / f"camera{index:03d}.mp4"
        shutil.copyfile(sources[index % len(sources)], path)
        written = time.time()
        wait(lambda p=path: indexed_with_thumbnail(p, thumbs), 120, f"{path.name} to be indexed")
        seconds.append(time.time() - written)
    return seconds


def figures(name: str, seconds: list[float], target: float) -> str:
    median = statistics.median(seconds)
    verdict = "met" if median < target else "MISSED"
    return (
        f"{name}: median {median:.2f} s, max {max(seconds):.2f} s over {len(seconds)} files "
        f"(target < {target:g} s: {verdict}; ratio {median / target:.2f})"
    )


def big_tree(folder: Path, sources: list[Path], files: int, folders: int) -> list[Path]:
    """`files` hard links in `folders` folders (two levels), for the idle measurement."""
    per_folder = files // folders
    paths = []
    for index in range(files):
        box = index // per_folder
        path = folder / f"shelf{box // 100:03d}" / f"box{box % 100:02d}" / f"clip{index:06d}.mp4"
        if index % per_folder == 0:
            path.parent.mkdir(parents=True, exist_ok=True)
        os.link(sources[index % len(sources)], path)
        paths.append(path)
    return paths


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.watch", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    args = parser.parse_args(argv)
    files, folders = (10_000, 500) if args.quick else (100_000, 5_000)
    count, burst, idle_seconds = (5, 200, 10) if args.quick else (20, 1000, 60)
    base = environment.prepare(keep=False)
    from django.conf import settings

    from stoat.library.libraries import LibrarySpec, save_library
    from stoat.library.models import Library
    from stoat.scans.models import Job
    from tests.media import make_clip

    thumbs = settings.STOAT_THUMB_DIR
    say(f"watch benchmark: {environment.describe()}; settle {settings.STOAT_WATCH_SETTLE:g} s")
    say(f"machine load before: {os.getloadavg()[0]:.2f} (1 min)")
    sources_dir = base / "sources"
    sources_dir.mkdir()
    started = time.perf_counter()
    with ProcessPoolExecutor() as pool:
        hd = list(pool.map(make_hd, [sources_dir / f"hd{i}.mp4" for i in range(4)]))
    small = [make_clip(sources_dir / f"small{i}.mp4", width=640, height=360) for i in range(4)]
    size = sum(p.stat().st_size for p in hd) / len(hd) / 1e6
    say(f"made 4 camera-like sources (1080p30 H.264 + AAC, {HD_SECONDS} s, {size:.1f} MB each)")
    say(f"  in {time.perf_counter() - started:.1f} s")

    videos = base / "videos"
    (videos / "incoming").mkdir(parents=True)
    library = save_library(LibrarySpec(name="Camera", path=str(videos), every="off"))
    with Cluster(2, base) as cluster:
        watcher = start_watch(base)
        try:
            wait_watched(library.pk, "events")
            events = latencies(videos / "incoming", hd, count, thumbs)
            say(figures("events: copy end → row + thumbnail", events, 3.0))

            before = set(Job.objects.filter(library=library).values_list("pk", flat=True))
            (videos / "burst").mkdir()
            dropped = time.perf_counter()
            # Copied straight into the watched folder, one after another, as from a camera card.
            for index in range(burst):
                shutil.copyfile(small[index % len(small)], videos / "burst" / f"b{index:04d}.mp4")
            copied = time.perf_counter() - dropped
            from stoat.library.models import Video

            wait(
                lambda: Video.objects.filter(folder=str(videos / "burst")).count() == burst,
                1800,
                "the burst to be indexed",
                poll=0.2,
            )
            took = time.perf_counter() - dropped
            scans = Job.objects.filter(library=library).exclude(pk__in=before).count()
            say(
                f"burst: {burst} files copied in ({copied:.1f} s of copying) → {scans} scan(s), "
                f"all indexed {took:.1f} s after the first copy began ({burst / took:.1f} files/s) "
                f"(target: one or a few scans: "
                f"{'met' if scans <= 3 else 'MISSED'})"
            )

            poll = 10
            last = Job.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            # The watcher restarts the library's feed in polling mode and compares once more.
            Library.objects.filter(pk=library.pk).update(watch="poll", poll_seconds=poll)
            wait_watched(library.pk, "poll", after=last)
            (videos / "polled").mkdir()
            polled = latencies(videos / "polled", hd, max(3, count // 4), thumbs)
            say(figures(f"polling every {poll} s: copy end → row", polled, poll + 3.0))
        finally:
            watcher.send_signal(signal.SIGTERM)
            watcher.wait(timeout=30)

        big = base / "big"
        started = time.perf_counter()
        paths = big_tree(big, small, files, folders)
        from benchmarks.libraries import seed_library

        seed_library([(path, small[index % len(small)]) for index, path in enumerate(paths)])
        say(f"idle library: {files:,} files in {folders:,} folders, stored as scanned")
        say(f"  in {time.perf_counter() - started:.1f} s")
        Library.objects.all().delete()
        idle = save_library(LibrarySpec(name="Big", path=str(big), every="off"))
        watcher = start_watch(base)
        try:
            started = time.perf_counter()
            wait_watched(idle.pk, "events", timeout=1800)
            say(f"  watcher up and first comparison done in {time.perf_counter() - started:.1f} s")
            cluster.drain()
            cpu_before, wall_before = cpu_seconds(watcher.pid), time.perf_counter()
            time.sleep(idle_seconds)
            cpu = cpu_seconds(watcher.pid) - cpu_before
            wall = time.perf_counter() - wall_before
            share = cpu / wall * 100
            with open(f"/proc/{watcher.pid}/status") as status:
                rss = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
            peak = (peak_rss_kib(watcher.pid) or 0) / 1024
            say(
                f"idle watcher over {wall:.0f} s: {share:.2f} % of one core "
                f"(target < 2 %: {'met' if share < 2 else 'MISSED'}), "
                f"memory {rss / 1024:.0f} MB now, {peak:.0f} MB peak "
                f"(target < 150 MB: {'met' if peak < 150 else 'MISSED'})"
            )
        finally:
            watcher.send_signal(signal.SIGTERM)
            watcher.wait(timeout=30)
    say(f"machine load after: {os.getloadavg()[0]:.2f} (1 min)")
    shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
