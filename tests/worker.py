"""Start a real django-q2 `qcluster` process against the test database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def database_url() -> str:
    """The URL of the test database this process uses, for a worker to use the same one."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user, password = quote(db.get("USER") or ""), quote(db.get("PASSWORD") or "")
    auth = f"{user}:{password}@" if password else f"{user}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}/{db['NAME']}"


def worker_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment a worker needs to share this test run's database and queue."""
    env = dict(os.environ)
    env["DATABASE_URL"] = database_url()
    env["STOAT_DATA_DIR"] = str(data_dir)
    # Tasks are signed with the key: the worker must hold this process's, not make its own.
    env["SECRET_KEY"] = settings.SECRET_KEY
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


@dataclass
class Host:
    """A qcluster started as if on a host of its own: its own process group, name and log."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def wait_ready(self, timeout: float = 30.0) -> None:
        def ready() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"qcluster {self.name} exited:\n{self.log.read_text()}")
            return "running." in self.log.read_text(errors="replace")

        wait_for(ready, timeout, f"qcluster {self.name} to start")

    def kill(self) -> None:
        """SIGKILL the whole group at once, as when the host loses power."""
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


def start_host(name: str, folder: Path, **extra: str) -> Host:
    """A one-worker qcluster naming itself `name` in the batch records."""
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / f"{name}.log"
    env = worker_env(folder / "data", STOAT_WORKER_NAME=name, STOAT_WORKERS="1", **extra)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Host(name, process, log)


def holds_for(condition: Callable[[], bool], seconds: float) -> bool:
    """True when `condition` stays true for `seconds` (no task is between queue and worker)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not condition():
            return False
        time.sleep(0.05)
    return True
