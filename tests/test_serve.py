from __future__ import annotations

import io
import os
import signal
import socket
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_commands() -> list[str]:
    """Command lines of this process's children."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid():
            found.append(cmdline)
    return found


def test_serve_runs_the_web_server_and_a_worker_until_interrupted(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    port = free_port()
    if connection.vendor == "sqlite":
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{connection.settings_dict['NAME']}")
    monkeypatch.setenv("STOAT_DATA_DIR", str(data_dir))
    seen: dict[str, object] = {}

    def use_then_interrupt() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as reply:
                    seen["status"] = reply.status
                    seen["body"] = reply.read().decode()
                    break
            except OSError:
                time.sleep(0.2)
        seen["children"] = child_commands()
        os.kill(os.getpid(), signal.SIGINT)

    prober = threading.Thread(target=use_then_interrupt)
    prober.start()
    out = io.StringIO()
    call_command("serve", addr=f"127.0.0.1:{port}", stdout=out)
    prober.join()

    assert f"http://127.0.0.1:{port}/" in out.getvalue()
    assert seen["status"] == 200
    assert "No videos yet" in str(seen["body"])
    children = " | ".join(seen["children"])  # type: ignore[arg-type]
    assert "runserver" in children and "qcluster" in children
    assert not any("qcluster" in c or "runserver" in c for c in child_commands())
