"""The whole library's stats and facet counts are kept until a video changes, whoever changes it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection, transaction
from django.db.models import F
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from stoat.library import summary
from stoat.library.facets import count_facets
from stoat.library.filters import VideoFilters
from stoat.library.models import Video
from stoat.library.stats import STATS_SHAPE, LibraryStats, library_stats, video_stats
from stoat.scans import lifecycle
from stoat.scans.models import Job, Status
from stoat.scans.runner import run_here
from tests.library_rows import make_library

pytestmark = pytest.mark.django_db

Clips = Callable[..., list[Path]]
UNFILTERED = VideoFilters()


def numbers(stats: LibraryStats) -> tuple[object, ...]:
    """What /stats/ shows, as the rows give it."""
    return (
        stats.videos,
        stats.bytes,
        round(stats.hours, 6),
        stats.missing,
        [(g.value, g.videos, g.bytes) for g in stats.by_video_codec],
        [(g.value, g.videos) for g in stats.by_resolution],
        [(g.value, g.videos) for g in stats.by_container],
        [(f.folder, f.videos, f.bytes) for f in stats.largest_folders],
        [(m.month, m.videos) for m in stats.added_per_month],
    )


def as_read_now() -> tuple[object, ...]:
    """The numbers computed from the rows, the cache left out."""
    return numbers(video_stats(UNFILTERED))


def video_queries(read: Callable[[], object]) -> int:
    with CaptureQueriesContext(connection) as queries:
        read()
    return sum(1 for q in queries.captured_queries if 'library_video"' in q["sql"])


def test_unchanged_videos_are_read_once_then_kept() -> None:
    make_library()
    first = video_queries(lambda: library_stats(UNFILTERED))
    again = video_queries(lambda: library_stats(UNFILTERED))

    assert first >= 2
    assert again == 0
    assert numbers(library_stats(UNFILTERED)) == as_read_now()


def test_bulk_inserts_updates_and_deletes_are_seen_at_once() -> None:
    rows = make_library()
    library_stats(UNFILTERED)

    Video.objects.bulk_create([Video(**{**fields(rows[1]), "path_key": "new"})])
    assert numbers(library_stats(UNFILTERED)) == as_read_now()

    Video.objects.filter(pk__in=[v.pk for v in rows[:10]]).update(missing=True)
    assert numbers(library_stats(UNFILTERED)) == as_read_now()

    Video.objects.filter(pk__in=[v.pk for v in rows[10:20]]).delete()
    assert numbers(library_stats(UNFILTERED)) == as_read_now()


def test_a_raw_sql_write_is_seen_too() -> None:
    rows = make_library()
    before = numbers(library_stats(UNFILTERED))

    # As the move reconciliation writes: executemany of plain UPDATEs.
    with connection.cursor() as cursor:
        cursor.executemany(
            "UPDATE library_video SET folder = %s, size = %s WHERE id = %s",
            [("/srv/elsewhere", 10**12, rows[1].pk), ("/srv/elsewhere", 1, rows[2].pk)],
        )

    after = numbers(library_stats(UNFILTERED))
    assert after != before
    assert after == as_read_now()
    assert library_stats(UNFILTERED).largest_folders[0].folder == "/srv/elsewhere"


def test_a_rolled_back_write_leaves_the_numbers_as_they_were() -> None:
    rows = make_library()
    before = numbers(library_stats(UNFILTERED))

    with pytest.raises(RuntimeError), transaction.atomic():
        Video.objects.filter(pk=rows[1].pk).update(size=10**13)
        assert numbers(library_stats(UNFILTERED)) != before
        raise RuntimeError("undo")

    assert numbers(library_stats(UNFILTERED)) == before == as_read_now()


def test_the_facet_counts_follow_a_change_without_any_filter(client: Client) -> None:
    rows = make_library()
    url = reverse("library:index") + "?video_codec=hevc"
    hevc = Video.objects.present().filter(video_codec="hevc")
    assert f"{hevc.count()} videos" in client.get(url).content.decode()

    changed = next(v for v in rows if not v.missing and v.video_codec != "hevc")
    Video.objects.filter(pk=changed.pk).update(video_codec="hevc")

    assert f"{hevc.count()} videos" in client.get(url).content.decode()
    assert count_facets(VideoFilters(video_codec=("hevc",))).total == hevc.count()


def test_scans_and_rescans_change_the_numbers(library_dir: Path, clips: Clips) -> None:
    made = clips(3, sub="a")
    clips(2, sub="b")
    scan(library_dir)
    assert library_stats(UNFILTERED).videos == 5

    made[0].unlink()
    (library_dir / "c").mkdir()
    made[1].rename(library_dir / "c" / made[1].name)
    scan(library_dir)

    stats = library_stats(UNFILTERED)
    assert (stats.videos, stats.missing) == (4, 1)
    assert numbers(stats) == as_read_now()
    assert str(library_dir / "c") in {f.folder for f in stats.largest_folders}


def test_without_the_triggers_nothing_is_kept_until_a_migrate_restores_them() -> None:
    rows = make_library()
    drop_triggers()
    assert summary.library_version() is None
    library_stats(UNFILTERED)
    Video.objects.filter(pk=rows[1].pk).update(size=10**13)

    assert numbers(library_stats(UNFILTERED)) == as_read_now()
    assert video_queries(lambda: library_stats(UNFILTERED)) >= 2

    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    assert summary.library_version() is not None
    library_stats(UNFILTERED)
    assert video_queries(lambda: library_stats(UNFILTERED)) == 0


class FromAnotherVersion:
    """Unpickles as an entry written by a stoat whose classes are gone would."""

    def __reduce__(self) -> tuple[object, tuple[()]]:
        return (gone, ())


def gone() -> None:
    raise AttributeError("module 'stoat.library.stats' has no attribute 'OldStats'")


def test_an_entry_that_cannot_be_read_back_is_computed_again() -> None:
    make_library()
    key = summary.cache_key(f"stats:{STATS_SHAPE}")
    cache.set(key, FromAnotherVersion())

    assert numbers(library_stats(UNFILTERED)) == as_read_now()
    assert cache.get(key)[0] == summary.library_version()


def scan(folder: Path) -> Job:
    job = lifecycle.create_scan(str(folder), True).job
    assert run_here(job) == Status.COMPLETE
    return job


def fields(video: Video) -> dict[str, object]:
    skip = {"id", "container_kind", "resolution_class", "created_at", "updated_at"}
    return {
        f.attname: getattr(video, f.attname)
        for f in Video._meta.concrete_fields
        if f.attname not in skip and not getattr(f, "generated", False)
    }


def drop_triggers() -> None:
    with connection.cursor() as cursor:
        for statement in summary.DROP[connection.vendor]:
            if "TRIGGER" in statement:
                cursor.execute(statement)


@pytest.mark.django_db(transaction=True)
def test_postgresql_writers_never_wait_for_one_another_on_the_marks() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time anyway")
    rows = make_library()
    library_stats(UNFILTERED)
    holding, done = threading.Event(), threading.Event()

    def hold_a_transaction_open() -> None:
        try:
            with transaction.atomic():
                # Enough statements that this one removes older marks too (1 in 50 does).
                for _ in range(300):
                    Video.objects.filter(pk=rows[1].pk).update(size=F("size") + 1)
                holding.set()
                assert done.wait(timeout=60)
        finally:
            connection.close()

    other = threading.Thread(target=hold_a_transaction_open)
    other.start()
    try:
        assert holding.wait(timeout=60)
        with connection.cursor() as cursor:
            # Any wait for a lock the open transaction holds fails this writer.
            cursor.execute("SET lock_timeout = '1s'")
            for _ in range(300):
                Video.objects.filter(pk=rows[2].pk).update(size=F("size") + 1)
            cursor.execute("RESET lock_timeout")
        assert numbers(library_stats(UNFILTERED)) == as_read_now()
    finally:
        done.set()
        other.join()
    assert numbers(library_stats(UNFILTERED)) == as_read_now()
    assert Video.objects.get(pk=rows[1].pk).size == rows[1].size + 300


def marks() -> tuple[tuple[int, ...], ...]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {summary.TABLE} ORDER BY id")
        return tuple(cursor.fetchall())


def test_a_bulk_write_marks_the_library_once_when_it_ends_and_is_seen_at_once() -> None:
    rows = make_library()
    library_stats(UNFILTERED)
    before = marks()

    with transaction.atomic(), summary.one_mark():
        Video.objects.filter(pk__in=[v.pk for v in rows[:10]]).update(size=F("size") + 1)
        Video.objects.filter(pk=rows[10].pk).delete()
        if connection.vendor == "sqlite":
            assert marks() == ((1, before[0][1], 1),)  # no row's trigger wrote the mark
    after = marks()

    assert after != before
    if connection.vendor == "sqlite":
        assert after[0][2] == 0  # put down: every later write is marked by its trigger again
    assert numbers(library_stats(UNFILTERED)) == as_read_now()
    Video.objects.filter(pk=rows[11].pk).update(size=10**13)
    assert numbers(library_stats(UNFILTERED)) == as_read_now()


def test_a_bulk_write_that_fails_leaves_the_marks_as_they_were() -> None:
    rows = make_library()
    before = marks()

    with pytest.raises(ZeroDivisionError), transaction.atomic(), summary.one_mark():
        Video.objects.filter(pk=rows[0].pk).update(size=1)
        _ = 1 / 0

    assert marks() == before
    library_stats(UNFILTERED)
    Video.objects.filter(pk=rows[1].pk).update(size=10**13)
    assert numbers(library_stats(UNFILTERED)) == as_read_now()


@pytest.mark.django_db(transaction=True)
def test_a_bulk_write_outside_a_transaction_is_refused_on_sqlite() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL marks once a statement: there is nothing to hold up")
    with pytest.raises(RuntimeError, match="needs a transaction"), summary.one_mark():
        pass


OLD_SQLITE_TRIGGER = (
    "CREATE TRIGGER {name} AFTER {event} ON library_video "
    f"BEGIN UPDATE {summary.TABLE} SET token = random(); END"
)


@pytest.mark.django_db(transaction=True)
def test_a_library_marked_before_bulk_writes_gains_the_flag_and_the_triggers_that_read_it() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("the flag is SQLite's: PostgreSQL marks once a statement")
    with connection.cursor() as cursor:
        # As migration 0013 left the marks before 0014: no flag, triggers that never skip.
        for statement in summary.SQLITE_DROP_TRIGGERS:
            cursor.execute(statement)
        cursor.execute(f"ALTER TABLE {summary.TABLE} DROP COLUMN bulk")
        for event in ("INSERT", "UPDATE", "DELETE"):
            name = f"{summary.TRIGGER}_{event.lower()}"
            cursor.execute(OLD_SQLITE_TRIGGER.format(name=name, event=event))

    with connection.schema_editor() as editor:
        summary.add_bulk_flag(None, editor)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'library_video'"
        )
        triggers = [sql for (sql,) in cursor.fetchall()]
    assert len(triggers) == 3
    assert all("WHEN (SELECT bulk" in sql for sql in triggers)
    rows = make_library()
    before = marks()
    with transaction.atomic(), summary.one_mark():
        Video.objects.filter(pk=rows[0].pk).update(size=1)
        assert marks()[0][1:] == (before[0][1], 1)
    assert marks()[0][1:] != (before[0][1], 0)
    assert marks()[0][2] == 0
