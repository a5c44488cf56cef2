"""A real django-q2 cluster (`manage.py qcluster`) for the benchmarks, and how to watch its jobs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

MANAGE = Path(__file__).resolve().parent.parent / "manage.py"
# How often the benchmark looks at a job it waits for: often while timing a cancel, less often
# while a scan runs, so the watching takes little CPU from the workers it measures.
CANCEL_POLL_SECONDS = 0.005
SCAN_POLL_SECONDS = 0.02


@dataclass(frozen=True)
class Finished:
    """A job as it ended, with the wall time from the scan request to the end being seen."""

    job_id: int
    status: str
    seconds: float
    found: int
    processed: int
    new: int
    unchanged: int
    errors: int
    batches: int
    job_seconds: float  # from the worker claiming the job to the job ending, as the job records it
    cpu_seconds: float = 0.0  # used by the cluster meanwhile; set where it is measured
    peak_rss_mib: float = 0.0  # the cluster's largest process so far; set where it is measured

    @property
    def cores(self) -> float:
        """How many cores the cluster kept busy on average: 2 workers on 2 free cores near 2."""
        return self.cpu_seconds / self.seconds


def wait_for(
    job_id: int, started: float, timeout: float, poll: float = SCAN_POLL_SECONDS
) -> Finished:
    from stoat.scans.models import TERMINAL, Job

    fields = ("status", "found", "processed", "new", "unchanged", "error_count", "batches_total")
    times = ("started_at", "finished_at")
    deadline = started + timeout
    while True:
        row = Job.objects.filter(pk=job_id).values_list(*fields, *times).get()
        if row[0] in TERMINAL:
            seen = time.perf_counter() - started
            start, end = row[-2:]
            ran = (end - start).total_seconds() if start and end else 0.0
            found, processed, new, unchanged, errors, batches = row[1:-2]
            return Finished(
                job_id, row[0], seen, found, processed, new, unchanged, errors, batches, ran
            )
        if time.perf_counter() > deadline:
            raise TimeoutError(f"job {job_id} still {row[0]} after {timeout:g} s")
        time.sleep(poll)


def timed_scan(folder: Path, timeout: float = 3600) -> Finished:
    """Ask for a scan as the web page does, and wait for the worker to end it."""
    from stoat.scans import services

    started = time.perf_counter()
    start = services.start_scan(str(folder))
    if not start.created:
        raise RuntimeError(f"a scan of {folder} was already running")
    return wait_for(start.job.pk, started, timeout)


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as stat:
                # The command name may hold spaces; the parent id follows its closing bracket.
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(name))
    found: list[int] = []
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the process used so far, with its waited-for children."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # utime, stime, cutime, cstime: fields 14-17 of proc(5), counted after the command name.
    ticks = sum(int(value) for value in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def peak_rss_kib(pid: int) -> int | None:
    """VmHWM: the most memory the process ever had resident, in KiB."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class Cluster:
    """`manage.py qcluster` with `workers` workers, started and warmed up, stopped on exit."""

    def __init__(self, workers: int, base: Path) -> None:
        self.workers = workers
        self.base = base
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Cluster:
        env = dict(os.environ, STOAT_WORKERS=str(self.workers))
        log = open(self.base / "qcluster.log", "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [sys.executable, str(MANAGE), "qcluster"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        empty = self.base / "empty"
        empty.mkdir(exist_ok=True)
        # A scan of an empty folder proves the workers are up before anything is timed.
        warm = timed_scan(empty, timeout=120)
        if warm.status != "complete":
            raise RuntimeError(f"warm-up scan ended {warm.status}")
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def peak_rss_mib(self) -> tuple[float, int]:
        """The highest VmHWM among the cluster's worker processes (MiB), and how many it has."""
        assert self.process is not None
        peaks = [peak_rss_kib(pid) for pid in descendants(self.process.pid)]
        known = [peak for peak in peaks if peak is not None]
        return (max(known) / 1024 if known else 0.0), len(known)

    def cpu_seconds(self) -> float:
        """CPU time used so far by the cluster's processes (workers, pusher, monitor, sentinel)."""
        assert self.process is not None
        pids = [self.process.pid, *descendants(self.process.pid)]
        return sum(cpu_seconds(pid) for pid in pids)

    def drain(self, timeout: float = 60) -> None:
        """Wait until no task is queued or in flight, so the next measurement starts quiet."""
        from django_q.brokers import get_broker

        broker = get_broker()
        deadline = time.perf_counter() + timeout
        while broker.queue_size() or broker.lock_size():
            if time.perf_counter() > deadline:
                raise TimeoutError("tasks still queued")
            time.sleep(0.02)
