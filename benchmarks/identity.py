"""`python -m benchmarks.identity [--quick]`: what recognising moves and copies costs.

1. A 10,000-file folder moved inside the library, then rescanned by real workers: every id kept,
   no thumbnail made again, the bytes read per moved file counted, the time against an
   unchanged rescan of the same library (target <= 1.5x).
2. The cold scan with fingerprints against the same scan without them (target within 5 %), on
   distinct files as a library holds them, and on a library of copies (duplicate groups).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

from benchmarks import environment

GIB = 1024**3
# The moved files: an HD clip at the start, a hole, and an end of their own; sparse on disk, so
# 10,000 files of a gigabyte take no space, and a reader of every byte would read 10 TB.
FILE_SIZE = GIB


@dataclass(frozen=True)
class Sizes:
    moved: int
    sources: int
    cold: int
    repeats: int


FULL = Sizes(moved=10_000, sources=20, cold=300, repeats=3)
QUICK = Sizes(moved=1_000, sources=8, cold=60, repeats=2)


def say(text: str = "") -> None:
    print(text, flush=True)


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def rchar(pid: int) -> int:
    """Bytes the process asked the kernel to read so far (files, sockets, the database)."""
    try:
        with open(f"/proc/{pid}/io") as io:
            for line in io:
                if line.startswith("rchar:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cluster_rchar(cluster: object) -> int:
    from benchmarks.cluster import Cluster, descendants

    assert isinstance(cluster, Cluster) and cluster.process is not None
    return sum(rchar(pid) for pid in [cluster.process.pid, *descendants(cluster.process.pid)])


def build_moved_library(folder: Path, sources: list[Path], count: int) -> list[Path]:
    """`count` distinct sparse files of about FILE_SIZE bytes, 500 to a folder."""
    paths = []
    for index in range(count):
        source = sources[index % len(sources)]
        path = folder / f"part{index // 500:03d}" / f"clip{index:05d}{source.suffix}"
        if index % 500 == 0:
            path.parent.mkdir(parents=True, exist_ok=True)
        with source.open("rb") as src, path.open("wb") as out:
            shutil.copyfileobj(src, out)
            # Sizes differ by file, as real recordings' do; the end is the file's own.
            out.seek(FILE_SIZE + index * 4096 - 16)
            out.write(index.to_bytes(16, "little"))
        paths.append(path)
    return paths


def seed_rows(paths: list[Path], sources: list[Path], thumbs: Path) -> None:
    """Rows as a finished scan leaves them: each file fingerprinted, each with a thumbnail."""
    from django.contrib.staticfiles import finders

    from stoat.library.fingerprint import fingerprint_file
    from stoat.library.models import Video, path_key
    from stoat.library.probe import probe_video
    from stoat.library.thumbnails import thumbnail_name
    from stoat.scans.scanner import ReadItem, video_row

    jpeg = Path(str(finders.find("stoat/placeholder.jpg")))
    infos = [probe_video(str(source)) for source in sources]
    rows = []
    for index, path in enumerate(paths):
        st = path.stat()
        info = replace(infos[index % len(sources)], size=st.st_size, mtime_ns=st.st_mtime_ns)
        name = thumbnail_name(path_key(str(path)))
        (thumbs / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(jpeg, thumbs / name)
        item = ReadItem(str(path), st.st_size, st.st_mtime_ns, existing=False)
        rows.append(video_row(item, info, name, fingerprint_file(str(path))))
        if len(rows) == 2000:
            Video.objects.bulk_create(rows)
            rows.clear()
    Video.objects.bulk_create(rows)


def thumbnail_identities(thumbs: Path) -> dict[int, tuple[int, int]]:
    """Each video's thumbnail file as (inode, mtime): a thumbnail made again changes both."""
    from stoat.library.models import Video

    found = {}
    for pk, name in Video.objects.values_list("pk", "thumbnail"):
        st = (thumbs / name).stat()
        found[pk] = (st.st_ino, st.st_mtime_ns)
    return found


