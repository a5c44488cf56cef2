"""Fault 6: web requests and a writing scan share one SQLite file; nothing is ever "locked"."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from django.conf import LazySettings
from django.contrib.auth.models import User
from django.db import connection

from stoat.library.models import Video
from stoat.scans import lifecycle
from stoat.scans.models import Job, Status
from stoat.scans.runner import run_here
from tests.conftest import signed_in
from tests.media import make_clip

pytestmark = pytest.mark.django_db(transaction=True)

BROWSERS = 6


def test_pages_and_writes_during_a_scan_never_fail_with_database_is_locked(
    library_dir: Path, tmp_path: Path, settings: LazySettings, staff_user: User
) -> None:
    source = make_clip(library_dir / "source.mp4")
    for index in range(24):
        (library_dir / f"copy{index:02d}.mp4").hardlink_to(source)
    others = [tmp_path / f"other{n}" for n in range(BROWSERS)]
    for folder in others:
        folder.mkdir()
    # Flush after every file: the scan writes as often as it ever can.
    settings.STOAT_PROGRESS_INTERVAL = 0
    job = lifecycle.create_scan(str(library_dir)).job
    scanning = threading.Event()
    answers: Counter[tuple[str, int]] = Counter()
    failures: list[BaseException] = []

    def scan() -> None:
        try:
            scanning.set()
            run_here(job)
        except BaseException as error:  # reported by the test thread
            failures.append(error)
        finally:
            connection.close()
            scanning.clear()

    def browse(number: int) -> None:
        client = clients[number]
        htmx = {"HX-Request": "true"}
        try:
            while scanning.is_set():
                for what, response in (
                    ("progress", client.get(f"/jobs/{job.pk}/", headers=htmx)),
                    ("library", client.get("/?page=2&sort=-added", headers=htmx)),
                    ("jobs", client.get("/jobs/")),
                ):
                    answers[what, response.status_code] += 1
                # Writes from the web side too: start a scan elsewhere and cancel it.
                started = client.post("/jobs/new", {"path": str(others[number]), "recursive": "on"})
                answers["start", started.status_code] += 1
                other = Job.objects.filter(path=str(others[number]), status=Status.PENDING).first()
                if other is not None:
                    answers["cancel", client.post(f"/jobs/{other.pk}/cancel").status_code] += 1
        except BaseException as error:
            failures.append(error)
        finally:
            connection.close()

    clients = [signed_in(staff_user) for _ in range(BROWSERS)]
    worker = threading.Thread(target=scan)
    worker.start()
    scanning.wait(5)
    browsers = [threading.Thread(target=browse, args=(n,)) for n in range(BROWSERS)]
    for browser in browsers:
        browser.start()
    worker.join(timeout=120)
    time.sleep(0.1)
    for browser in browsers:
        browser.join(timeout=30)

    assert not failures, failures[0]
    job.refresh_from_db()
    assert (job.status, job.new, Video.objects.count()) == (Status.COMPLETE, 25, 25)
    assert set(answers) <= {
        ("progress", 200),
        ("progress", 286),
        ("library", 200),
        ("jobs", 200),
        ("start", 302),
        ("cancel", 200),
    }
    assert answers["progress", 200] >= BROWSERS
