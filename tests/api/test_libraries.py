"""/api/v1/libraries: the same checks as the page and the command, in the API's error shape."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import LazySettings
from django.test import Client

from stoat.library.models import Library, Video
from stoat.scans.models import Job
from stoat.scans.runner import run_here
from tests.api.conftest import body, error_of
from tests.libraries import add_library
from tests.media import make_clip

pytestmark = pytest.mark.django_db
URL = "/api/v1/libraries"


def post(api: Client, url: str, data: dict[str, Any]) -> Any:
    return api.post(url, data, content_type="application/json")


def answer_of(response: Any, status: int) -> Any:
    assert response.status_code == status, response.content
    return body(response)


def test_add_answers_201_with_the_library_and_its_next_run(api: Client, library_dir: Path) -> None:
    answer = answer_of(post(api, URL, {"name": "Films", "path": str(library_dir)}), 201)

    assert answer["name"] == "Films" and answer["path"] == str(library_dir)
    assert (answer["every_minutes"], answer["schedule"], answer["watch"]) == (
        360,
        "every 6 h",
        "auto",
    )
    assert answer["next_run"] is not None
    assert answer["last_scan"]["status"] == "pending"
    assert answer["watch_state"].startswith("not watching")
    assert body(api.get(URL))[0]["id"] == answer["id"]
    assert body(api.get(f"{URL}/{answer['id']}"))["name"] == "Films"


@pytest.mark.parametrize(
    ("fields", "status", "code", "message"),
    [
        ({"path": "/nowhere"}, 400, "INVALID_LIBRARY", "is not a folder"),
        ({"every": "10s"}, 400, "INVALID_LIBRARY", "at least one minute"),
        ({"cron": "* * *"}, 400, "INVALID_LIBRARY", "is not a cron expression"),
        ({"watch": "inotify"}, 422, "VALIDATION_ERROR", "body.watch"),
        ({"recursive": "yes"}, 422, "VALIDATION_ERROR", "body.recursive"),
        ({"colour": "red"}, 422, "VALIDATION_ERROR", "colour"),
    ],
)
def test_bad_input_is_refused_in_the_api_error_shape(
    api: Client, library_dir: Path, fields: dict[str, Any], status: int, code: str, message: str
) -> None:
    error = error_of(post(api, URL, {"name": "Films", "path": str(library_dir), **fields}), status)

    assert error["code"] == code
    assert message in error["message"]
    assert not Library.objects.exists()


def test_outside_the_roots_is_403_and_an_overlap_409(
    api: Client, settings: LazySettings, library_dir: Path, tmp_path: Path
) -> None:
    settings.STOAT_SCAN_ROOTS = [str(library_dir)]
    add_library(library_dir / "films")

    outside = error_of(post(api, URL, {"name": "X", "path": str(tmp_path)}), 403)
    overlap = error_of(post(api, URL, {"name": "X", "path": str(library_dir)}), 409)

    assert outside["code"] == "PATH_NOT_ALLOWED"
    assert overlap["code"] == "LIBRARY_CONFLICT"


def test_a_reader_may_list_but_not_add(reader_client: Client, library_dir: Path) -> None:
    assert body(reader_client.get(URL)) == []
    error = error_of(post(reader_client, URL, {"name": "F", "path": str(library_dir)}), 403)
    assert error["code"] == "FORBIDDEN"


def test_put_changes_the_schedule(api: Client, library_dir: Path) -> None:
    library = add_library(library_dir)

    answer = body(
        api.put(
            f"{URL}/{library.pk}",
            {"name": "Films", "path": str(library_dir), "cron": "0 3 * * *"},
            content_type="application/json",
        )
    )

    assert (answer["cron"], answer["every_minutes"], answer["schedule"]) == (
        "0 3 * * *",
        None,
        "cron 0 3 * * *",
    )
    assert error_of(api.get(f"{URL}/999"), 404)["code"] == "NOT_FOUND"
    assert error_of(api.get(f"{URL}/films"), 404)["code"] == "NOT_FOUND"


def test_scan_answers_202_and_points_at_the_active_scan(api: Client, library_dir: Path) -> None:
    library = add_library(library_dir)

    first = answer_of(api.post(f"{URL}/{library.pk}/scan"), 202)
    again = answer_of(api.post(f"{URL}/{library.pk}/scan"), 202)

    assert first["created"] and not again["created"]
    assert first["job_id"] == again["job_id"] == str(Job.objects.get().pk)


def test_delete_keeps_videos_unless_asked_to_forget_them(api: Client, library_dir: Path) -> None:
    make_clip(library_dir / "films" / "a.mp4")
    make_clip(library_dir / "series" / "b.mp4")
    films = add_library(library_dir / "films", name="Films")
    series = add_library(library_dir / "series", name="Series")
    for library in (films, series):
        run_here(Job.objects.get(pk=answer_of(api.post(f"{URL}/{library.pk}/scan"), 202)["job_id"]))

    assert api.delete(f"{URL}/{films.pk}").status_code == 204
    assert api.delete(f"{URL}/{series.pk}?forget_videos=true").status_code == 204

    assert list(Video.objects.values_list("filename", flat=True)) == ["a.mp4"]
    assert not Library.objects.exists()
