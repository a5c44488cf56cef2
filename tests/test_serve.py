from __future__ import annotations

import http.cookiejar
import io
import os
import re
import signal
import socket
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.conf import LazySettings, global_settings
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


def test_serve_runs_the_web_server_and_a_worker_and_its_first_login_works(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path, settings: LazySettings
) -> None:
    # The server process checks the password with the real hashers, not the tests' fast one.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    port = free_port()
    if connection.vendor == "sqlite":
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{connection.settings_dict['NAME']}")
    monkeypatch.setenv("STOAT_DATA_DIR", str(data_dir))
    seen: dict[str, object] = {}
    out = io.StringIO()

    def use_then_interrupt() -> None:
        try:
            sign_in_with_the_printed_password()
        finally:
            seen["children"] = child_commands()
            os.kill(os.getpid(), signal.SIGINT)

    def sign_in_with_the_printed_password() -> None:
        # The first start printed a password; a newcomer signs in with it, as a browser does.
        jar = http.cookiejar.CookieJar()
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with browser.open(f"{base}/", timeout=2) as reply:
                    seen["first_page"] = reply.url
                    login_html = reply.read().decode()
                    break
            except OSError:
                time.sleep(0.2)
        else:
            login_html = ""
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_html)
        password = re.search(r"password:\s+(\S+)", out.getvalue())
        if token and password:
            form = {
                "csrfmiddlewaretoken": token.group(1),
                "username": "admin",
                "password": password.group(1),
                "next": "/",
            }
            request = urllib.request.Request(
                f"{base}/accounts/login/",
                data=urllib.parse.urlencode(form).encode(),
                headers={"Referer": f"{base}/accounts/login/"},
            )
            with browser.open(request, timeout=5) as reply:
                seen["status"] = reply.status
                seen["body"] = reply.read().decode()

    prober = threading.Thread(target=use_then_interrupt)
    prober.start()
    call_command("serve", addr=f"127.0.0.1:{port}", stdout=out)
    prober.join()

    assert f"http://127.0.0.1:{port}/" in out.getvalue()
    assert "user name: admin" in out.getvalue()
    assert seen["first_page"] == f"http://127.0.0.1:{port}/accounts/login/?next=/"
    assert seen["status"] == 200
    assert "No videos yet" in str(seen["body"])
    children = " | ".join(seen["children"])  # type: ignore[arg-type]
    assert "runserver" in children and "qcluster" in children
    assert not any("qcluster" in c or "runserver" in c for c in child_commands())
