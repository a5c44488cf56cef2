"""Run `manage.py serve` as a real process tree against the test database, and look at it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from stoat.core.guardian import alive
from tests.worker import ROOT, wait_for, worker_env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """Small pools: the tests look at the process tree, not at its speed."""
    env = worker_env(data_dir, STOAT_WORKERS="1", STOAT_WEB_WORKERS="1", STOAT_WEB_THREADS="2")
    env.pop("DEBUG", None)
    env.update(extra)
    return env


def start_serve(data_dir: Path, port: int, *args: str, **extra: str) -> subprocess.Popen[str]:
    data_dir.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--addr", f"127.0.0.1:{port}", *args],
        cwd=ROOT,
        env=serve_env(data_dir, **extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def answers(port: int, path: str = "/healthz") -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as reply:
            return int(reply.status) == 200
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def wait_answering(serve: subprocess.Popen[str], port: int, timeout: float = 60) -> None:
    def up() -> bool:
        if serve.poll() is not None:
            raise AssertionError(f"serve exited {serve.returncode}:\n{serve.communicate()[0]}")
        return answers(port)

    wait_for(up, timeout, f"serve to answer on port {port}")


def children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry))
    return found


def descendants(pid: int) -> list[int]:
    """Every process below `pid`: its children, theirs, and so on."""
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children_of(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def still_running(pids: list[int]) -> list[str]:
    return [f"{pid} {command_line(pid)}" for pid in pids if alive(pid)]
