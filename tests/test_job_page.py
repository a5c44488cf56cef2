"""The scan page as a person reads it: waiting, time left, two speeds, what went missing,
errors by reason, and a way to scan the folder again."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from stoat.core.checkin import check_in
from stoat.core.models import WorkerCheckin
from stoat.library.templatetags.stoat_format import time_left
from stoat.scans import lifecycle
from stoat.scans.models import Job, Phase, ScanError, Status
from stoat.scans.panels import forget_panels
from stoat.scans.runner import run_here
from tests.conftest import make_job
from tests.media import make_clip

pytestmark = pytest.mark.django_db


def page_of(browser: Client, job: Job) -> str:
    return browser.get(reverse("scans:job", args=[job.pk])).content.decode()


def stat(html: str, label: str) -> str:
    found = re.search(rf"<dt>{label}</dt><dd[^>]*>(.*?)</dd>", html, re.S)
    assert found is not None, label
    return re.sub(r"<[^>]+>|\s+", " ", found.group(1)).strip()


def test_a_pending_scan_says_it_is_waiting_to_start(client: Client) -> None:
    html = page_of(client, make_job())

    assert stat(html, "Done") == "waiting to start"
    assert "0 / 0+" not in html


def test_a_pending_scan_with_no_worker_alive_says_what_to_start(client: Client) -> None:
    job = make_job()
    assert "No scan worker is running" in page_of(client, job)

    check_in("host-a")
    forget_panels()
    assert "No scan worker is running" not in page_of(client, job)

    # A worker that stopped checking in long ago is no worker.
    WorkerCheckin.objects.update(checked_in_at=timezone.now() - timedelta(hours=1))
    forget_panels()
    assert "manage.py qcluster" in page_of(client, job)


def test_a_scan_reading_files_shows_time_left_and_its_reading_speed_apart(client: Client) -> None:
    now = timezone.now()
    job = make_job(
        status=Status.RUNNING,
        phase=Phase.READING,
        started_at=now - timedelta(seconds=11),
        reading_started_at=now - timedelta(seconds=10),
        found=1000,
        found_final=True,
        to_read=120,
        processed=900,  # 880 unchanged, compared at once, and 20 read in 10 s
        unchanged=880,
        new=20,
    )

    html = page_of(client, job)

    assert stat(html, "Reading speed") == "2.0 files/s"
    assert stat(html, "Overall speed").endswith("files/s")
    assert float(stat(html, "Overall speed").split()[0]) > 50
    assert stat(html, "Time left") == "about 50 s"


def test_time_left_waits_for_a_speed_worth_trusting(client: Client) -> None:
    now = timezone.now()
    job = make_job(
        status=Status.RUNNING,
        phase=Phase.READING,
        started_at=now,
        reading_started_at=now - timedelta(seconds=1),
        found=10,
        found_final=True,
        to_read=10,
        processed=3,
        new=3,
    )

    assert stat(page_of(client, job), "Time left") == "–"


def test_time_left_reads_in_round_figures() -> None:
    assert [time_left(s) for s in (None, 4, 42, 130, 7300)] == [
        "–",
        "a few seconds",
        "about 40 s",
        "about 2 min",
        "about 2 h 02 min",
    ]


def test_a_finished_scan_shows_no_time_left(client: Client) -> None:
    assert "Time left" not in page_of(client, make_job(status=Status.COMPLETE))


@pytest.mark.parametrize(
    ("status", "button", "why"),
    [
        (Status.COMPLETE, "Scan again", "Only new and changed files are read."),
        (Status.FAILED, "Scan again", "Only new and changed files are read."),
        (Status.CANCELLED, "Continue scan", "carries on where this one stopped"),
    ],
)
def test_an_ended_scan_offers_to_scan_its_folder_again(
    client: Client, library_dir: Path, status: str, button: str, why: str
) -> None:
    job = make_job(status=status, path=str(library_dir), recursive=False)

    html = page_of(client, job)
    assert f'<button type="submit">{button}</button>' in html
    assert why in html

    form = re.search(
        r'<form class="job-actions" method="post" action="/jobs/new">(.*?)</form>', html, re.S
    )
    assert form is not None
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form.group(1)))
    fields.pop("csrfmiddlewaretoken")
    assert fields == {"path": str(library_dir), "from": "jobs", "confirm": "on"}
    response = client.post("/jobs/new", fields)

    again = Job.objects.exclude(pk=job.pk).get()
    assert response["Location"] == reverse("scans:job", args=[again.pk])
    assert (again.path, again.recursive) == (str(library_dir), False)


def test_a_user_who_may_only_look_is_not_offered_a_new_scan(reader_client: Client) -> None:
    assert "Scan again" not in page_of(reader_client, make_job(status=Status.COMPLETE))


def test_an_ended_scans_errors_are_grouped_by_reason_and_listed_as_they_happened(
    client: Client,
) -> None:
    job = make_job(status=Status.COMPLETE, error_count=4)
    for name, why in (("a", "empty"), ("b", "truncated"), ("c", "empty"), ("d", "empty")):
        ScanError.objects.create(job=job, path=f"/srv/{name}.mp4", message=why)

    html = page_of(client, job)

    reasons = re.search(r'<table class="reasons">.*?</table>', html, re.S)
    assert reasons is not None
    rows = re.findall(r"<tr><td>(\w+)</td><td class=\"num\">(\d+)</td></tr>", reasons.group(0))
    assert rows == [("empty", "3"), ("truncated", "1")]
    listed = re.findall(r"<code>/srv/(\w)\.mp4</code>", html)
    assert listed == ["a", "b", "c", "d"]


def test_a_running_scan_shows_its_latest_errors_oldest_first(client: Client) -> None:
    job = make_job(status=Status.RUNNING, error_count=25)
    for index in range(25):
        ScanError.objects.create(job=job, path=f"/srv/{index:02d}.mp4", message="empty")

    html = page_of(client, job)

    listed = re.findall(r"<code>/srv/(\d+)\.mp4</code>", html)
    assert listed == [f"{index:02d}" for index in range(5, 25)]
    assert 'class="reasons"' not in html


def test_the_scan_page_lists_the_files_that_went_missing(client: Client, library_dir: Path) -> None:
    kept = make_clip(library_dir / "kept.mp4")
    gone = make_clip(library_dir / "gone.mp4")
    run_here(lifecycle.create_scan(str(library_dir), True).job)
    gone.unlink()

    second = lifecycle.create_scan(str(library_dir), True).job
    run_here(second)
    second.refresh_from_db()

    html = page_of(client, second)
    assert second.missing == 1
    assert "<h2>Files that went missing</h2>" in html
    assert f"<li><code>{gone}</code></li>" in html
    assert str(kept) not in html.split("Files that went missing")[1]


def test_the_scans_table_marks_columns_to_drop_by_importance_never_errors(client: Client) -> None:
    make_job(status=Status.COMPLETE, error_count=3, path="/srv/" + "x" * 300)

    html = client.get("/jobs/").content.decode()

    head = re.findall(r'<th scope="col"(?: class="([^"]*)")?>([^<]+)</th>', html)
    optional = {name: classes for classes, name in head}
    assert optional["Errors"] == "num"
    assert optional["Folder"] == optional["Status"] == optional["#"] == ""
    assert "opt-1" in optional["Updated"] and "opt-1" in optional["Unchanged"]
    assert "opt-2" in optional["Found"] and "opt-2" in optional["New"]
    assert '<td class="num has-errors">3</td>' in html
    assert "x" * 100 not in html.split("<tbody>")[1].split('title="')[0]
