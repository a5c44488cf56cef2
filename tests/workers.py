"""Start and kill real django-q2 `qcluster` processes against the test's file database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from django.db import connection

REPO = Path(__file__).resolve().parent.parent


class Cluster:
    """One `manage.py qcluster` in its own process group, so a kill takes its workers too."""

    def __init__(self, data_dir: Path, log: Path, **env: str) -> None:
        values = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{connection.settings_dict['NAME']}",
            "STOAT_DATA_DIR": str(data_dir),
            "STOAT_BROKER_URL": "",
            "STOAT_WORKERS": "1",
            "DEBUG": "1",
            **env,
        }
        self.log = log
        with log.open("a") as out:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "qcluster"],
                cwd=REPO,
                env=values,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        """SIGKILL the whole cluster at once, as the OOM killer or a power cut would.

        Also how a test ends a cluster once it has seen what it waited for: a graceful stop
        waits for django-q2's own shutdown timers and tells the test nothing more.
        """
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def wait_until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"gave up after {seconds:g} s waiting until {what}")
        time.sleep(0.05)
