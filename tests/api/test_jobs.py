from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from stoat.api import jobs as jobs_api
from stoat.scans.models import TERMINAL, Job, SkippedFile, Status
from tests.api.conftest import add_scan_error, body, error_of
from tests.conftest import make_job

pytestmark = pytest.mark.django_db

JOB_FIELDS = {
    "job_id",
    "status",
    "progress",
    "result",
    "error",
    "path",
    "recursive",
    "cancel_requested",
    "created_at",
    "started_at",
    "finished_at",
    "worker_lost_at",
    "worker_losses",
}


def test_pending_job_has_no_progress_and_no_result(api: Client) -> None:
    job = make_job(path="/srv/videos/new", recursive=False)

    data = body(api.get(f"/api/v1/jobs/{job.pk}"))

    assert set(data) == JOB_FIELDS
    assert data["job_id"] == str(job.pk)
    assert data["status"] == "pending"
    assert (data["progress"], data["result"], data["error"]) == (None, None, None)
    assert (data["path"], data["recursive"], data["cancel_requested"]) == (
        "/srv/videos/new",
        False,
        False,
    )
    assert data["started_at"] is None and data["finished_at"] is None
    assert (data["worker_lost_at"], data["worker_losses"]) == (None, 0)


def test_running_job_reports_progress_once_the_count_is_known(api: Client) -> None:
    job = make_job(status=Status.RUNNING, found=8, found_final=True, processed=2)
    data = body(api.get(f"/api/v1/jobs/{job.pk}"))
    assert data["status"] == "running"
    assert data["progress"] == 0.25
    assert data["result"] is None


def test_running_job_still_counting_files_has_null_progress(api: Client) -> None:
    job = make_job(status=Status.RUNNING, found=40, found_final=False, processed=3)
    assert body(api.get(f"/api/v1/jobs/{job.pk}"))["progress"] is None


def test_complete_job_has_its_result_with_file_errors(api: Client) -> None:
    job = make_job(
        status=Status.COMPLETE,
        found=10,
        found_final=True,
        processed=10,
        new=4,
        updated=2,
        skipped=1,
        unchanged=2,
        error_count=1,
        missing=5,
        started_at=timezone.now() - timedelta(seconds=5),
        finished_at=timezone.now(),
    )
    add_scan_error(job, "/srv/videos/bad.mp4", "the video stream is damaged")
    SkippedFile.objects.create(job=job, path="/srv/videos/song.m4a", reason="no video stream")

    data = body(api.get(f"/api/v1/jobs/{job.pk}"))

    assert data["status"] == "complete"
    assert data["progress"] == 1.0
    assert data["result"] == {
        "scanned": 10,
        "new": 4,
        "updated": 2,
        "skipped": 3,
        "unchanged": 2,
        "not_video": 1,
        "not_video_files": [{"path": "/srv/videos/song.m4a", "reason": "no video stream"}],
        "errors": [{"path": "/srv/videos/bad.mp4", "error": "the video stream is damaged"}],
        "errors_total": 1,
        "moved": 0,
        "missing": 5,
    }
    assert data["finished_at"] is not None


def test_cancelled_job_keeps_its_partial_result(api: Client) -> None:
    job = make_job(status=Status.CANCELLED, found=10, found_final=True, processed=3, new=3)
    data = body(api.get(f"/api/v1/jobs/{job.pk}"))
    assert data["result"]["scanned"] == 3
    assert data["result"]["new"] == 3
    assert data["progress"] == 0.3


def test_failed_job_has_its_error_and_no_result(api: Client) -> None:
    job = make_job(status=Status.FAILED, failure_reason="worker lost")
    data = body(api.get(f"/api/v1/jobs/{job.pk}"))
    assert (data["status"], data["error"], data["result"]) == ("failed", "worker lost", None)


def test_unknown_job_is_404_not_found(api: Client) -> None:
    assert error_of(api.get("/api/v1/jobs/123"), 404) == {
        "code": "NOT_FOUND",
        "message": "Job 123 not found",
    }


