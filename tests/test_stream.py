"""Serving a video's file with HTTP Range requests, on the page and in the API."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import LazySettings
from django.test import Client
from django.urls import reverse
from django.utils.http import http_date

from stoat.library.models import Video
from stoat.library.stream import parse_range
from stoat.scans import lifecycle
from stoat.scans.runner import run_here
from tests.media import make_clip

PAGE, API = "page", "api"


def scan(folder: Path) -> None:
    run_here(lifecycle.create_scan(str(folder)).job)


@pytest.fixture
def video(db: None, library_dir: Path) -> Video:
    make_clip(library_dir / "walk.webm", seconds=2, audio=True)
    scan(library_dir)
    return Video.objects.get()


def url(video: Video, where: str) -> str:
    if where == PAGE:
        return reverse("library:stream", args=[video.pk])
    return f"/api/v1/videos/{video.pk}/stream"


def content(response: object) -> bytes:
    return b"".join(response.streaming_content)  # type: ignore[attr-defined]


@pytest.fixture(params=[PAGE, API])
def where(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_the_whole_file_says_it_takes_ranges(client: Client, video: Video, where: str) -> None:
    data = Path(video.path).read_bytes()

    response = client.get(url(video, where))

    assert response.status_code == 200
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "video/webm"
    assert int(response["Content-Length"]) == len(data)
    assert content(response) == data


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [("bytes=0-99", 0, 99), ("bytes=1000-1999", 1000, 1999), ("bytes=-500", -500, None)],
    ids=["first bytes", "middle", "suffix"],
)
def test_a_range_is_206_with_exactly_those_bytes(
    client: Client, video: Video, where: str, header: str, first: int, last: int | None
) -> None:
    data = Path(video.path).read_bytes()
    start = first if first >= 0 else len(data) + first
    end = last if last is not None else len(data) - 1

    response = client.get(url(video, where), headers={"Range": header})

    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {start}-{end}/{len(data)}"
    assert int(response["Content-Length"]) == end - start + 1
    assert content(response) == data[start : end + 1]


def test_an_open_range_runs_to_the_end(client: Client, video: Video) -> None:
    data = Path(video.path).read_bytes()

    response = client.get(url(video, PAGE), headers={"Range": "bytes=100-"})

    assert response.status_code == 206
    assert content(response) == data[100:]


def test_a_range_past_the_end_is_416(client: Client, video: Video, where: str) -> None:
    size = Path(video.path).stat().st_size

    response = client.get(url(video, where), headers={"Range": f"bytes={size}-"})

    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{size}"


def test_if_range_with_another_validator_gets_the_whole_file(
    client: Client, video: Video, where: str
) -> None:
    data = Path(video.path).read_bytes()
    first = client.get(url(video, where), headers={"Range": "bytes=0-9"})
    etag = first["ETag"]

    same = client.get(url(video, where), headers={"Range": "bytes=0-9", "If-Range": etag})
    changed = client.get(url(video, where), headers={"Range": "bytes=0-9", "If-Range": '"old"'})
    old_date = client.get(
        url(video, where), headers={"Range": "bytes=0-9", "If-Range": http_date(1_000_000)}
    )
    same_date = client.get(
        url(video, where), headers={"Range": "bytes=0-9", "If-Range": first["Last-Modified"]}
    )

    assert same.status_code == 206 and content(same) == data[:10]
    assert changed.status_code == 200 and content(changed) == data
    assert old_date.status_code == 200
    assert same_date.status_code == 206


def test_without_a_user_there_is_no_file(video: Video) -> None:
    anonymous = Client()

    page = anonymous.get(url(video, PAGE))
    api = anonymous.get(url(video, API))

    assert page.status_code == 302 and "/accounts/login/" in page["Location"]
    assert api.status_code == 401


def test_only_known_videos_are_served(client: Client, video: Video, where: str) -> None:
    unknown = Video.objects.order_by("-pk").first()
    assert unknown is not None
    assert client.get(url(Video(pk=unknown.pk + 1), where)).status_code == 404


def test_a_row_whose_path_was_changed_is_not_served(client: Client, video: Video) -> None:
    # The path must hash to the row's key: a tampered path never reaches the disk.
    Video.objects.filter(pk=video.pk).update(path="/etc/passwd")
    assert client.get(url(video, PAGE)).status_code == 404


def test_a_video_whose_file_is_gone_is_404(client: Client, video: Video) -> None:
    Path(video.path).unlink()
    assert client.get(url(video, API)).status_code == 404


def test_head_and_download(client: Client, video: Video) -> None:
    size = Path(video.path).stat().st_size

    head = client.head(url(video, PAGE), headers={"Range": "bytes=0-9"})
    download = client.get(url(video, PAGE), {"download": "1"})

    assert head.status_code == 206 and head["Content-Length"] == "10" and head.content == b""
    assert download["Content-Disposition"] == "attachment; filename*=UTF-8''walk.webm"
    assert len(content(download)) == size


def test_the_proxy_sends_the_bytes_when_asked_to(
    client: Client, video: Video, settings: LazySettings
) -> None:
    settings.STOAT_ACCEL_REDIRECT = "/_stoat_files"

    response = client.get(url(video, PAGE), headers={"Range": "bytes=0-9"})

    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == "/_stoat_files" + video.path
    assert response.content == b""


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-0", (0, 0)),
        ("bytes=5-2", None),
        ("bytes=0-99999", (0, 999)),
        ("bytes=-5000", (0, 999)),
        ("bytes=0-1,5-6", None),
        ("items=0-1", None),
        ("bytes=-", None),
    ],
)
def test_range_headers_are_read_as_http_says(header: str, expected: tuple[int, int] | None) -> None:
    found = parse_range(header, 1000)
    assert (None if found is None else (found.start, found.end)) == expected


def test_the_video_page_plays_what_browsers_play_and_offers_the_rest(
    client: Client, video: Video, library_dir: Path
) -> None:
    page = client.get(reverse("library:video", args=[video.pk])).content.decode()
    assert f'<source src="{url(video, PAGE)}" type="video/webm">' in page
    # The player's poster is the thumbnail: the page does not show that picture twice.
    thumbnail = reverse("library:thumbnail", args=[video.pk])
    assert page.count(f'"{thumbnail}"') == 1

    make_clip(library_dir / "other.mkv", video_codec="hevc")
    scan(library_dir)
    other = Video.objects.get(filename="other.mkv")
    page = client.get(reverse("library:video", args=[other.pk])).content.decode()
    assert "<video" not in page
    assert "Browsers cannot play this file" in page
    assert f'<img class="large" src="{reverse("library:thumbnail", args=[other.pk])}"' in page
    assert f'href="{url(other, PAGE)}?download=1"' in page
