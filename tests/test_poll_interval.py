"""A job page polls every second; while a crowd watches one scan, every two seconds."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from stoat.scans.models import Status
from stoat.scans.polling import CROWD
from tests.conftest import make_job

pytestmark = pytest.mark.django_db


def at_second(second: int) -> time_machine.travel:
    """The clock stopped a tenth into one second, so a test never straddles two."""
    moment = datetime(2026, 11, 29, 18, 0, second, 100_000, tzinfo=timezone.utc)
    return time_machine.travel(moment, tick=False)


def asks_again_in(client: Client, job_id: int) -> int | None:
    """The interval the answer tells htmx to poll at, or None when it stops polling."""
    answer = client.get(reverse("scans:job", args=[job_id]), HTTP_HX_REQUEST="true")
    found = re.search(r'hx-trigger="every (\d+)s"', answer.content.decode())
    return int(found[1]) if found else None


def test_a_page_watched_alone_polls_every_second(reader_client: Client) -> None:
    job = make_job(status=Status.RUNNING, found=10, processed=3)
    with at_second(0):
        assert [asks_again_in(reader_client, job.pk) for _ in range(3)] == [1, 1, 1]
    # The full page starts the same polling.
    page = reader_client.get(reverse("scans:job", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in page


def test_a_crowd_watching_one_scan_is_asked_to_poll_every_two_seconds(
    reader_client: Client,
) -> None:
    job = make_job(status=Status.RUNNING, found=10, processed=3)
    with at_second(0):
        first = [asks_again_in(reader_client, job.pk) for _ in range(CROWD)]
        crowded = [asks_again_in(reader_client, job.pk) for _ in range(5)]
    assert first == [1] * CROWD
    assert crowded == [2] * 5
    # The next second still knows the crowd was there, before it has polled again.
    with at_second(1):
        assert asks_again_in(reader_client, job.pk) == 2


def test_the_page_polls_every_second_again_once_the_crowd_has_gone(
    reader_client: Client,
) -> None:
    job = make_job(status=Status.RUNNING, found=10, processed=3)
    with at_second(0):
        for _ in range(CROWD + 1):
            asks_again_in(reader_client, job.pk)
    with at_second(1):
        assert asks_again_in(reader_client, job.pk) == 2
    with at_second(2):
        assert asks_again_in(reader_client, job.pk) == 1
    with at_second(9):
        assert asks_again_in(reader_client, job.pk) == 1


def test_a_crowd_on_one_scan_leaves_another_scans_page_polling_every_second(
    reader_client: Client,
) -> None:
    watched = make_job(status=Status.RUNNING, found=10, processed=3)
    other = make_job(status=Status.RUNNING, found=10, processed=1)
    with at_second(0):
        for _ in range(CROWD + 1):
            asks_again_in(reader_client, watched.pk)
        assert asks_again_in(reader_client, watched.pk) == 2
        assert asks_again_in(reader_client, other.pk) == 1


def test_an_ended_scan_stops_polling_whatever_the_crowd(reader_client: Client) -> None:
    job = make_job(status=Status.COMPLETE, found=10, processed=10)
    with at_second(0):
        for _ in range(CROWD + 1):
            assert asks_again_in(reader_client, job.pk) is None
