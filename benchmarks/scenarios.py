"""The five measurements. Each returns its figures; `__main__` prints them."""

from __future__ import annotations

import random
import statistics
import time
from dataclasses import dataclass, replace
from pathlib import Path

from benchmarks import baseline
from benchmarks.cluster import CANCEL_POLL_SECONDS, Cluster, Finished, timed_scan, wait_for
from benchmarks.libraries import forget


@dataclass(frozen=True)
class Rescan:
    runs: list[Finished]
    peak_rss_mib: float
    processes: int

    @property
    def median_seconds(self) -> float:
        return statistics.median(run.seconds for run in self.runs)


@dataclass(frozen=True)
class CancelLatency:
    seconds: list[float]
    statuses: list[str]
    at_processed: list[int]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def worst(self) -> float:
        return max(self.seconds)


@dataclass(frozen=True)
class SpeedUp:
    one: list[Finished]
    two: list[Finished]

    @staticmethod
    def best(runs: list[Finished]) -> Finished:
        return min(runs, key=lambda run: run.seconds)

    @property
    def ratio(self) -> float:
        return self.best(self.one).seconds / self.best(self.two).seconds


def checked(run: Finished, expected: int) -> Finished:
    if run.status != "complete" or run.processed != expected:
        raise RuntimeError(f"scan ended {run.status} with {run.processed}/{expected} files: {run}")
    return run


def cold_scan(base: Path, library: Path, count: int, thumbs: Path, workers: int) -> Finished:
    forget(library, thumbs)
    with Cluster(workers, base) as cluster:
        cpu = cluster.cpu_seconds()
        run = checked(timed_scan(library), count)
        peak, _ = cluster.peak_rss_mib()
        return replace(run, cpu_seconds=cluster.cpu_seconds() - cpu, peak_rss_mib=peak)


def baseline_seconds(base: Path, paths: list[Path]) -> float:
    from django.conf import settings

    return baseline.run(paths, base / "baseline-thumbs", settings.STOAT_THUMB_SIZE)


def rescan(base: Path, library: Path, count: int, repeats: int, workers: int) -> Rescan:
    with Cluster(workers, base) as cluster:
        runs = [checked(timed_scan(library), count) for _ in range(repeats)]
        for run in runs:
            if run.unchanged != count:
                raise RuntimeError(f"an unchanged rescan read files again: {run}")
        peak, processes = cluster.peak_rss_mib()
    return Rescan(runs, peak, processes)


def cancel_latency(
    base: Path, library: Path, thumbs: Path, trials: int, workers: int, seed: int = 4
) -> CancelLatency:
    """Cancel scans at random moments (mostly while batches read) and time until `cancelled`."""
    from stoat.scans import services

    rng = random.Random(seed)
    seconds: list[float] = []
    statuses: list[str] = []
    at: list[int] = []
    with Cluster(workers, base) as cluster:
        for _ in range(trials):
            forget(library, thumbs)
            start = services.start_scan(str(library))
            time.sleep(rng.uniform(0.2, 1.5))
            asked = time.perf_counter()
            result = services.cancel_job(start.job.pk)
            if not result.accepted:
                raise RuntimeError(f"the scan ended before it could be cancelled: {result}")
            ended = wait_for(start.job.pk, asked, timeout=60, poll=CANCEL_POLL_SECONDS)
            seconds.append(ended.seconds)
            statuses.append(ended.status)
            at.append(ended.processed)
            cluster.drain()
    return CancelLatency(seconds, statuses, at)


def speed_up(base: Path, library: Path, count: int, thumbs: Path, repeats: int) -> SpeedUp:
    """Cold scans on 1 and 2 workers, alternated so a burst of outside load hits both alike."""
    runs: dict[int, list[Finished]] = {1: [], 2: []}
    for _ in range(repeats):
        for workers in (1, 2):
            runs[workers].append(cold_scan(base, library, count, thumbs, workers))
    return SpeedUp(runs[1], runs[2])
