"""The job page has one polite live region, and it changes only when its words change."""

from __future__ import annotations

import re

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from stoat.scans.models import Job, Status
from tests.conftest import make_job

HTMX = {"HX-Request": "true"}
LIVE = re.compile(r'<p id="job-\d+-live"[^>]*>(.*?)</p>')


def poll(client: Client, job: Job, said: str | None) -> str:
    query = {"said": said} if said is not None else {}
    return client.get(reverse("scans:job", args=[job.pk]), query, headers=HTMX).content.decode()


def said_in(html: str) -> str:
    found = re.search(r'\?said=([\w-]+)"', html)
    assert found, "an active job's poll names what was said"
    return found.group(1)


def test_the_page_has_exactly_one_live_region_outside_the_redrawn_panel(client: Client) -> None:
    job = make_job(status=Status.RUNNING, started_at=timezone.now())

    page = client.get(reverse("scans:job", args=[job.pk])).content.decode()

    assert page.count("aria-live") == 1
    assert (
        f'<p id="job-{job.pk}-live" class="visually-hidden" role="status" aria-live="polite"'
        in page
    )
    section = page[page.index(f'<section id="job-{job.pk}"') :]
    assert "aria-live" not in section and 'role="status"' not in section
    assert LIVE.search(page).group(1) == f"Scan {job.pk} started."  # type: ignore[union-attr]


def test_polls_send_words_only_when_they_change(client: Client) -> None:
    job = make_job(status=Status.RUNNING, started_at=timezone.now(), found=10, found_final=True)
    said = said_in(client.get(reverse("scans:job", args=[job.pk])).content.decode())

    # Progress moves every second; the words stay, so nothing is said.
    for processed in (1, 2, 3):
        Job.objects.filter(pk=job.pk).update(processed=processed, error_count=processed)
        html = poll(client, job, said)
        assert LIVE.search(html) is None
        said = said_in(html)

    Job.objects.filter(pk=job.pk).update(cancel_requested_at=timezone.now())
    stopping = poll(client, job, said)
    assert LIVE.search(stopping).group(1) == (  # type: ignore[union-attr]
        f"Cancelling scan {job.pk}: it stops at the next file."
    )
    assert LIVE.search(poll(client, job, said_in(stopping))) is None

    Job.objects.filter(pk=job.pk).update(status=Status.CANCELLED, finished_at=timezone.now())
    ended = poll(client, job, said_in(stopping))
    assert LIVE.search(ended).group(1) == (  # type: ignore[union-attr]
        f"Scan {job.pk} cancelled: 3 files read, 3 errors."
    )


def test_the_end_of_a_scan_is_said_with_its_counts(client: Client) -> None:
    job = make_job(status=Status.COMPLETE, processed=1, error_count=0)
    failed = make_job(status=Status.FAILED, failure_reason="worker lost")

    assert LIVE.search(poll(client, job, "running")).group(1) == (  # type: ignore[union-attr]
        f"Scan {job.pk} complete: 1 file read, 0 errors."
    )
    assert LIVE.search(poll(client, failed, "running")).group(1) == (  # type: ignore[union-attr]
        f"Scan {failed.pk} failed: worker lost."
    )


def test_a_cancel_from_the_page_is_said_once(client: Client) -> None:
    job = make_job(status=Status.PENDING)

    html = client.post(reverse("scans:cancel", args=[job.pk]), headers=HTMX).content.decode()

    assert LIVE.search(html).group(1) == "Cancelled before it started."  # type: ignore[union-attr]
    assert html.count("Cancelled before it started.") == 2
