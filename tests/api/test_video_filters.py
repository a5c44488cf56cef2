"""GET /api/v1/videos and /videos/facets with the library's filters."""

from __future__ import annotations

import pytest
from django.test import Client

from stoat.library.facets import count_facets
from stoat.library.filters import parse_filters
from stoat.library.models import Video
from tests.api.conftest import body, error_of
from tests.library_rows import make_library


def test_the_list_takes_repeated_filters_and_keeps_its_shape(api: Client) -> None:
    make_library()
    query = {"video_codec": ["h264", "hevc"], "resolution": ["1080p", "4k"], "limit": "100"}

    data = body(api.get("/api/v1/videos", query))

    expected = Video.objects.present().filter(
        video_codec__in=["h264", "hevc"], resolution_class__in=["1080p", "4k"]
    )
    assert set(data) == {"videos", "total", "limit", "offset"}
    assert data["total"] == expected.count() > 0
    assert {v["id"] for v in data["videos"]} == set(expected.values_list("pk", flat=True))


def test_facets_count_with_the_other_filters(api: Client) -> None:
    make_library()
    query = {"container": ["webm", "matroska"], "min_duration": ["600"], "folder": ["/srv/videos"]}

    data = body(api.get("/api/v1/videos/facets", query))

    counts = count_facets(parse_filters(query))
    assert data == {"total": counts.total, "facets": counts.as_dict()}
    containers = data["facets"]["container"]
    assert set(containers) >= {"webm", "matroska"}
    without_container = Video.objects.present().filter(
        duration__gte=600, folder__startswith="/srv/videos/"
    ) | Video.objects.present().filter(duration__gte=600, folder="/srv/videos")
    assert sum(containers.values()) == without_container.count()
    assert data["total"] == containers["webm"] + containers["matroska"]


@pytest.mark.parametrize(
    "query",
    [
        {"resolution": "huge"},
        {"min_size": "2GB", "max_size": "1GB"},
        {"min_duration": "10", "max_duration": "5"},
        {"added_after": "2020-02-02", "added_before": "2020-02-01"},
        {"added_after": "yesterday"},
        {"folder": "not/absolute"},
    ],
)
@pytest.mark.parametrize("url", ["/api/v1/videos", "/api/v1/videos/facets"])
def test_bad_filter_values_are_422_in_the_usual_shape(
    api: Client, url: str, query: dict[str, str]
) -> None:
    detail = error_of(api.get(url, query), 422)
    assert detail["code"] == "VALIDATION_ERROR"
    assert next(iter(query)) in detail["message"]


def test_an_unknown_parameter_is_still_refused(api: Client) -> None:
    assert error_of(api.get("/api/v1/videos/facets", {"codec": "h264"}), 400)["code"] == (
        "UNKNOWN_PARAMETER"
    )


def test_the_filters_are_in_the_openapi_document(api: Client) -> None:
    schema = body(api.get("/api/v1/openapi.json"))
    names = {p["name"] for p in schema["paths"]["/api/v1/videos"]["get"]["parameters"]}
    assert {"video_codec", "resolution", "min_size", "added_before", "folder"} <= names
