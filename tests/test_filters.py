"""Library filters: each alone and combined, counts equal to the rows, the URL round-trip."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from django.test import Client
from django.urls import reverse

from stoat.library.facets import count_facets
from stoat.library.filters import FilterError, VideoFilters, apply_filters, parse_filters
from stoat.library.models import Library, Video
from stoat.library.names import container_kind, resolution_class
from tests.library_rows import make_library

HTMX = {"HX-Request": "true"}


def kind_of(video: Video) -> dict[str, str]:
    return {
        "video_codec": video.video_codec,
        "audio_codec": video.audio_codec or "none",
        "container": container_kind(video.container, video.filename),
        "resolution": resolution_class(video.width, video.height),
    }


def matches(video: Video, filters: VideoFilters, skip: str = "") -> bool:
    """The filters, written once more in plain Python over one row."""
    kinds = kind_of(video)
    for name, value in kinds.items():
        chosen = getattr(filters, name)
        if name != skip and chosen and value not in chosen:
            return False
    added = video.created_at.date()
    duration = video.duration or 0.0
    folder = filters.folder
    return (
        (filters.min_duration is None or duration >= filters.min_duration)
        and (filters.max_duration is None or duration <= filters.max_duration)
        and (filters.min_size is None or video.size >= filters.min_size)
        and (filters.max_size is None or video.size <= filters.max_size)
        and (filters.added_after is None or added >= filters.added_after)
        and (filters.added_before is None or added <= filters.added_before)
        and (not folder or video.folder == folder or video.folder.startswith(folder + "/"))
    )


CASES: list[dict[str, list[str]]] = [
    {},
    {"video_codec": ["h264"]},
    {"video_codec": ["h264", "hevc"]},
    {"audio_codec": ["none"]},
    {"audio_codec": ["aac", "none"]},
    {"container": ["webm"]},
    {"container": ["mp4", "quicktime"]},
    {"resolution": ["1080p"]},
    {"resolution": ["4k", "1440p"]},
    {"min_duration": ["600"]},
    {"max_duration": ["1:00:00"]},
    {"min_duration": ["60"], "max_duration": ["3600"]},
    {"min_size": ["1GB"]},
    {"max_size": ["500000000"]},
    {"added_after": ["2020-01-01"]},
    {"added_before": ["2019-06-30"]},
    {"folder": ["/srv/videos"]},
    {"folder": ["/srv/videos/2019/"]},
    {"video_codec": ["h264", "vp9"], "resolution": ["1080p", "4k"], "container": ["mp4"]},
    {
        "audio_codec": ["aac"],
        "min_size": ["100MB"],
        "folder": ["/srv/videos"],
        "max_duration": ["7200"],
    },
]


@pytest.mark.parametrize("query", CASES, ids=[urlencode(c, doseq=True) or "none" for c in CASES])
def test_each_filter_alone_and_combined_gives_the_rows_and_counts(
    db: None, query: dict[str, list[str]]
) -> None:
    rows = [v for v in make_library() if not v.missing]
    filters = parse_filters(query)

    found = apply_filters(Video.objects.present(), filters)
    counts = count_facets(filters)

    expected = {v.pk for v in rows if matches(v, filters)}
    assert set(found.values_list("pk", flat=True)) == expected
    assert counts.total == len(expected)
    for facet in counts.facets:
        for choice in facet.choices:
            would_give = [
                v
                for v in rows
                if matches(v, filters, skip=facet.name) and kind_of(v)[facet.name] == choice.value
            ]
            assert choice.count == len(would_give), (facet.name, choice.value)
            assert choice.selected == (choice.value in getattr(filters, facet.name))


def test_the_folder_filter_does_not_take_a_sibling_with_the_same_start(db: None) -> None:
    make_library()

    found = apply_filters(Video.objects.all(), parse_filters({"folder": ["/srv/videos"]}))

    folders = set(found.values_list("folder", flat=True))
    assert "/srv/videosx" not in folders
    assert folders == {"/srv/videos", "/srv/videos/2019", "/srv/videos/2019/june"}


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ({"resolution": ["720"]}, "resolution"),
        ({"min_size": ["lots"]}, "min_size"),
        ({"min_duration": ["-5"]}, "min_duration"),
        ({"max_duration": ["nan"]}, "max_duration"),
        ({"added_after": ["2020-13-01"]}, "added_after"),
        ({"video_codec": ["h264; drop table"]}, "video_codec"),
        ({"folder": ["relative/path"]}, "folder"),
        ({"min_size": ["2GB"], "max_size": ["1GB"]}, "min_size"),
        ({"min_duration": ["600"], "max_duration": ["60"]}, "min_duration"),
        ({"added_after": ["2021-01-02"], "added_before": ["2021-01-01"]}, "added_after"),
        ({"min_size": ["1", "2"]}, "min_size"),
    ],
)
def test_a_bad_value_or_a_range_upside_down_is_refused(
    query: dict[str, list[str]], name: str
) -> None:
    with pytest.raises(FilterError) as refused:
        parse_filters(query)
    assert refused.value.name == name


def test_a_size_filter_reads_units_as_the_pages_print_them(client: Client) -> None:
    shown = 7036  # printed "6.9 KB"
    video = make_library(count=1)[0]
    Video.objects.filter(pk=video.pk).update(size=shown, missing=False)
    page = client.get(f"/videos/{video.pk}/").content.decode()
    assert '<span class="size">6.9 KB</span>' in page
    for unit in ("7KB", "7 KiB", "7kib"):
        assert parse_filters({"max_size": [unit]}).max_size == 7168, unit
    assert parse_filters({"min_size": ["6.9KB"]}).min_size == int(6.9 * 1024)
    # Shown under 7 KB, so "up to 7KB" lists it.
    listed = client.get("/api/v1/videos", {"max_size": "7KB"}).json()
    assert [v["id"] for v in listed["videos"]] == [video.pk]


@pytest.mark.parametrize(
    ("query", "folded"),
    [
        ({}, True),
        ({"video_codec": "h264"}, True),
        ({"min_size": "1GB"}, False),
        ({"added_before": "2024-01-01"}, False),
        ({"folder": "/srv/videos"}, False),
    ],
)
def test_the_ranges_are_folded_until_one_is_used(
    client: Client, query: dict[str, str], folded: bool
) -> None:
    html = client.get("/", query).content.decode()
    tag = re.search(r'<details id="more-filters"[^>]*>', html)
    assert tag is not None
    assert (" open" not in tag[0]) is folded


def test_values_are_read_as_people_write_them() -> None:
    filters = parse_filters(
        {
            "min_size": ["1.5 GB"],
            "max_size": ["2000mb"],
            "min_duration": ["1:30"],
            "max_duration": ["2:00:00"],
            "resolution": ["4K"],
            "video_codec": ["H264", "h264"],
            "added_after": ["2024-02-29"],
            "folder": [""],
        }
    )
    assert filters == VideoFilters(
        # The units the pages print sizes in: powers of 1024.
        min_size=int(1.5 * 2**30),
        max_size=2000 * 2**20,
        min_duration=90.0,
        max_duration=7200.0,
        resolution=("4k",),
        video_codec=("h264",),
        added_after=date(2024, 2, 29),
    )


def test_the_page_shows_counts_and_filters_combine_with_search_and_sort(client: Client) -> None:
    make_library()
    query = {
        "video_codec": ["h264", "hevc"],
        "resolution": ["1080p"],
        "q": "clip-0",
        "sort": "-size",
    }

    response = client.get("/", query)

    videos = list(response.context["page"].object_list)
    expected = Video.objects.present().filter(
        video_codec__in=["h264", "hevc"], resolution_class="1080p", filename__contains="clip-0"
    )
    assert response.status_code == 200
    assert [v.pk for v in videos] == list(
        expected.order_by("-size", "-id").values_list("pk", flat=True)
    )
    page = response.content.decode()
    h264 = Video.objects.present().filter(
        video_codec="h264", resolution_class="1080p", filename__contains="clip-0"
    )
    assert f'value="h264" checked> H.264 <span class="count">({h264.count()})</span>' in page


def test_filters_in_the_url_round_trip(client: Client) -> None:
    make_library()
    query = [
        ("video_codec", "h264"),
        ("video_codec", "vp9"),
        ("container", "webm"),
        ("min_duration", "90"),
        ("max_size", "3000000000"),
        ("added_after", "2019-03-01"),
        ("folder", "/srv/videos"),
    ]

    response = client.get("/?" + urlencode(query))

    link = response.context["filtered_query"]
    assert sorted(parse_qsl(link)) == sorted(query)
    again = client.get("/?" + link)
    assert again.context["filters"] == response.context["filters"]
    assert [v.pk for v in again.context["page"].object_list] == [
        v.pk for v in response.context["page"].object_list
    ]


def test_the_pager_keeps_every_value_of_a_repeated_filter(client: Client) -> None:
    make_library(150)

    page = client.get("/", {"video_codec": ["h264", "hevc", "vp9", "av1"]}).content.decode()

    assert "video_codec=h264&amp;video_codec=hevc&amp;video_codec=vp9&amp;video_codec=av1" in page


def test_htmx_gets_the_results_and_the_counts_to_swap_beside_them(client: Client) -> None:
    make_library()

    response = client.get("/", {"resolution": "4k"}, headers=HTMX)

    html = response.content.decode()
    assert "<html" not in html
    assert 'id="results"' in html
    assert 'id="facets" class="facets" hx-swap-oob="true"' in html


def test_a_bad_filter_on_the_page_is_400_with_the_reason(client: Client) -> None:
    make_library()

    response = client.get("/", {"min_size": "5GB", "max_size": "1GB"})

    assert response.status_code == 400
    assert "min_size is above max_size" in response.content.decode()


def test_the_form_works_as_a_plain_get_with_empty_fields(client: Client) -> None:
    make_library()
    empty: dict[str, Any] = dict.fromkeys(("min_duration", "max_size", "added_after", "folder"), "")

    response = client.get("/", {**empty, "container": "avi"})

    assert response.status_code == 200
    assert {v.container for v in response.context["page"].object_list} == {"avi"}
    assert (
        response.context["page"].paginator.count
        == Video.objects.present().filter(container="avi").count()
    )


def test_the_folder_view_shows_breadcrumbs_sub_folders_and_its_own_videos(client: Client) -> None:
    rows = [v for v in make_library() if not v.missing]

    response = client.get(reverse("library:folder"), {"path": "/srv/videos"})

    assert response.status_code == 200
    assert [c.path for c in response.context["crumbs"]] == ["/", "/srv", "/srv/videos"]
    below = [v for v in rows if v.folder.startswith("/srv/videos/2019")]
    assert [(s.name, s.videos, s.bytes) for s in response.context["sub_folders"]] == [
        ("2019", len(below), sum(v.size for v in below))
    ]
    own = sorted((v for v in rows if v.folder == "/srv/videos"), key=lambda v: v.filename)
    assert [v.pk for v in response.context["page"].object_list] == [v.pk for v in own]
    assert 'aria-current="page">videos<' in response.content.decode()


def test_the_folder_view_starts_where_all_videos_meet(client: Client) -> None:
    make_library()

    response = client.get(reverse("library:folder"))

    assert response.context["folder"] == "/srv"
    names = [s.name for s in response.context["sub_folders"]]
    assert names == ["other", "videos", "videosx"]


def test_the_folder_view_refuses_a_relative_path(client: Client) -> None:
    assert client.get(reverse("library:folder"), {"path": "srv"}).status_code == 400


def test_the_library_filter_takes_each_saved_folder_as_it_is_scanned(client: Client) -> None:
    rows = [v for v in make_library() if not v.missing]
    deep = Library.objects.create(name="Videos", path="/srv/videos/", recursive=True)
    flat = Library.objects.create(name="Other", path="/srv/other", recursive=False)
    top = Library.objects.create(name="Top", path="/srv/videos/2019", recursive=False)

    cases: list[tuple[list[int], Callable[[str], bool]]] = [
        ([deep.pk], lambda f: f == "/srv/videos" or f.startswith("/srv/videos/")),
        ([top.pk], lambda f: f == "/srv/videos/2019"),
        ([flat.pk, top.pk], lambda f: f in ("/srv/other", "/srv/videos/2019")),
    ]
    for ids, wanted in cases:
        query = {"library": [str(pk) for pk in ids], "video_codec": ["h264", "vp9"]}
        filters = parse_filters(query)
        found = set(apply_filters(Video.objects.present(), filters).values_list("pk", flat=True))
        expected = {v.pk for v in rows if wanted(v.folder) and v.video_codec in ("h264", "vp9")}
        assert found == expected
        assert count_facets(filters).total == len(expected)
        page = client.get("/", query)
        assert page.context["page"].paginator.count == len(expected)


def test_an_unknown_library_is_404_on_the_page_and_422_in_the_api(client: Client) -> None:
    assert client.get("/", {"library": "12345"}).status_code == 404
    assert client.get("/", {"library": "films"}).status_code == 400
    assert client.get("/api/v1/videos", {"library": "12345"}).status_code == 422
    assert client.get("/api/v1/videos/facets", {"library": "x"}).status_code == 422
