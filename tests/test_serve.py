"""`manage.py serve`: a production web server and the scan workers, one tree that stops together."""

from __future__ import annotations

import getpass
import http.cookiejar
import io
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import LazySettings, global_settings
from django.core.management import call_command

from tests.serving import (
    children_of,
    command_line,
    descendants,
    free_port,
    start_serve,
    still_running,
    wait_answering,
)
from tests.test_deploy import PRODUCTION_KEY
from tests.worker import ROOT, database_url, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def test_serve_runs_the_web_server_and_a_worker_and_its_first_login_works(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path, settings: LazySettings
) -> None:
    # The server process checks the password with the real hashers, not the tests' fast one.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    settings.STOAT_WEB_WORKERS = 1
    port = free_port()
    monkeypatch.setenv("DATABASE_URL", database_url())
    monkeypatch.setenv("STOAT_DATA_DIR", str(data_dir))
    monkeypatch.setenv("STOAT_WORKERS", "1")
    seen: dict[str, object] = {}
    out = io.StringIO()
    # Children this test process had before (a browser driver, say) are not serve's to stop.
    before = set(children_of(os.getpid()))

    def use_then_interrupt() -> None:
        try:
            sign_in_with_the_printed_password()
        finally:
            seen["children"] = [
                command_line(pid) for pid in children_of(os.getpid()) if pid not in before
            ]
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

    assert (
        f"stoat: serving http://127.0.0.1:{port}/ with granian, 1 web processes" in out.getvalue()
    )
    assert "user name: admin" in out.getvalue()
    assert seen["first_page"] == f"http://127.0.0.1:{port}/accounts/login/?next=/"
    assert seen["status"] == 200
    assert "No videos yet" in str(seen["body"])
    children = " | ".join(seen["children"])  # type: ignore[arg-type]
    assert "-m granian" in children and "qcluster" in children and "stoat.core.guardian" in children
    assert "django watch" in children
    assert "runserver" not in children
    assert "stoat: stopped (SIGINT)" in out.getvalue()
    assert set(children_of(os.getpid())) - before == set()


@pytest.mark.parametrize(
    ("server", "stop"),
    [("granian", signal.SIGTERM), ("granian", signal.SIGINT), ("gunicorn", signal.SIGTERM)],
)
def test_serve_runs_a_production_server_and_a_signal_stops_every_child_within_10_s(
    data_dir: Path, server: str, stop: signal.Signals
) -> None:
    port = free_port()
    serve = start_serve(data_dir, port, "--server", server)
    wait_answering(serve, port)
    tree = descendants(serve.pid)
    commands = " | ".join(command_line(pid) for pid in children_of(serve.pid))
    assert f"-m {server}" in commands and "qcluster" in commands
    assert "django watch" in commands
    assert "runserver" not in commands

    serve.send_signal(stop)
    started = time.monotonic()
    output, _ = serve.communicate(timeout=15)

    assert time.monotonic() - started < 10
    assert serve.returncode == 0, output
    assert f"stoat: stopped ({stop.name})" in output
    assert still_running(tree) == []


def test_sigkill_of_serve_leaves_no_child_after_10_s(data_dir: Path) -> None:
    port = free_port()
    serve = start_serve(data_dir, port)
    wait_answering(serve, port)
    tree = descendants(serve.pid)
    # The web server's and the cluster's own processes too, not only serve's children.
    assert len(tree) > len(children_of(serve.pid))

    serve.kill()
    serve.wait()

    wait_for(lambda: not still_running(tree), 10, "serve's children to end after its SIGKILL")


def test_a_child_that_dies_takes_serve_down_with_a_non_zero_exit(data_dir: Path) -> None:
    port = free_port()
    serve = start_serve(data_dir, port)
    wait_answering(serve, port)
    tree = descendants(serve.pid)
    cluster = next(pid for pid in children_of(serve.pid) if "qcluster" in command_line(pid))

    os.kill(cluster, signal.SIGKILL)
    output, _ = serve.communicate(timeout=15)

    assert serve.returncode != 0
    assert "the scan worker (qcluster) exited (code -9); stopped the others" in output
    assert still_running(tree) == []


def test_a_taken_port_is_one_clear_line_and_no_child(data_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        serve = start_serve(data_dir, port)
        output, _ = serve.communicate(timeout=60)

    assert serve.returncode == 2
    assert output.strip().splitlines() == [f"stoat: port {port} is in use; pass --addr"]
    everyone = [int(pid) for pid in os.listdir("/proc") if pid.isdigit()]
    assert not any(f"127.0.0.1:{port}" in command_line(pid) for pid in everyone)


def test_serve_refuses_a_database_with_unapplied_migrations(data_dir: Path) -> None:
    empty = data_dir / "empty.sqlite3"
    serve = start_serve(data_dir, free_port(), DATABASE_URL=f"sqlite:///{empty}")
    output, _ = serve.communicate(timeout=60)

    assert serve.returncode == 2
    assert "unapplied migration(s)" in output
    assert "run `python manage.py migrate` first" in output
    assert "Traceback" not in output


@contextmanager
def unwritable_folder(parent: Path) -> Iterator[Path]:
    """A folder this user cannot write in: read-only by mode, or immutable for root (who
    writes anywhere else)."""
    folder = parent / "readonly"
    folder.mkdir(mode=0o555)
    if os.geteuid() != 0:
        yield folder
        return
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
        pytest.skip("root can write anywhere and this file system has no immutable flag")
    try:
        yield folder
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_a_data_folder_stoat_cannot_write_is_named_with_how_to_fix_it(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "SECRET_KEY_FILE"}}
    with unwritable_folder(tmp_path) as folder:
        for given_key in ({}, {"SECRET_KEY": PRODUCTION_KEY}):
            # Without a key the settings fail to make one; with one, serve's own check fails.
            done = subprocess.run(
                [sys.executable, "manage.py", "serve", "--addr", f"127.0.0.1:{free_port()}"],
                cwd=ROOT,
                env={**env, **given_key, "STOAT_DATA_DIR": str(folder)},
                capture_output=True,
                text=True,
                timeout=60,
            )

            assert done.returncode != 0
            lines = done.stderr.strip().splitlines()
            assert len(lines) == 1, done.stderr
            assert lines[0].startswith(f"stoat: cannot write to the data folder {folder}: ")
            assert lines[0].endswith(
                f"Make it writable by {getpass.getuser()}, the user stoat runs as, "
                "or set STOAT_DATA_DIR to a folder that is."
            )