def moved_folder(base: Path, sizes: Sizes, sources: list[Path], thumbs: Path) -> list[str]:
    from benchmarks.cluster import Cluster, timed_scan
    from stoat.library.models import Video

    library = base / "moves"
    say(f"1. a {sizes.moved:,}-file folder moved inside the library, rescanned by 2 workers")
    clock = time.perf_counter()
    paths = build_moved_library(library / "camera", sources, sizes.moved)
    seed_rows(paths, sources, thumbs)
    largest = (FILE_SIZE + sizes.moved * 4096) / GIB
    say(
        f"   {sizes.moved:,} files of {FILE_SIZE / GIB:.0f}-{largest:.2f} GiB (sparse: an HD clip,"
        f" a hole, an end of their own), rows, fingerprints and thumbnails stored in"
        f" {time.perf_counter() - clock:.1f} s"
    )
    before = dict(Video.objects.values_list("pk", "path"))
    thumbs_before = thumbnail_identities(thumbs)
    with Cluster(2, base) as cluster:
        unchanged = []
        unchanged_jobs = []
        unchanged_bytes = []
        for _ in range(sizes.repeats):
            read = cluster_rchar(cluster)
            run = timed_scan(library)
            unchanged_bytes.append(cluster_rchar(cluster) - read)
            if run.status != "complete" or run.unchanged != sizes.moved:
                raise RuntimeError(f"the unchanged rescan read files: {run}")
            unchanged.append(run.seconds)
            unchanged_jobs.append(run.job_seconds)
        target = library / "archive" / "2026" / "camera"
        target.parent.mkdir(parents=True)
        (library / "camera").rename(target)
        read = cluster_rchar(cluster)
        moved = timed_scan(library)
        moved_bytes = cluster_rchar(cluster) - read
    after = dict(Video.objects.values_list("pk", "path"))
    ids_kept = set(after) == set(before) and all(
        after[pk] == path.replace(str(library / "camera"), str(target))
        for pk, path in before.items()
    )
    remade = sum(
        1 for pk, ident in thumbnail_identities(thumbs).items() if thumbs_before[pk] != ident
    )
    from stoat.scans.models import Job

    job = Job.objects.get(pk=moved.job_id)
    base_seconds = statistics.median(unchanged)
    ratio = moved.seconds / base_seconds
    extra = moved_bytes - statistics.median(unchanged_bytes)
    per_file = max(0, extra) / sizes.moved / 1024
    for number, (seconds, ran) in enumerate(zip(unchanged, unchanged_jobs, strict=True), start=1):
        say(
            f"   unchanged rescan {number}: {sizes.moved:,} files in {seconds:.2f} s"
            f" (the job itself: {ran:.2f} s)"
        )
    say(
        f"   after the move:    {job.moved:,} moved, {job.new:,} new, {job.missing:,} missing in"
        f" {moved.seconds:.2f} s (the job itself: {moved.job_seconds:.2f} s)"
    )
    say(
        f"   ids kept: {'all' if ids_kept else 'NOT ALL'} of {len(before):,};"
        f" thumbnails made again: {remade:,}"
    )
    say(
        f"   bytes read by the workers: {moved_bytes / 2**20:,.1f} MiB, {extra / 2**20:,.1f} MiB"
        f" more than an unchanged rescan ({statistics.median(unchanged_bytes) / 2**20:,.1f} MiB)"
        f" = {per_file:,.0f} KiB per moved file (files, database and broker together)"
    )
    ok_ids = ids_kept and remade == 0 and job.moved == sizes.moved and job.new == 0
    ok_bytes = per_file <= 256
    ok_time = ratio <= 1.5
    say(f"   ratio {ratio:.2f}x an unchanged rescan (target <= 1.5x: {verdict(ok_time)})")
    return [
        f"move: ids kept, no thumbnail made   {'yes' if ok_ids else 'no':>8}      yes"
        f"        {verdict(ok_ids)}",
        f"move: KiB read per moved file       {per_file:8.0f}      <= 256     {verdict(ok_bytes)}",
        f"move rescan vs unchanged rescan     {ratio:7.2f}x      <= 1.5x    {verdict(ok_time)}",
    ]


def distinct_library(folder: Path, sources: list[Path], count: int) -> None:
    """`count` files that are all different, as a library's recordings are: each a copy of a
    source with a 16-byte end of its own (the demuxers ignore it)."""
    from benchmarks import libraries

    for index, path in enumerate(libraries.copy_library(folder, sources, count)):
        with path.open("ab") as out:
            out.write(index.to_bytes(16, "little"))


