"""The API's cancel and the page's cancel button answer alike, because both call request_cancel."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from stoat.scans.models import Job, Status
from tests.conftest import make_job

pytestmark = pytest.mark.django_db

STATES = [*Status.values, "unknown"]


def job_in(state: str) -> int:
    if state == "unknown":
        return 987654
    started = None if state == Status.PENDING else timezone.now()
    return make_job(status=state, started_at=started).pk


def state_of(job_id: int) -> tuple[str, bool] | None:
    job = Job.objects.filter(pk=job_id).first()
    return None if job is None else (job.status, job.cancel_requested_at is not None)


@pytest.mark.parametrize("state", STATES)
def test_api_and_page_cancel_give_the_same_status_and_leave_the_same_state(
    client: Client, state: str
) -> None:
    via_api, via_page = job_in(state), job_in(state)

    api_answer = client.post(f"/api/v1/jobs/{via_api}/cancel")
    page_answer = client.post(f"/jobs/{via_page}/cancel")

    assert api_answer.status_code == page_answer.status_code
    assert state_of(via_api) == state_of(via_page)
    expected = {"pending": 200, "running": 200, "unknown": 404}.get(state, 409)
    assert api_answer.status_code == expected


@pytest.mark.parametrize(
    "name", ["nonexistent-id", "3f2b8c1e-9a4d-4e6f-8b7a-2c1d0e9f8a7b", "0", "-1", "9" * 25]
)
def test_api_and_page_cancel_of_an_id_that_names_nothing_are_both_404(
    client: Client, name: str
) -> None:
    job = job_in(Status.PENDING)

    api_answer = client.post(f"/api/v1/jobs/{name}/cancel")
    page_answer = client.post(f"/jobs/{name}/cancel")

    assert (api_answer.status_code, page_answer.status_code) == (404, 404)
    assert state_of(job) == (Status.PENDING, False)
