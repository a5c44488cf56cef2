"""Run stoat the way the README does (migrate, then `serve`: web server + django-q2 worker)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from tests.serving import descendants, still_running

REPO = Path(__file__).resolve().parents[2]
USERNAME = "browser-admin"
PASSWORD = "a-long-browser-test-password-7"
# Progress written often, so a scan of a few seconds shows several values on the 1 s poll.
PROGRESS_INTERVAL = "0.2"
# Settings from the caller's environment that would point the app at a shared service.
SHARED_SERVICE_SETTINGS = ("DATABASE_URL", "STOAT_BROKER_URL", "STOAT_TEST_DB")


@dataclass
class StoatServer:
    url: str
    data_dir: Path
    log_path: Path
    process: subprocess.Popen[bytes]

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_environment(data_dir: Path, scan_root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SHARED_SERVICE_SETTINGS}
    env.update(
        STOAT_DATA_DIR=str(data_dir),
        STOAT_SCAN_ROOTS=str(scan_root),
        STOAT_PROGRESS_INTERVAL=PROGRESS_INTERVAL,
        # A journey holds a file to keep its scan running: only its release may end the read.
        STOAT_FILE_TIME_LIMIT="120",
        DJANGO_SUPERUSER_USERNAME=USERNAME,
        DJANGO_SUPERUSER_PASSWORD=PASSWORD,
        DJANGO_SUPERUSER_EMAIL="browser-admin@example.com",
        PYTHONUNBUFFERED="1",
    )
    return env


def manage(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


def wait_until_answering(server: StoatServer, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"stoat serve exited early:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(server.url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # any HTTP answer (a login redirect's 4xx included) means it serves
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"no answer at {server.url} within {timeout}s:\n{server.log_tail()}")


def start_server(data_dir: Path, scan_root: Path) -> StoatServer:
    """A migrated database with a staff superuser, and `serve` answering on a free port."""
    env = server_environment(data_dir, scan_root)
    data_dir.mkdir(parents=True, exist_ok=True)
    manage(env, "migrate", "--noinput")
    manage(env, "createsuperuser", "--noinput")
    port = free_port()
    log_path = data_dir / "serve.log"
    with log_path.open("wb") as log:
        # Its own process group: every process it starts can be found (and must be gone) later.
        process = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--addr", f"127.0.0.1:{port}"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = StoatServer(f"http://127.0.0.1:{port}", data_dir, log_path, process)
    try:
        wait_until_answering(server)
    except BaseException:
        stop_server(server)
        raise
    return server


def living_processes_in_group(pgid: int) -> list[str]:
    """Process ids and names of the group's members that are not yet dead (zombies excluded)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        state, _ppid, group = stat[stat.rindex(")") + 2 :].split()[:3]
        if int(group) == pgid and state != "Z":
            found.append(f"{entry.name} ({name})")
    return found


def stop_server(server: StoatServer, grace: float = 10.0) -> list[str]:
    """Ctrl-C `serve` as a user would; returns the processes that outlived it (then killed)."""
    process = server.process
    # serve's children live in a process group of their own: find them by parentage.
    tree = descendants(process.pid)
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def outliving() -> list[str]:
        return living_processes_in_group(process.pid) + still_running(tree)

    deadline = time.monotonic() + grace
    leftovers = outliving()
    while leftovers and time.monotonic() < deadline:
        time.sleep(0.2)
        leftovers = outliving()
    if leftovers:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        for pid in tree:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    return leftovers
