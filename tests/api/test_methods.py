"""HEAD answers every GET endpoint with the GET's headers and no body; OPTIONS names the methods."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from stoat.library.models import Video
from tests.api.conftest import body, error_of, make_video
from tests.conftest import make_job

pytestmark = pytest.mark.django_db


def test_head_on_the_list_has_the_gets_headers_and_no_body(api: Client) -> None:
    make_video()
    got = api.get("/api/v1/videos")

    head = api.head("/api/v1/videos")

    assert head.status_code == 200
    assert head["Content-Type"] == got["Content-Type"]
    assert head["Content-Length"] == got["Content-Length"] == str(len(got.content))
    assert head.content == b""


def test_head_on_a_stream_has_the_gets_headers_and_reads_no_file(
    api: Client, clip: Video, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"/api/v1/videos/{clip.pk}/stream"
    got = api.get(url)

    def no_reading(*args: object) -> None:
        raise AssertionError("HEAD read the file")

    monkeypatch.setattr("stoat.library.stream.read_bytes", no_reading)
    head = api.head(url)

    assert head.status_code == 200
    assert head["Content-Type"] == got["Content-Type"] == "video/webm"
    assert head["Content-Length"] == got["Content-Length"] == str(Path(clip.path).stat().st_size)
    assert head["Accept-Ranges"] == "bytes" and head["ETag"] == got["ETag"]
    assert head.content == b""


def test_every_get_endpoint_answers_head(api: Client) -> None:
    ids = {"video_id": str(make_video().pk), "job_id": str(make_job().pk), "library_id": "1"}
    paths = body(api.get("/api/v1/openapi.json"))["paths"]
    gets = [path for path, item in paths.items() if "get" in item]

    for path in gets:
        url = re.sub(r"\{(\w+)\}", lambda m: ids[m[1]], path)
        response = api.head(url)
        assert response.status_code != 405, path
        assert response.get("Content-Type"), path


def test_options_is_204_naming_every_allowed_method(api: Client) -> None:
    response = api.options("/api/v1/videos/1")

    assert response.status_code == 204
    assert response["Allow"] == "DELETE, GET, HEAD, OPTIONS"
    assert response.content == b""


def test_a_wrong_method_is_told_the_allowed_ones_in_a_stable_order(api: Client) -> None:
    response = api.put("/api/v1/videos/1")

    detail = error_of(response, 405)
    assert response["Allow"] == "DELETE, GET, HEAD, OPTIONS"
    assert detail["message"].endswith("use DELETE, GET, HEAD, OPTIONS.")


def test_head_where_only_post_is_taken_is_405(api: Client) -> None:
    response = api.head("/api/v1/videos/scan")

    assert response.status_code == 405
    assert response["Allow"] == "OPTIONS, POST"