def test_history_lists_jobs_newest_first(api: Client) -> None:
    now = timezone.now()
    old = make_job(status=Status.COMPLETE, created_at=now - timedelta(hours=2))
    new = make_job(created_at=now)
    middle = make_job(status=Status.FAILED, created_at=now - timedelta(hours=1))

    data = body(api.get("/api/v1/jobs"))

    assert set(data) == {"jobs", "total", "limit", "offset"}
    assert [j["job_id"] for j in data["jobs"]] == [str(new.pk), str(middle.pk), str(old.pk)]
    assert (data["total"], data["limit"], data["offset"]) == (3, 20, 0)


def test_history_filters_by_status_and_pages(api: Client) -> None:
    for _ in range(3):
        make_job(status=Status.COMPLETE)
    make_job(status=Status.RUNNING)

    data = body(api.get("/api/v1/jobs?status=complete&limit=2&offset=1"))

    assert data["total"] == 3
    assert len(data["jobs"]) == 2
    assert {j["status"] for j in data["jobs"]} == {"complete"}


def test_history_with_an_empty_status_lists_every_job(api: Client) -> None:
    make_job(status=Status.COMPLETE)
    make_job()
    assert body(api.get("/api/v1/jobs?status=&limit=20&offset=0"))["total"] == 2


@pytest.mark.parametrize("query", ["status=done", "limit=0", "limit=1000", "offset=-5"])
def test_history_with_bad_filters_is_422(api: Client, query: str) -> None:
    assert error_of(api.get(f"/api/v1/jobs?{query}"), 422)["code"] == "VALIDATION_ERROR"


def test_cancel_of_pending_job_is_200_with_the_cancelled_job(api: Client) -> None:
    job = make_job()
    response = api.post(f"/api/v1/jobs/{job.pk}/cancel")
    assert response.status_code == 200
    data = body(response)
    assert set(data) == JOB_FIELDS
    assert (data["status"], data["cancel_requested"]) == ("cancelled", True)
    assert data["finished_at"] is not None
    job.refresh_from_db()
    assert job.status == Status.CANCELLED


def test_cancel_with_a_token_and_no_csrf_token_is_accepted(token_client: Client) -> None:
    job = make_job()
    response = token_client.post(f"/api/v1/jobs/{job.pk}/cancel")
    assert response.status_code == 200
    assert body(response)["status"] == "cancelled"


def test_cancel_of_running_job_is_200_and_flags_it_for_the_worker(api: Client) -> None:
    job = make_job(status=Status.RUNNING, started_at=timezone.now())
    data = body(api.post(f"/api/v1/jobs/{job.pk}/cancel"))
    assert (data["status"], data["cancel_requested"]) == ("running", True)
    job.refresh_from_db()
    assert job.cancel_requested_at is not None


@pytest.mark.parametrize("status", TERMINAL)
def test_cancel_of_ended_job_is_409_naming_its_state(api: Client, status: str) -> None:
    job = make_job(status=status)
    detail = error_of(api.post(f"/api/v1/jobs/{job.pk}/cancel"), 409)
    assert detail["code"] == "ALREADY_TERMINAL"
    assert status in detail["message"]
    job.refresh_from_db()
    assert (job.status, job.cancel_requested_at) == (status, None)


def test_cancel_of_unknown_job_is_404(api: Client) -> None:
    assert error_of(api.post("/api/v1/jobs/999/cancel"), 404) == {
        "code": "NOT_FOUND",
        "message": "Job 999 not found",
    }


def test_cancel_needs_a_post(api: Client) -> None:
    job = make_job()
    detail = error_of(api.get(f"/api/v1/jobs/{job.pk}/cancel"), 405)
    assert detail["code"] == "METHOD_NOT_ALLOWED"
    assert Job.objects.get(pk=job.pk).status == Status.PENDING


def list_queries(api: Client, url: str) -> tuple[dict[str, Any], int]:
    with CaptureQueriesContext(connection) as queries:
        data = body(api.get(url))
    return data, len(queries.captured_queries)


