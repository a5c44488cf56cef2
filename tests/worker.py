"""Start a real django-q2 `qcluster` process against the test database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def worker_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment a worker needs to share this test run's database."""
    env = dict(os.environ)
    if connection.vendor == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{connection.settings_dict['NAME']}"
    env["STOAT_DATA_DIR"] = str(data_dir)
    env.update(extra)
    return env


@contextmanager
def qcluster(data_dir: Path, **extra: str) -> Iterator[subprocess.Popen[bytes]]:
    data_dir.mkdir(parents=True, exist_ok=True)
    log = (data_dir / "qcluster.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=worker_env(data_dir, **extra),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        stop_cluster(process)
        log.close()


def stop_cluster(process: subprocess.Popen[bytes], timeout: float = 15) -> None:
    """Ask the cluster to stop as Ctrl-C does; kill its whole process group if it will not."""
    if process.poll() is None:
        # Only the sentinel gets the signal: it stops its own workers in order.
        process.send_signal(signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=timeout)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