def cold_scans(base: Path, sizes: Sizes, sources: list[Path], thumbs: Path) -> list[str]:
    from benchmarks import libraries

    distinct, copies = base / "cold-distinct", base / "cold-copies"
    distinct_library(distinct, sources, sizes.cold)
    libraries.copy_library(copies, sources, sizes.cold)
    say()
    say(f"2. cold scan of {sizes.cold:,} HD clips, 2 workers, with and without fingerprints")
    # The target is judged on distinct files; the all-copies library (each clip 15 times, so
    # nearly every file joins a duplicate group) shows what recognising copies adds on top.
    say(f"   a. {sizes.cold:,} distinct files, as a library's recordings are")
    ratio, cpu_ratio = fingerprint_cost(distinct, base, sizes, thumbs)
    say(f"   b. {sizes.cold // len(sources)} copies of each of {len(sources)} clips")
    copies_ratio, copies_cpu = fingerprint_cost(copies, base, sizes, thumbs)
    return [
        f"cold scan with/without fingerprints {ratio:7.3f}x      <= 1.05x"
        f"   {verdict(ratio <= 1.05)}",
        f"  the same in worker CPU time       {cpu_ratio:7.3f}x      <= 1.05x"
        f"   {verdict(cpu_ratio <= 1.05)}",
        f"  all copies (duplicate groups)     {copies_ratio:7.3f}x      CPU {copies_cpu:.3f}x"
        "  info",
    ]


def fingerprint_cost(library: Path, base: Path, sizes: Sizes, thumbs: Path) -> tuple[float, float]:
    """Cold scans of `library` with fingerprints on and off, alternated: the ratios of the
    median wall times and of the median worker CPU times."""
    from benchmarks import libraries
    from benchmarks.cluster import Cluster, timed_scan

    seconds: dict[bool, list[float]] = {True: [], False: []}
    # CPU time the workers used: less swayed than wall time by other work on a shared machine.
    cpu: dict[bool, list[float]] = {True: [], False: []}
    # Alternated, so a burst of outside load falls on both alike.
    for _ in range(sizes.repeats):
        for fingerprints in (True, False):
            libraries.forget(library, thumbs)
            os.environ["STOAT_FINGERPRINTS"] = "1" if fingerprints else "0"
            with Cluster(2, base) as cluster:
                used = cluster.cpu_seconds()
                run = timed_scan(library)
                cpu[fingerprints].append(cluster.cpu_seconds() - used)
            if run.status != "complete" or run.new != sizes.cold:
                raise RuntimeError(f"the cold scan did not read every file: {run}")
            seconds[fingerprints].append(run.seconds)
            label = "with   " if fingerprints else "without"
            say(
                f"      {label} fingerprints: {sizes.cold:,} files in {run.seconds:.2f} s,"
                f" {cpu[fingerprints][-1]:.2f} CPU s"
            )
    os.environ.pop("STOAT_FINGERPRINTS", None)
    with_ = statistics.median(seconds[True])
    without = statistics.median(seconds[False])
    ratio = with_ / without
    cpu_ratio = statistics.median(cpu[True]) / statistics.median(cpu[False])
    say(
        f"      medians {with_:.2f} s with, {without:.2f} s without: {ratio:.3f}x"
        f" (target <= 1.05x: {verdict(ratio <= 1.05)}); CPU {cpu_ratio:.3f}x"
    )
    return ratio, cpu_ratio


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.identity", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    parser.add_argument("--moved", type=int, help="files in the moved folder")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder")
    parser.add_argument(
        "--only",
        choices=["moves", "fingerprints"],
        help="one section: 1 (the moved folder) or 2 (cold scans with and without fingerprints)",
    )
    args = parser.parse_args(argv)
    preset = QUICK if args.quick else FULL
    sizes = replace(preset, moved=args.moved or preset.moved)
    base = environment.prepare(args.keep)
    try:
        from django.conf import settings

        from benchmarks import libraries

        say(f"stoat identity benchmarks, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
        say(environment.describe())
        say(f"load average before: {os.getloadavg()[0]:.2f}")
        spec = libraries.ClipSpec(width=1280, height=720, seconds=2.0)
        sources = libraries.make_sources(base / "sources", sizes.sources, spec)
        thumbs = Path(settings.STOAT_THUMB_DIR)
        say(f"sources: {sizes.sources} distinct clips, {spec}")
        say()
        summary: list[str] = []
        if args.only in (None, "moves"):
            summary += moved_folder(base, sizes, sources, thumbs)
        if args.only in (None, "fingerprints"):
            summary += cold_scans(base, sizes, sources, thumbs)
        say()
        say("summary                              measured   target     verdict")
        for line in summary:
            say(line)
        say(f"load average after: {os.getloadavg()[0]:.2f}")
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
