"""`python -m benchmarks.takeover [--files N] [--only sqlite|postgres]`: worker hosts SIGKILLed
mid-scan, on SQLite + the ORM broker and on PostgreSQL + Redis.

1. Two hosts (two `qcluster` process trees, each named as a host) scan N files; at 30 % one is
   SIGKILLed. The job must end complete, with N rows, every file counted once, no later than the
   heartbeat bound (STOAT_HEARTBEAT_STALE) plus 15 s after the kill.
2. The only host is SIGKILLed at 30 % and started again 20 s later: the same guarantees.

Each configuration runs in a child process of its own (settings are read once per process).
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

MANAGE = Path(__file__).resolve().parent.parent / "manage.py"
KILL_AT = 0.30
RESTART_AFTER = 20.0
MARGIN = 15.0
POLL = 0.05


@dataclass
class Host:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while "running." not in self.log.read_text(errors="replace"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start:\n{self.log.read_text()[-2000:]}")
            time.sleep(POLL)

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def start_host(name: str, base: Path) -> Host:
    log = base / f"{name}-{time.monotonic_ns()}.log"
    env = dict(os.environ, STOAT_WORKER_NAME=name)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, str(MANAGE), "qcluster"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    host = Host(name, process, log)
    host.wait_ready()
    return host


@dataclass(frozen=True)
class Outcome:
    status: str
    rows: int
    processed: int
    new: int
    counted: int  # the files the batches say they stored, summed
    batches: int
    handed_on: int  # batches taken over after their worker was lost
    after_kill: float  # seconds from the kill to the job's end
    total: float  # seconds from the scan request to the job's end

    def holds(self, files: int, limit: float) -> bool:
        return (
            self.status == "complete"
            and self.rows == self.processed == self.new == self.counted == files
            and self.after_kill <= limit
        )


def scan(folder: Path) -> int:
    """Ask for a scan as the page does; the new job goes to the workers once committed."""
    from stoat.scans import services

    return services.start_scan(str(folder)).job.pk


def fraction_read(job_id: int) -> float:
    from stoat.scans.models import Job

    found, final, processed = Job.objects.values_list("found", "found_final", "processed").get(
        pk=job_id
    )
    return processed / found if final and found else 0.0


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(POLL)


def outcome(job_id: int, folder: Path, requested: float, killed: float) -> Outcome:
    from django.db.models import Sum

    from stoat.library.models import Video
    from stoat.scans.models import TERMINAL, Job, ScanBatch

    wait_until(
        lambda: Job.objects.filter(pk=job_id, status__in=TERMINAL).exists(), 900, "the job to end"
    )
    ended = time.monotonic()
    job = Job.objects.get(pk=job_id)
    batches = ScanBatch.objects.filter(job_id=job_id)
    return Outcome(
        status=job.status,
        rows=Video.objects.filter(path__startswith=f"{folder}/").count(),
        processed=job.processed,
        new=job.new,
        counted=batches.aggregate(total=Sum("read"))["total"] or 0,
        batches=job.batches_total,
        handed_on=batches.filter(losses__gt=0).count(),
        after_kill=ended - killed,
        total=ended - requested,
    )


def missing_rows(folder: Path) -> list[str]:
    """Files of the library with no row, and where the scan put them instead, if anywhere."""
    from stoat.library.models import Video
    from stoat.scans.models import ScanArrival, ScanError, SkippedFile

    on_disk = {str(path) for path in folder.rglob("*") if path.is_file()}
    stored = set(Video.objects.filter(path__startswith=f"{folder}/").values_list("path", flat=True))
    lines = []
    for path in sorted(on_disk - stored)[:5]:
        where = [
            name
            for name, model in (
                ("arrival", ScanArrival),
                ("error", ScanError),
                ("not video", SkippedFile),
            )
            if model.objects.filter(path=path).exists()
        ]
        lines.append(f"    no row: {path} ({', '.join(where) or 'nowhere'})")
    return lines


def report(label: str, result: Outcome, files: int, limit: float) -> bool:
    ok = result.holds(files, limit)
    print(
        f"  {label}: {result.status}, {result.rows:,} rows, processed {result.processed:,}, "
        f"new {result.new:,}, counted by batches {result.counted:,} "
        f"({result.handed_on} of {result.batches} batches handed on); "
        f"ended {result.after_kill:.1f} s after the kill (limit {limit:.0f} s), "
        f"{result.total:.1f} s in all -> {'PASS' if ok else 'FAIL'}",
        flush=True,
    )
    return ok


def child(files: int) -> int:
    from benchmarks import environment

    base = environment.prepare(keep=False)
    from django.conf import settings

    from benchmarks import libraries

    print(environment.describe(), flush=True)
    stale = settings.STOAT_HEARTBEAT_STALE
    limit = stale + MARGIN
    print(
        f"  heartbeat every {settings.STOAT_HEARTBEAT_INTERVAL:g} s, stale after {stale:g} s; "
        f"{settings.Q_CLUSTER['workers']} workers per host; {files:,} files",
        flush=True,
    )
    sources = libraries.make_sources(base / "sources", 60, libraries.ClipSpec())
    ok = True

    # 1. Two hosts, one killed at 30 %.
    first = base / "two-hosts"
    libraries.copy_library(first, sources, files)
    hosts = [start_host("host-a", base), start_host("host-b", base)]
    try:
        requested = time.monotonic()
        job = scan(first)
        wait_until(lambda: fraction_read(job) >= KILL_AT, 900, "30 % of the files read")
        hosts[1].kill()
        killed = time.monotonic()
        print(f"  host-b SIGKILLed at {fraction_read(job):.0%} read", flush=True)
        ok &= report("two hosts, one killed", outcome(job, first, requested, killed), files, limit)
        print("\n".join(missing_rows(first)), flush=True)
    finally:
        for host in hosts:
            host.stop()

    # 2. The only host killed at 30 % and started again 20 s later.
    second = base / "one-host"
    libraries.copy_library(second, sources, files)
    host = start_host("host-a", base)
    try:
        requested = time.monotonic()
        job = scan(second)
        wait_until(lambda: fraction_read(job) >= KILL_AT, 900, "30 % of the files read")
        host.kill()
        killed = time.monotonic()
        print(f"  the only host SIGKILLed at {fraction_read(job):.0%} read", flush=True)
        time.sleep(RESTART_AFTER)  # the reboot: nobody runs for a while
        host = start_host("host-a", base)
        restarted = time.monotonic() - killed
        result = outcome(job, second, requested, killed)
        print(f"  started again {restarted:.1f} s after the kill", flush=True)
        ok &= report("only host killed, restarted", result, files, limit + RESTART_AFTER)
        print("\n".join(missing_rows(second)), flush=True)
    finally:
        host.stop()
    return 0 if ok else 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.takeover", description=__doc__)
    parser.add_argument("--files", type=int, default=3000)
    parser.add_argument("--only", choices=["sqlite", "postgres"], action="append")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.files)
    from benchmarks.configs import REDIS_URL, Postgres, forget_queue

    failed = []
    for name in args.only or ["sqlite", "postgres"]:
        command = [
            sys.executable,
            "-m",
            "benchmarks.takeover",
            "--child",
            "--files",
            str(args.files),
        ]
        if name == "sqlite":
            print("== SQLite + ORM broker", flush=True)
            env = {
                k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "STOAT_BROKER_URL")
            }
            if subprocess.call(command, env=env):
                failed.append(name)
            continue
        print("== PostgreSQL + Redis", flush=True)
        run = f"{int(time.time())}_{os.getpid()}_{secrets.token_hex(2)}"
        queue = f"stoat-takeover-{run}"
        redis_url = f"{REDIS_URL}/{secrets.randbelow(15) + 1}"
        with Postgres(f"stoat_takeover_{run}") as database:
            env = dict(
                os.environ,
                DATABASE_URL=database.url(),
                STOAT_BROKER_URL=redis_url,
                STOAT_QUEUE_NAME=queue,
            )
            try:
                if subprocess.call(command, env=env):
                    failed.append(name)
            finally:
                forget_queue(redis_url, queue)
    print(
        f"\ntakeover benchmark, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: "
        + ("all passed" if not failed else f"FAILED on {', '.join(failed)}")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
