from __future__ import annotations

import logging
import re
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import LazySettings, settings
from django.core.signals import request_started
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_q.conf import Conf

from stoat.core.checkin import check_in, keep_checking_in, start_checking_in
from stoat.core.models import WorkerCheckin
from tests.worker import qcluster, wait_for


@pytest.fixture
def dead_port() -> Iterator[int]:
    """A local port that is bound but not listening: connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
def broker_down(monkeypatch: pytest.MonkeyPatch, dead_port: int) -> None:
    """Point django-q2 at a Redis that is not there."""
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", f"redis://127.0.0.1:{dead_port}/0")


@pytest.fixture
def database_down(transactional_db: None, dead_port: int) -> Iterator[None]:
    """Point the default connection at a database that cannot be opened, then put it back."""
    saved = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = "/nonexistent-folder/stoat.sqlite3"
    else:
        connection.settings_dict["PORT"] = dead_port
    yield
    connection.close()
    connection.settings_dict.clear()
    connection.settings_dict.update(saved)


@pytest.mark.django_db
def test_healthz_is_200_when_database_and_broker_answer(client: Client, empty_queue: None) -> None:
    check_in("host-a")
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == {"reachable": True, "detail": connection.vendor}
    assert body["broker"]["reachable"] is True
    broker = "redis" if settings.STOAT_BROKER_URL else "orm"
    assert body["broker"]["detail"] == f"{broker}, 0 task(s) queued"
    assert body["worker"]["checked_in"] is True
    assert re.fullmatch(r"last check-in \d+ s ago", body["worker"]["detail"])
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_is_503_naming_the_broker_when_it_does_not_answer(
    client: Client, broker_down: None
) -> None:
    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"]["reachable"] is True
    assert body["broker"]["reachable"] is False
    assert "ConnectionError" in body["broker"]["detail"]


def test_healthz_is_503_naming_the_database_when_it_does_not_answer(
    client: Client, database_down: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="stoat.health"):
        response = client.get("/healthz")

    assert response.status_code == 503
    # The session is in that database: nobody can be known as staff, so no detail is shown.
    body = response.json()
    assert (body["status"], body["database"]) == ("unavailable", "failing")
    # The ORM broker lives in that same database; a Redis broker does not.
    assert body["broker"] == ("ok" if settings.STOAT_BROKER_URL else "failing")
    assert "OperationalError" in caplog.text
    assert b"OperationalError" not in response.content


@pytest.mark.django_db
def test_anonymous_callers_learn_only_ok_or_failing_per_part(
    anon_client: Client, broker_down: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="stoat.health"):
        response = anon_client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "database": "ok",
        "broker": "failing",
        "worker": "failing",
    }
    # Why goes to the log only.
    assert "broker failing: ConnectionError" in caplog.text
    assert "worker failing: no worker has checked in" in caplog.text


@pytest.mark.django_db
def test_a_signed_in_reader_who_is_not_staff_sees_no_detail_either(
    reader_client: Client, empty_queue: None
) -> None:
    check_in("host-a")
    assert reader_client.get("/healthz").json() == {
        "status": "ok",
        "database": "ok",
        "broker": "ok",
        "worker": "ok",
    }


@pytest.mark.django_db
def test_healthz_only_answers_get(client: Client) -> None:
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite has no server connection to lose"
)
def test_healthz_is_200_again_at_once_after_the_database_dropped_our_connection(
    client: Client,
) -> None:
    import psycopg

    client.get("/healthz")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"], autocommit=True
    ) as other:
        # What a database restart or failover does to every open connection.
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    # A real server starts each request so (the test client leaves this signal out).
    request_started.send(sender=None)

    assert client.get("/healthz").status_code == 200


@pytest.mark.django_db
def test_healthz_is_degraded_but_200_when_no_worker_has_checked_in(client: Client) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["worker"] == {"checked_in": False, "detail": "no worker has checked in"}


@pytest.mark.django_db
def test_a_check_in_older_than_three_intervals_no_longer_counts(
    client: Client, settings: LazySettings
) -> None:
    settings.STOAT_CHECKIN_INTERVAL = 10
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        check_in("host-a")
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        assert client.get("/healthz").json()["worker"]["checked_in"] is True
    with time_machine.travel(start + timedelta(seconds=31), tick=False):
        body = client.get("/healthz").json()
    assert body["worker"] == {"checked_in": False, "detail": "last check-in 31 s ago"}
    assert body["status"] == "degraded"


@pytest.mark.django_db
def test_each_host_keeps_one_check_in_row_with_its_latest_time() -> None:
    check_in("host-a")
    check_in("host-a")
    check_in("host-b")

    assert sorted(WorkerCheckin.objects.values_list("host", flat=True)) == ["host-a", "host-b"]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_scan_worker_checks_in_and_healthz_says_so(client: Client, data_dir: Path) -> None:
    assert client.get("/healthz").json()["worker"]["checked_in"] is False
    with qcluster(data_dir, STOAT_WORKERS="1", STOAT_WORKER_NAME="checkin-host"):
        wait_for(
            lambda: WorkerCheckin.objects.filter(host="checkin-host").exists(),
            60,
            "the worker to check in",
        )
        body = client.get("/healthz").json()

    assert body["status"] == "ok"
    assert body["worker"]["checked_in"] is True


@pytest.mark.django_db(transaction=True)
def test_the_check_in_thread_writes_until_told_to_stop(settings: LazySettings) -> None:
    settings.STOAT_WORKER_NAME = "thread-host"
    settings.STOAT_CHECKIN_INTERVAL = 0.05
    stop = threading.Event()
    thread = threading.Thread(target=keep_checking_in, args=(stop,))
    thread.start()
    try:
        wait_for(lambda: WorkerCheckin.objects.filter(host="thread-host").exists(), 30, "a row")
        first = WorkerCheckin.objects.get(host="thread-host").checked_in_at
        wait_for(
            lambda: WorkerCheckin.objects.get(host="thread-host").checked_in_at > first,
            30,
            "a second check-in",
        )
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()


def test_only_a_worker_process_starts_checking_in() -> None:
    before = threading.active_count()
    start_checking_in()  # this is the test process, not a django-q2 worker
    assert threading.active_count() == before