def finished_jobs(count: int) -> None:
    for _ in range(count):
        job = make_job(status=Status.COMPLETE, found_final=True, error_count=2)
        add_scan_error(job, f"{job.path}/a.mp4", "the video stream is damaged")
        add_scan_error(job, f"{job.path}/b.mp4", "not a video file that can be read")


def test_the_job_list_costs_the_same_queries_for_one_job_or_a_hundred(api: Client) -> None:
    finished_jobs(1)
    make_job(status=Status.RUNNING)
    _, one = list_queries(api, "/api/v1/jobs?limit=100")
    finished_jobs(99)
    data, hundred = list_queries(api, "/api/v1/jobs?limit=100")

    assert len(data["jobs"]) == 100
    assert hundred == one
    listed = [job["result"] for job in data["jobs"] if job["result"]]
    assert len(listed) == 99
    assert all(len(r["errors"]) == r["errors_total"] == 2 for r in listed)


def test_the_job_list_lists_each_jobs_own_errors_up_to_the_limit(
    api: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs_api, "ERRORS_LISTED", 2)
    many = make_job(status=Status.COMPLETE, found_final=True, error_count=3)
    for name in ("a", "b", "c"):
        add_scan_error(many, f"/srv/{name}.mp4", f"bad {name}")
    one = make_job(status=Status.FAILED, error_count=1)
    add_scan_error(one, "/srv/x.mp4", "bad x")
    other = make_job(status=Status.CANCELLED, found_final=True, error_count=1)
    add_scan_error(other, "/srv/y.mp4", "bad y")

    data = body(api.get("/api/v1/jobs"))

    results = {job["job_id"]: job["result"] for job in data["jobs"]}
    assert results[str(many.pk)]["errors"] == [
        {"path": "/srv/a.mp4", "error": "bad a"},
        {"path": "/srv/b.mp4", "error": "bad b"},
    ]
    assert results[str(many.pk)]["errors_total"] == 3
    assert results[str(one.pk)] is None
    assert results[str(other.pk)]["errors"] == [{"path": "/srv/y.mp4", "error": "bad y"}]


def test_a_job_taken_over_after_a_lost_worker_says_when_and_how_often(api: Client) -> None:
    lost = timezone.now() - timedelta(minutes=3)
    job = make_job(status=Status.RUNNING, worker_lost_at=lost, worker_losses=2)

    data = body(api.get(f"/api/v1/jobs/{job.pk}"))

    assert data["worker_losses"] == 2
    reported = parse_datetime(data["worker_lost_at"])
    assert reported is not None
    assert abs((reported - lost).total_seconds()) < 0.001


def test_the_job_list_lists_each_jobs_own_files_that_are_no_video_up_to_the_limit(
    api: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs_api, "ERRORS_LISTED", 2)
    many = make_job(status=Status.COMPLETE, found_final=True, skipped=3)
    for name in ("a", "b", "c"):
        SkippedFile.objects.create(job=many, path=f"/srv/{name}.m4a", reason=f"audio {name}")
    other = make_job(status=Status.TIMEOUT, found_final=True, skipped=1)
    SkippedFile.objects.create(job=other, path="/srv/cover.jpg", reason="a still image")
    running = make_job(status=Status.RUNNING, skipped=1)
    SkippedFile.objects.create(job=running, path="/srv/z.m4a", reason="audio z")

    data = body(api.get("/api/v1/jobs"))

    results = {job["job_id"]: job["result"] for job in data["jobs"]}
    assert results[str(many.pk)]["not_video_files"] == [
        {"path": "/srv/a.m4a", "reason": "audio a"},
        {"path": "/srv/b.m4a", "reason": "audio b"},
    ]
    assert results[str(many.pk)]["not_video"] == 3
    assert results[str(other.pk)]["not_video_files"] == [
        {"path": "/srv/cover.jpg", "reason": "a still image"}
    ]
    # A running job has no result yet: its files are listed once it ends.
    assert results[str(running.pk)] is None
