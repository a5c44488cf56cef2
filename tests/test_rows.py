"""Many rows written by id in plain SQL: the same rows on SQLite and PostgreSQL, NULLs included."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from django.db import connection

from stoat.library.models import Video, VideoMove
from stoat.scans import lifecycle
from stoat.scans import rows as rows_
from stoat.scans.rows import insert_many, update_by_id
from tests.library_rows import make_library

pytestmark = pytest.mark.django_db

# Rows per statement on PostgreSQL, made small so each test writes several statements' worth.
SMALL_CHUNK = 7


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rows_, "ARRAY_CHUNK", SMALL_CHUNK)


WHEN = datetime(2026, 11, 29, 23, 0, tzinfo=timezone.utc)


def test_many_rows_get_their_own_values_in_chunks_nulls_and_all() -> None:
    rows = make_library(3 * SMALL_CHUNK + 2)
    job = lifecycle.create_scan("/srv/videos").job
    # Every row its own values, across more than one chunk; one column all NULL, one mixed.
    values = [
        (f"/moved/{v.pk}.mp4", f"k{v.pk}", None, v.pk % 2 == 0, job.pk if v.pk % 3 else None, v.pk)
        for v in rows
    ]
    names = ["path", "path_key", "inode", "missing", "missing_job_id"]

    with connection.cursor() as cursor:
        update_by_id(cursor, Video, names, values)
        update_by_id(cursor, Video, names, [])

    stored = {v.pk: v for v in Video.objects.all()}
    for path, key, inode, missing, missing_job, pk in values:
        video = stored[pk]
        assert (video.path, video.path_key, video.inode) == (path, key, inode)
        assert (video.missing, video.missing_job_id) == (missing, missing_job)
    untouched = rows[0]
    assert stored[untouched.pk].filename == untouched.filename


def test_many_rows_are_inserted_as_given() -> None:
    rows = make_library(3 * SMALL_CHUNK + 2)
    job = lifecycle.create_scan("/srv/videos").job
    history = [(v.pk, v.path, f"/to/{v.pk}.mp4", WHEN, job.pk if v.pk % 2 else None) for v in rows]

    with connection.cursor() as cursor:
        insert_many(
            cursor, VideoMove, ["video_id", "from_path", "to_path", "moved_at", "job_id"], history
        )
        insert_many(cursor, VideoMove, ["video_id"], [])

    stored = sorted(
        VideoMove.objects.values_list("video_id", "from_path", "to_path", "moved_at", "job_id")
    )
    assert stored == sorted(history)
