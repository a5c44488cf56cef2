"""An id in a path is a name: one that names no job or video is 404 on every endpoint."""

from __future__ import annotations

import pytest
from django.test import Client

from stoat.api.schemas import MAX_ID, id_named
from tests.api.conftest import body, error_of, make_video
from tests.conftest import make_job

pytestmark = pytest.mark.django_db

# What old clients send (UUIDs, words), and numbers no row can have.
NAMES_OF_NOTHING = [
    "nonexistent-job-id",
    "nonexistent",
    "3f2b8c1e-9a4d-4e6f-8b7a-2c1d0e9f8a7b",
    "abc",
    "0",
    "-1",
    "-42",
    "1.0",
    "1e3",
    str(MAX_ID),
    str(MAX_ID + 1),
    "9" * 40,
]
ENDPOINTS = [
    ("get", "/api/v1/jobs/{}", "Job"),
    ("post", "/api/v1/jobs/{}/cancel", "Job"),
    ("get", "/api/v1/videos/{}", "Video"),
    ("get", "/api/v1/videos/{}/thumbnail", "Video"),
    ("delete", "/api/v1/videos/{}", "Video"),
]


@pytest.mark.parametrize(("method", "url", "kind"), ENDPOINTS)
@pytest.mark.parametrize("name", NAMES_OF_NOTHING)
def test_an_id_that_names_nothing_is_404_naming_the_id(
    api: Client, method: str, url: str, kind: str, name: str
) -> None:
    make_job()
    make_video()

    detail = error_of(getattr(api, method)(url.format(name)), 404)

    assert detail == {"code": "NOT_FOUND", "message": f"{kind} {name} not found"}


@pytest.mark.parametrize(("method", "url", "kind"), ENDPOINTS)
def test_a_blank_id_is_404_too(api: Client, method: str, url: str, kind: str) -> None:
    assert error_of(getattr(api, method)(url.format("%20")), 404)["code"] == "NOT_FOUND"


def test_ids_that_exist_still_answer(api: Client) -> None:
    job, video = make_job(), make_video()

    assert body(api.get(f"/api/v1/jobs/{job.pk}"))["job_id"] == str(job.pk)
    assert body(api.get(f"/api/v1/videos/{video.pk}"))["id"] == video.pk
    assert api.get(f"/api/v1/videos/{video.pk}/thumbnail").status_code == 200
    assert body(api.post(f"/api/v1/jobs/{job.pk}/cancel"))["status"] == "cancelled"
    assert api.delete(f"/api/v1/videos/{video.pk}").status_code == 204


def test_bad_query_parameters_next_to_an_unknown_id_are_still_422(api: Client) -> None:
    video = make_video()
    detail = error_of(api.delete(f"/api/v1/videos/{video.pk}?delete_file=maybe"), 422)
    assert detail["code"] == "VALIDATION_ERROR"


@pytest.mark.parametrize(
    ("name", "pk"),
    [
        ("1", 1),
        ("42", 42),
        (str(MAX_ID), MAX_ID),
        ("0", None),
        ("01", None),
        ("+1", None),
        (" 1", None),
        ("١", None),
        (str(MAX_ID + 1), None),
    ],
)
def test_only_the_digits_stoat_writes_name_a_row(name: str, pk: int | None) -> None:
    assert id_named(name) == pk
