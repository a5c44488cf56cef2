"""The numbers behind /stats/ and /api/v1/stats, with the library's filters applied.

Totals and the breakdowns by codec, resolution and container are sums over one GROUP BY of the
facet columns (the same query the facet counts read). On PostgreSQL that GROUP BY, the folders' and
the months' are one pass over the rows (GROUPING SETS); SQLite has none, so there they are three
queries, each read from an index of its own (migrations 0011, 0012). Missing files are one more.
Unfiltered, the numbers are kept until a video changes (summary.py): one pass still costs more
than a page may take at 100,000 videos.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import CharField, Count, Func, Sum
from django.db.models.functions import TruncMonth

from stoat.library.filters import FACETS, NO_AUDIO, VideoFilters, apply_filters
from stoat.library.models import Video, VideoQuerySet
from stoat.library.names import RESOLUTION_NAMES, RESOLUTIONS, codec_name, container_name
from stoat.library.summary import cached, shape
from stoat.scans.models import Job, Status

LARGEST_FOLDERS = 10
RECENT_SCANS = 10


@dataclass(frozen=True)
class Group:
    value: str
    label: str
    videos: int
    bytes: int


@dataclass(frozen=True)
class FolderSize:
    folder: str
    videos: int
    bytes: int


@dataclass(frozen=True)
class Month:
    month: str
    videos: int


@dataclass(frozen=True)
class ScanSpeed:
    job_id: int
    path: str
    status: str
    files: int
    seconds: float | None
    files_per_second: float | None
    finished_at: datetime | None


@dataclass
class LibraryStats:
    videos: int = 0
    hours: float = 0.0
    bytes: int = 0
    missing: int = 0
    last_scan_errors: int | None = None
    by_video_codec: list[Group] = field(default_factory=list)
    by_resolution: list[Group] = field(default_factory=list)
    by_container: list[Group] = field(default_factory=list)
    largest_folders: list[FolderSize] = field(default_factory=list)
    added_per_month: list[Month] = field(default_factory=list)
    recent_scans: list[ScanSpeed] = field(default_factory=list)


STATS_SHAPE = shape(LibraryStats, Group, FolderSize, Month, ScanSpeed)


def groups(
    totals: dict[str, list[int]], label: Callable[[str], str], order: list[str] | None = None
) -> list[Group]:
    keys = order if order is not None else sorted(totals, key=lambda k: (-totals[k][0], k))
    return [Group(k, label(k), totals[k][0], totals[k][1]) for k in keys if k in totals]


def breakdowns(videos: VideoQuerySet, filters: VideoFilters, stats: LibraryStats) -> None:
    rows = (
        apply_filters(videos, filters)
        .order_by()
        .values_list(*FACETS.values())
        .annotate(n=Count("*"), size=Sum("size"), seconds=Sum("duration"))
    )
    add_breakdowns(rows, stats)


def add_breakdowns(rows: Iterable[Sequence[Any]], stats: LibraryStats) -> None:
    """Totals and the per-facet groups from (video codec, audio codec, container, resolution,
    videos, bytes, seconds) rows."""
    by: dict[str, dict[str, list[int]]] = {name: defaultdict(lambda: [0, 0]) for name in FACETS}
    seconds = 0.0
    for video_codec, audio_codec, container, resolution, n, size, secs in rows:
        size = int(size or 0)
        stats.videos += n
        stats.bytes += size
        seconds += secs or 0.0
        combo = (video_codec, audio_codec or NO_AUDIO, container, resolution)
        for name, value in zip(FACETS, combo, strict=True):
            by[name][value][0] += n
            by[name][value][1] += size
    stats.hours = seconds / 3600
    stats.by_video_codec = groups(by["video_codec"], codec_name)
    stats.by_container = groups(by["container"], container_name)
    order = [key for key, _, _ in RESOLUTIONS]
    stats.by_resolution = groups(by["resolution"], RESOLUTION_NAMES.__getitem__, order)


def library_stats(filters: VideoFilters) -> LibraryStats:
    if filters.active:
        stats = video_stats(filters)
    else:
        # Three passes over every row; kept until a video changes (measured: docs/benchmarks.md).
        stats = cached(f"stats:{STATS_SHAPE}", lambda: video_stats(filters))
    last = Job.objects.exclude(status__in=[Status.PENDING, Status.RUNNING]).first()
    stats.last_scan_errors = last.error_count if last is not None else None
    stats.recent_scans = [scan_speed(job) for job in Job.objects.all()[:RECENT_SCANS]]
    return stats


def video_stats(filters: VideoFilters) -> LibraryStats:
    """The numbers read from the videos (the scans' are added by `library_stats`)."""
    stats = LibraryStats()
    present = Video.objects.present()
    # Driven by the few missing rows' ids, never by a filter's index over the whole table.
    missing_ids = Video.objects.filter(missing=True).values("pk")
    stats.missing = apply_filters(Video.objects.filter(pk__in=missing_ids), filters).count()
    if connection.vendor == "postgresql":
        one_pass(apply_filters(present, filters), stats)
    else:
        separate_passes(present, filters, stats)
    return stats


def separate_passes(present: VideoQuerySet, filters: VideoFilters, stats: LibraryStats) -> None:
    breakdowns(present, filters, stats)
    filtered = apply_filters(present, filters).order_by()
    folders = (
        filtered.values_list("folder")
        .annotate(n=Count("*"), size=Sum("size"))
        .order_by("-size", "folder")[:LARGEST_FOLDERS]
    )
    stats.largest_folders = [FolderSize(folder, n, size or 0) for folder, n, size in folders]
    months = (
        filtered.annotate(month=month_of_added())
        .values_list("month")
        .annotate(n=Count("*"))
        .order_by("month")
    )
    stats.added_per_month = [Month(month_text(month), n) for month, n in months]


# One pass over the filtered rows feeds three groupings; GROUPING() tells which row is whose.
ONE_PASS = """
SELECT GROUPING(folder), GROUPING(month), video_codec, audio_codec, container_kind,
       resolution_class, folder, month, COUNT(*), SUM(size), SUM(duration)
FROM ({rows}) AS filtered
GROUP BY GROUPING SETS
    ((video_codec, audio_codec, container_kind, resolution_class), (folder), (month))
ORDER BY SUM(size) DESC, folder
"""


def one_pass(filtered: VideoQuerySet, stats: LibraryStats) -> None:
    """PostgreSQL: the breakdowns, the largest folders and the months from one scan of the rows.

    The rows come ordered by bytes then folder (the database's collation), so the first folders
    are the largest ones exactly as a query of their own would rank them.
    """
    columns = (*FACETS.values(), "folder", "month", "size", "duration")
    rows_sql, params = (
        filtered.order_by().annotate(month=month_of_added()).values_list(*columns).query
    ).sql_with_params()
    facet_rows: list[tuple[Any, ...]] = []
    folders: list[FolderSize] = []
    months: list[tuple[date | datetime, int]] = []
    with connection.cursor() as cursor:
        cursor.execute(ONE_PASS.format(rows=rows_sql), params)
        for no_folder, no_month, *combo, folder, month, n, size, secs in cursor.fetchall():
            if not no_folder:
                if len(folders) < LARGEST_FOLDERS:
                    folders.append(FolderSize(folder, n, int(size or 0)))
            elif not no_month:
                months.append((month, n))
            else:
                facet_rows.append((*combo, n, size, secs))
    add_breakdowns(facet_rows, stats)
    stats.largest_folders = folders
    stats.added_per_month = [Month(month_text(m), n) for m, n in sorted(months)]


def month_of_added() -> Func:
    """The month a video was added, computed in the database.

    SQLite stores UTC timestamps as text ("2024-05-01 12:00:00"), so with TIME_ZONE UTC the month
    is its first seven characters: a C function, where TruncMonth calls back into Python per row.
    """
    if connection.vendor == "sqlite" and settings.TIME_ZONE == "UTC":
        return MonthText("created_at")
    return TruncMonth("created_at")


class MonthText(Func):
    """SUBSTR(created_at, 1, 7), its bounds written out: only then does SQLite see the expression
    of the `video_present_month` index (migration 0012) and group by reading it in order."""

    template = "SUBSTR(%(expressions)s, 1, 7)"
    output_field = CharField()


def month_text(month: date | datetime | str) -> str:
    if isinstance(month, str):
        return month
    return f"{month.year:04d}-{month.month:02d}"


def scan_speed(job: Job) -> ScanSpeed:
    return ScanSpeed(
        job_id=job.pk,
        path=job.path,
        status=job.status,
        files=job.processed,
        seconds=job.elapsed,
        files_per_second=job.files_per_second,
        finished_at=job.finished_at,
    )
