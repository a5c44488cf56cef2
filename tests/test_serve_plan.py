"""What `serve` would start and how it describes itself, without starting anything."""

from __future__ import annotations

import pytest
from django.conf import LazySettings

from stoat.core.serve import (
    Plan,
    children,
    describe_broker,
    hosts_note,
    parse_addr,
    start_line,
    web_command,
)
from stoat.core.startup import StartupError


def plan(server: str = "gunicorn", **fields: object) -> Plan:
    values: dict[str, object] = {"host": "127.0.0.1", "port": 8000, "server": server}
    values.update(web_workers=3, web_threads=4)
    values.update(fields)
    return Plan(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("addr", "expected"),
    [
        ("8000", ("127.0.0.1", 8000)),
        ("0.0.0.0:8001", ("0.0.0.0", 8001)),
        ("[::1]:8002", ("::1", 8002)),
    ],
)
def test_an_address_may_be_a_port_a_host_and_port_or_an_ipv6_host(
    addr: str, expected: tuple[str, int]
) -> None:
    assert parse_addr(addr) == expected


@pytest.mark.parametrize("addr", ["localhost", "127.0.0.1:http", "127.0.0.1:70000", ":0"])
def test_an_address_without_a_usable_port_is_refused(addr: str) -> None:
    with pytest.raises(StartupError, match="is not host:port"):
        parse_addr(addr)


def test_gunicorn_runs_threaded_workers_with_a_short_graceful_stop() -> None:
    command = " ".join(web_command(plan()))
    assert "-m gunicorn --bind 127.0.0.1:8000 --workers 3 --threads 4" in command
    assert "--worker-class gthread" in command
    assert "--graceful-timeout 5" in command
    assert command.endswith("stoat.wsgi:application")


def test_granian_serves_the_wsgi_app_with_the_same_processes_and_threads() -> None:
    command = " ".join(web_command(plan("granian", host="::1")))
    assert "-m granian --interface wsgi" in command
    assert "--host ::1 --port 8000 --workers 3 --blocking-threads 4" in command


def test_dev_runs_runserver_with_its_reloader_and_debug_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DEBUG", raising=False)
    web, worker, *others = children(plan("runserver"))

    assert web.command[-2:] == ["runserver", "127.0.0.1:8000"]
    assert "--noreload" not in web.command
    assert web.env is not None and web.env["DEBUG"] == "1"
    assert worker.command[-1] == "qcluster"
    assert all(child.env is web.env for child in others)


def test_web_only_starts_no_worker() -> None:
    assert [child.name for child in children(plan(web_only=True))] == ["web server (gunicorn)"]


@pytest.mark.django_db
def test_the_start_line_names_address_server_processes_database_and_broker(
    settings: LazySettings,
) -> None:
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "workers": 5}
    settings.STOAT_BROKER_URL = ""

    line = start_line(plan(host="::1"))

    assert line.startswith("stoat: serving http://[::1]:8000/ with gunicorn, ")
    assert "3 web processes × 4 threads, 5 scan workers; database " in line
    assert line.endswith("; broker orm (the database); Ctrl-C stops it")
    assert "runserver (development" in start_line(plan("runserver", web_only=True))
    assert "no scan worker" in start_line(plan(web_only=True))


def test_a_redis_broker_is_named_without_its_password(settings: LazySettings) -> None:
    settings.STOAT_BROKER_URL = "redis://:hunter2@redis.internal:6380/3"

    assert describe_broker() == "redis redis.internal:6380/3"


def test_serving_other_machines_with_only_local_names_allowed_says_what_to_set(
    settings: LazySettings,
) -> None:
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

    assert hosts_note(plan()) is None
    assert "ALLOWED_HOSTS=nas.local" in str(hosts_note(plan(host="0.0.0.0")))
    assert "ALLOWED_HOSTS=192.168.1.5,nas.local" in str(hosts_note(plan(host="192.168.1.5")))
    settings.ALLOWED_HOSTS = ["nas.local"]
    assert hosts_note(plan(host="0.0.0.0")) is None
