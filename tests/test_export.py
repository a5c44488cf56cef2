"""CSV and JSON exports of a filtered list, from the page's link and from the API."""

from __future__ import annotations

import csv
import io
import json

from django.test import Client
from django.urls import reverse

from stoat.library.models import Video
from tests.library_rows import make_library


def content_of(response: object) -> str:
    assert getattr(response, "streaming", False), "the export must be streamed"
    return b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]


def test_the_csv_export_holds_the_filtered_rows_in_the_pages_order(client: Client) -> None:
    make_library(2000)
    query = {"video_codec": ["h264", "hevc", "vp9"], "min_size": "1GB", "sort": "-size"}

    response = client.get(reverse("library:export", args=["csv"]), query)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="stoat-videos-')
    rows = list(csv.DictReader(io.StringIO(content_of(response))))
    expected = Video.objects.present().filter(
        video_codec__in=["h264", "hevc", "vp9"], size__gte=2**30
    )
    assert [int(r["id"]) for r in rows] == list(
        expected.order_by("-size", "-id").values_list("pk", flat=True)
    )
    assert len(rows) > 500
    first = Video.objects.get(pk=rows[0]["id"])
    assert rows[0]["path"] == first.path
    assert rows[0]["video_codec_name"] in ("H.264", "HEVC", "VP9")
    assert rows[0]["resolution"] in ("SD", "720p", "1080p", "1440p", "4K")


def test_the_json_export_is_one_array_of_the_filtered_rows(client: Client) -> None:
    make_library()

    response = client.get(reverse("library:export", args=["json"]), {"container": "webm"})

    data = json.loads(content_of(response))
    expected = Video.objects.present().filter(container_kind="webm")
    assert {row["id"] for row in data} == set(expected.values_list("pk", flat=True))
    assert all(row["container_name"] == "WebM" for row in data)


def test_an_empty_export_is_still_valid(client: Client) -> None:
    response = client.get(reverse("library:export", args=["json"]), {"resolution": "8k"})
    assert json.loads(content_of(response)) == []
    text = content_of(client.get(reverse("library:export", args=["csv"]), {"resolution": "8k"}))
    assert text.splitlines()[0].startswith("id,path,folder,filename")
    assert len(text.splitlines()) == 1


def test_a_name_that_a_spreadsheet_would_run_is_quoted(client: Client) -> None:
    make_library(2)
    Video.objects.update(filename="=HYPERLINK(1).mp4")

    text = content_of(client.get(reverse("library:export", args=["csv"])))

    assert "'=HYPERLINK(1).mp4" in text


def test_a_bad_filter_is_400_and_the_page_links_to_both_exports(client: Client) -> None:
    make_library()
    bad = client.get(reverse("library:export", args=["csv"]), {"max_duration": "soon"})
    assert bad.status_code == 400

    page = client.get("/", {"resolution": "4k"}).content.decode()

    assert '/export.csv?resolution=4k&amp;sort=name"' in page
    assert '/export.json?resolution=4k&amp;sort=name"' in page


def test_the_api_exports_with_the_same_filters(client: Client) -> None:
    make_library()

    response = client.get("/api/v1/videos/export", {"format": "json", "resolution": ["4k", "sd"]})

    data = json.loads(content_of(response))
    expected = Video.objects.present().filter(resolution_class__in=["4k", "sd"])
    assert sorted(row["id"] for row in data) == sorted(expected.values_list("pk", flat=True))
    csv_answer = client.get("/api/v1/videos/export", {"resolution": "4k"})
    assert csv_answer["Content-Type"].startswith("text/csv")
    assert client.get("/api/v1/videos/export", {"format": "xml"}).status_code == 422
    assert client.get("/api/v1/videos/export", {"min_size": "-1"}).status_code == 422
