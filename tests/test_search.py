from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from stoat.library.models import Video, path_key
from stoat.library.queries import SORT_KEYS, SortKey, library_videos

pytestmark = pytest.mark.django_db


def add_video(path: str, **fields: object) -> Video:
    folder, _, filename = path.rpartition("/")
    values: dict[str, object] = {
        "size": 1,
        "mtime_ns": 1,
        "width": 16,
        "height": 16,
        "video_codec": "h264",
    }
    values.update(fields)
    return Video.objects.create(
        path=path, path_key=path_key(path), folder=folder, filename=filename, **values
    )


def found(query: str) -> list[str]:
    return [v.filename for v in library_videos(Video.objects.all(), query=query)]


def test_search_matches_file_names_and_folder_names_ignoring_case() -> None:
    add_video("/srv/Holidays/Beach Day.mp4")
    add_video("/srv/work/holiday party.mkv")
    add_video("/srv/work/standup.mp4")

    assert found("HOLIDAY") == ["Beach Day.mp4", "holiday party.mkv"]
    assert found("beach") == ["Beach Day.mp4"]
    assert found("  ") == ["Beach Day.mp4", "holiday party.mkv", "standup.mp4"]


def test_search_takes_percent_and_underscore_literally() -> None:
    add_video("/srv/a/100%_done.mp4")
    add_video("/srv/a/100 done.mp4")

    assert found("100%_") == ["100%_done.mp4"]


def test_name_sort_ignores_case_and_breaks_ties_by_id() -> None:
    first = add_video("/srv/a/b.mp4")
    add_video("/srv/a/A.mp4")
    second = add_video("/srv/b/b.mp4")

    names = [(v.filename, v.pk) for v in library_videos(Video.objects.all(), sort="name")]
    assert names[0][0] == "A.mp4"
    assert [pk for _, pk in names[1:]] == [first.pk, second.pk]


# Three videos whose name, age, duration and size each put them in another order (b is "B",
# so a sort by name must ignore case).
SORTED_BY = {"name": "abc", "added": "cab", "duration": "bca", "size": "acb"}


@pytest.mark.parametrize("sort", SORT_KEYS)
def test_every_sort_orders_the_page_and_the_api_alike(sort: SortKey, client: Client) -> None:
    now = timezone.now()
    filename = {"a": "a.mp4", "b": "B.mp4", "c": "c.mp4"}
    for name in "abc":
        video = add_video(
            f"/srv/a/{filename[name]}",
            duration=float(1 + SORTED_BY["duration"].index(name)),
            size=1 + SORTED_BY["size"].index(name),
        )
        added = now - timedelta(days=3 - SORTED_BY["added"].index(name))
        Video.objects.filter(pk=video.pk).update(created_at=added)
    expected = [filename[name] for name in SORTED_BY[sort.lstrip("-")]]
    if sort.startswith("-"):
        expected.reverse()

    api = client.get("/api/v1/videos", {"sort": sort}).json()
    assert [v["filename"] for v in api["videos"]] == expected
    page = client.get("/", {"sort": sort})
    assert [v.filename for v in page.context["page"].object_list] == expected
    assert page.context["sort"] == sort


def test_an_unknown_sort_on_the_page_falls_back_to_name(client: Client) -> None:
    add_video("/srv/a/b.mp4", size=1)
    add_video("/srv/a/a.mp4", size=2)
    page = client.get("/", {"sort": "-colour"})
    assert [v.filename for v in page.context["page"].object_list] == ["a.mp4", "b.mp4"]
    assert page.context["sort"] == "name"


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="pg_trgm is a PostgreSQL extension; on SQLite search scans the table",
)
def test_postgresql_indexes_paths_without_a_length_limit() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'library_video'"
        )
        indexes = dict(cursor.fetchall())
    assert "USING gin (upper(path) gin_trgm_ops)" in indexes["video_path_trigram"]
    assert "USING gin (folder gin_trgm_ops)" in indexes["video_folder_trigram"]
    assert "USING hash (folder)" in indexes["video_folder_hash"]
    # No B-tree over a whole path or folder: it would refuse values over 2704 bytes.
    assert not [name for name, sql in indexes.items() if "btree (folder" in sql]


def query_plan(queryset: Any) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A test table is tiny: make the planner show which index it can use for the order.
            for method in ("seqscan", "bitmapscan", "sort"):
                cursor.execute(f"SET LOCAL enable_{method} = off")
            cursor.execute(f"EXPLAIN {sql}", params)
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return " ".join(str(row) for row in cursor.fetchall())


def test_a_deep_page_of_the_default_listing_walks_the_partial_name_index() -> None:
    for index in range(60):
        add_video(f"/srv/a/clip{index:02d}.mp4")
    listing = library_videos(Video.objects.all())[48:96]

    plan = query_plan(listing)
    assert "video_present_name_order" in plan, plan
    # Only present videos are in it, so skipping the offset reads no table rows to check.
    assert [v.filename for v in listing] == [f"clip{index:02d}.mp4" for index in range(48, 60)]
