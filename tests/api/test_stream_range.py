"""A range the file cannot satisfy is refused in the API's error shape, saying the file's size."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from stoat.library.models import Video
from tests.api.conftest import error_of

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("header", ["bytes=999999999-", "bytes=-0"])
def test_an_unsatisfiable_range_is_416_in_the_error_shape(
    api: Client, clip: Video, header: str
) -> None:
    size = Path(clip.path).stat().st_size

    response = api.get(f"/api/v1/videos/{clip.pk}/stream", headers={"Range": header})

    detail = error_of(response, 416)
    assert detail["code"] == "RANGE_NOT_SATISFIABLE"
    assert str(size) in detail["message"]
    assert response["Content-Range"] == f"bytes */{size}"


def test_the_pages_stream_keeps_its_plain_416(api: Client, clip: Video) -> None:
    url = reverse("library:stream", args=[clip.pk])

    response = api.get(url, headers={"Range": "bytes=-0"})

    assert response.status_code == 416
    assert response.content == b""
    assert response["Content-Range"].startswith("bytes */")
