"""The numbers behind /stats/ and /api/v1/stats, with the library's filters applied.

Totals and the breakdowns by codec, resolution and container are sums over one GROUP BY of the
facet columns (the same query the facet counts read); folders, months and missing files are one
aggregate query each.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.db import connection
from django.db.models import Count, Func, Sum
from django.db.models.functions import Substr, TruncMonth

from stoat.library.filters import FACETS, NO_AUDIO, VideoFilters, apply_filters
from stoat.library.models import Video, VideoQuerySet
from stoat.library.names import RESOLUTION_NAMES, RESOLUTIONS, codec_name, container_name
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
    by: dict[str, dict[str, list[int]]] = {name: defaultdict(lambda: [0, 0]) for name in FACETS}
    seconds = 0.0
    for video_codec, audio_codec, container, resolution, n, size, secs in rows:
        stats.videos += n
        stats.bytes += size or 0
        seconds += secs or 0.0
        combo = (video_codec, audio_codec or NO_AUDIO, container, resolution)
        for name, value in zip(FACETS, combo, strict=True):
            by[name][value][0] += n
            by[name][value][1] += size or 0
    stats.hours = seconds / 3600
    stats.by_video_codec = groups(by["video_codec"], codec_name)
    stats.by_container = groups(by["container"], container_name)
    order = [key for key, _, _ in RESOLUTIONS]
    stats.by_resolution = groups(by["resolution"], RESOLUTION_NAMES.__getitem__, order)


def library_stats(filters: VideoFilters) -> LibraryStats:
    stats = LibraryStats()
    present = Video.objects.present()
    breakdowns(present, filters, stats)
    # Driven by the few missing rows' ids, never by a filter's index over the whole table.
    missing_ids = Video.objects.filter(missing=True).values("pk")
    stats.missing = apply_filters(Video.objects.filter(pk__in=missing_ids), filters).count()
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
    last = Job.objects.exclude(status__in=[Status.PENDING, Status.RUNNING]).first()
    stats.last_scan_errors = last.error_count if last is not None else None
    stats.recent_scans = [scan_speed(job) for job in Job.objects.all()[:RECENT_SCANS]]
    return stats


def month_of_added() -> Func:
    """The month a video was added, computed in the database.

    SQLite stores UTC timestamps as text ("2024-05-01 12:00:00"), so with TIME_ZONE UTC the month
    is its first seven characters: a C function, where TruncMonth calls back into Python per row.
    """
    if connection.vendor == "sqlite" and settings.TIME_ZONE == "UTC":
        return Substr("created_at", 1, 7)
    return TruncMonth("created_at")


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
