"""`python -m benchmarks.profiling`: where a scan's time goes, phase by phase, under cProfile.

Runs the scanner in this process (no worker), on the same kinds of libraries as the benchmarks:
a cold read of generated clips, then an unchanged rescan of hard links.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks import environment

TOP = 15


def profiled(label: str, work: Callable[[], object]) -> None:
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.runcall(work)
    print(f"\n== {label}: {time.perf_counter() - started:.2f} s under the profiler")
    stats = pstats.Stats(profile, stream=sys.stdout)
    stats.sort_stats("tottime").print_stats(TOP)


def scan_phases(folder: Path) -> None:
    """Walk, plan and read `folder` as one task does, timing each phase."""
    from stoat.scans import lifecycle
    from stoat.scans.scanner import Scanner

    job = lifecycle.create_scan(str(folder)).job
    lifecycle.claim(job.pk)
    job.refresh_from_db()
    scanner = Scanner(job)
    clock = time.perf_counter()
    found = scanner.find()
    assert found is not None
    walked = time.perf_counter()
    plan = scanner.plan(*found)
    scanner.record_plan(plan)
    planned = time.perf_counter()
    scanner.read(plan.to_read)
    lifecycle.conclude(job.pk)
    done = time.perf_counter()
    print(
        f"   find {walked - clock:.3f} s, plan {planned - walked:.3f} s,"
        f" read {len(plan.to_read):,} files {done - planned:.3f} s"
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profiling", description=__doc__)
    parser.add_argument("--clips", type=int, default=300)
    parser.add_argument("--files", type=int, default=100_000)
    args = parser.parse_args(argv)
    base = environment.prepare(keep=False)
    try:
        from benchmarks import libraries

        sources = libraries.make_sources(
            base / "sources", min(100, args.clips), libraries.ClipSpec()
        )
        cold = base / "cold"
        libraries.copy_library(cold, sources, args.clips)
        big = base / "big"
        libraries.seed_library(libraries.link_library(big, sources, args.files))
        profiled(f"cold scan of {args.clips:,} clips", lambda: scan_phases(cold))
        profiled(f"unchanged rescan of {args.files:,} files", lambda: scan_phases(big))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
