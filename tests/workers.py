"""Start real `manage.py qcluster` processes for tests, each as if it ran on a host of its own."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

from stoat.scans.models import Job

MANAGE = Path(__file__).resolve().parent.parent / "manage.py"
READY_LINE = "running."


def database_url() -> str:
    """The URL of the test database this process uses, for worker processes to use the same."""
    db = connection.settings_dict
    user = quote(db.get("USER") or "")
    password = quote(db.get("PASSWORD") or "")
    auth = f"{user}:{password}@" if password else f"{user}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}/{db['NAME']}"


@dataclass
class Cluster:
    """One qcluster process group: its sentinel, pusher, monitor and workers."""

    host: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while READY_LINE not in self.output():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"qcluster {self.host} did not start:\n{self.output()}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL the whole group at once, as when a host loses power."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """Ask the cluster to stop as a service manager would; kill what is left after a while."""
        if self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


def start_cluster(host: str, folder: Path, data_dir: Path, **env: str) -> Cluster:
    """A one-worker qcluster that names itself `host`, sharing this test's database and queue."""
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / f"{host}.log"
    environment = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "STOAT_BROKER_URL": settings.STOAT_BROKER_URL,
        "STOAT_QUEUE_NAME": settings.Q_CLUSTER["name"],
        "STOAT_DATA_DIR": str(data_dir),
        "STOAT_WORKER_NAME": host,
        "STOAT_WORKERS": "1",
        "STOAT_PROGRESS_INTERVAL": "0.1",
        **env,
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, str(MANAGE), "qcluster"],
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so a kill takes all its children
        )
    return Cluster(host, process, log)


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def wait_until_ended(job: Job, timeout: float = 60.0) -> Job:
    wait_for(lambda: Job.objects.get(pk=job.pk).is_terminal, timeout, f"job {job.pk} to end")
    job.refresh_from_db()
    return job


def holds_for(condition: Callable[[], bool], seconds: float) -> bool:
    """True when `condition` stays true for `seconds` (no task is between queue and worker)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not condition():
            return False
        time.sleep(0.05)
    return True
