"""Start real `manage.py watch` processes against the test database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from stoat.library.models import Library
from stoat.scans.models import Job, Origin, Status
from stoat.watch.models import WatchLease
from tests.worker import ROOT, wait_for, worker_env

# Quick enough for tests: files settle in half a second, a silent watcher loses its lease in 3.
FAST = {"STOAT_WATCH_SETTLE": "0.5", "STOAT_WATCH_LEASE": "3", "STOAT_WATCH_DEBOUNCE_MS": "200"}


def start_watch(data_dir: Path, name: str = "host-a", **extra: str) -> subprocess.Popen[bytes]:
    data_dir.mkdir(parents=True, exist_ok=True)
    env = worker_env(data_dir, STOAT_WORKER_NAME=name, **{**FAST, **extra})
    with (data_dir / f"watch-{name}.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "manage.py", "watch"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def kill(process: subprocess.Popen[bytes]) -> None:
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            kill(process)


@contextmanager
def watching(
    data_dir: Path, name: str = "host-a", **extra: str
) -> Iterator[subprocess.Popen[bytes]]:
    process = start_watch(data_dir, name, **extra)
    try:
        yield process
    finally:
        stop(process)


def lease_of(library: Library) -> WatchLease | None:
    return WatchLease.objects.filter(library=library).first()


def wait_watched(library: Library, mode: str, by: str = "", timeout: float = 30) -> WatchLease:
    """Until a watcher holds the library in `mode` and its first comparison scan has ended."""

    def ready() -> bool:
        lease = lease_of(library)
        return lease is not None and lease.mode == mode and lease.holder.startswith(by)

    wait_for(ready, timeout, f"library {library.name} to be watched by {mode}")
    wait_for(
        lambda: (
            Job.objects.filter(
                library=library, origin=Origin.WATCH, label__startswith="watch: comparing"
            )
            .exclude(status__in=(Status.PENDING, Status.RUNNING))
            .exists()
        ),
        30,
        "the watcher's first comparison to end",
    )
    lease = lease_of(library)
    assert lease is not None
    return lease


def watch_scans(library: Library) -> list[Job]:
    """The small scans the watcher started for changes (not its comparison after a start)."""
    return list(
        Job.objects.filter(library=library, origin=Origin.WATCH)
        .exclude(label__startswith="watch: comparing")
        .order_by("id")
    )
