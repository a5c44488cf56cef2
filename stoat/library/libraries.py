"""Libraries (saved folders): the checks and changes that the page, admin, API and command share."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from stoat.library.models import (
    DEFAULT_EVERY_MINUTES,
    DEFAULT_POLL_SECONDS,
    Library,
    WatchMode,
)
from stoat.library.services import thumbnail_file
from stoat.scans import lifecycle, services
from stoat.scans.lifecycle import ScanStart
from stoat.scans.models import Origin
from stoat.scans.paths import InvalidPath, PathNotAllowed, check_scan_path
from stoat.scans.within import is_within

# django-q2 keeps a schedule's minutes in a small integer.
MAX_EVERY_MINUTES = 32767
MIN_POLL_SECONDS = 5
MAX_POLL_SECONDS = 24 * 3600
MAX_NAME = 100
UNITS = {"s": 1 / 60, "m": 1, "min": 1, "h": 60, "d": 24 * 60}
EVERY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d)?\s*$", re.IGNORECASE)
NO_SCHEDULE = ("", "off", "never", "none")


class LibraryError(ValueError):
    """A library cannot be saved as asked; nothing was changed. `status` is the HTTP answer."""

    def __init__(self, field: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.status = status


@dataclass(frozen=True)
class LibrarySpec:
    """What a person asks a library to be, before it is checked."""

    name: str
    path: str
    recursive: bool = True
    # Left as DEFAULT: every 6 hours, unless a cron expression is given.
    every: str | int | None = "default"
    cron: str = ""
    watch: str = WatchMode.AUTO
    poll_seconds: int = DEFAULT_POLL_SECONDS


def parse_every(every: str | int | None) -> int | None:
    """Minutes between rescans from `6h`, `30m`, `1d`, `90` (minutes); None for no schedule."""
    if every is None:
        return None
    if isinstance(every, int):
        minutes: float = every
    else:
        if every.strip().lower() in NO_SCHEDULE:
            return None
        match = EVERY.match(every)
        if match is None:
            raise LibraryError(
                "every", f"{every!r} is not an interval: write it like 30m, 6h or 1d."
            )
        minutes = float(match[1]) * UNITS[(match[2] or "m").lower()]
    if minutes < 1:
        raise LibraryError("every", "The rescan interval must be at least one minute.")
    if minutes > MAX_EVERY_MINUTES:
        raise LibraryError(
            "every", "The rescan interval can be at most 22 days; use a cron expression for longer."
        )
    if minutes != int(minutes):
        raise LibraryError("every", "The rescan interval must be a whole number of minutes.")
    return int(minutes)


def check_cron(expression: str) -> str:
    from croniter import croniter

    expression = " ".join(expression.split())
    if not expression:
        return ""
    # Five fields only: croniter also takes seconds and years, which django-q2 does not show.
    if len(expression.split(" ")) != 5 or not croniter.is_valid(expression):
        raise LibraryError(
            "cron",
            f"{expression!r} is not a cron expression: give five fields, like '0 3 * * *' "
            "(minute hour day-of-month month day-of-week).",
        )
    return expression


def other_libraries(library: Library | None) -> QuerySet[Library]:
    others = Library.objects.all()
    return others if library is None or library.pk is None else others.exclude(pk=library.pk)


def check_path(path: str, library: Library | None) -> str:
    try:
        path = check_scan_path(path)
    except PathNotAllowed as error:
        raise LibraryError("path", str(error), status=403) from error
    except InvalidPath as error:
        raise LibraryError("path", str(error)) from error
    real = os.path.realpath(path)
    others = other_libraries(library)
    for other in others.only("name", "path"):
        other_real = os.path.realpath(other.path)
        if is_within(real, [other_real]) or is_within(other_real, [real]):
            raise LibraryError(
                "path",
                f"{path} overlaps the library {other.name!r} ({other.path}): "
                "a folder belongs to one library.",
                status=409,
            )
    return path


def check_spec(spec: LibrarySpec, library: Library | None = None) -> LibrarySpec:
    """The spec made clean (normalised path, interval in minutes); raises LibraryError."""
    name = " ".join(spec.name.split())
    if not name:
        raise LibraryError("name", "Give the library a name.")
    if len(name) > MAX_NAME:
        raise LibraryError("name", f"A library name can be at most {MAX_NAME} characters.")
    if other_libraries(library).filter(name=name).exists():
        raise LibraryError("name", f"There is already a library named {name!r}.", status=409)
    if spec.watch not in WatchMode.values:
        raise LibraryError(
            "watch",
            f"{spec.watch!r} is not a watch mode: use one of {', '.join(WatchMode.values)}.",
        )
    if not MIN_POLL_SECONDS <= spec.poll_seconds <= MAX_POLL_SECONDS:
        raise LibraryError(
            "poll_seconds",
            f"The polling interval must be between {MIN_POLL_SECONDS} s and one day.",
        )
    cron = check_cron(spec.cron)
    if spec.every == "default":
        every = None if cron else DEFAULT_EVERY_MINUTES
    else:
        every = parse_every(spec.every)
    if cron and every is not None:
        raise LibraryError("cron", "Give an interval or a cron expression, not both.")
    path = check_path(spec.path, library)
    return replace(spec, name=name, path=path, every=every, cron=cron)


def apply(library: Library, spec: LibrarySpec) -> None:
    library.name = spec.name
    library.path = spec.path
    library.recursive = spec.recursive
    library.every_minutes = spec.every if isinstance(spec.every, int) else None
    library.cron = spec.cron
    library.watch = spec.watch
    library.poll_seconds = spec.poll_seconds


def sync_schedule(library: Library) -> None:
    from stoat.scans.tasks import sync_library_schedule

    sync_library_schedule(library)


def save_library(spec: LibrarySpec, library: Library | None = None) -> Library:
    """Add a library (or change one) with its schedule, in one transaction; raises LibraryError."""
    clean = check_spec(spec, library)
    library = library or Library()
    apply(library, clean)
    try:
        with transaction.atomic():
            library.save()
            sync_schedule(library)
    except IntegrityError as error:
        # Another request saved the same name or folder between the check and the insert.
        raise LibraryError(
            "name", f"A library named {clean.name!r} or of {clean.path} already exists.", 409
        ) from error
    return library


def remove_library(library: Library, *, forget_videos: bool) -> int:
    """Delete the library and its schedule (its scans stay in the history); with
    `forget_videos`, its videos and thumbnails too. Returns how many videos were forgotten.
    """
    from stoat.scans.tasks import remove_library_schedule

    for job_id in library.jobs.filter(status__in=("pending", "running")).values_list(
        "pk", flat=True
    ):
        lifecycle.request_cancel(job_id)
    thumbnails: list[Path] = []
    forgotten = 0
    with transaction.atomic():
        if forget_videos:
            videos = library.videos()
            found = (thumbnail_file(video) for video in videos.only("thumbnail"))
            thumbnails = [path for path in found if path is not None]
            forgotten, _ = videos.delete()
        remove_library_schedule(library.pk)
        library.delete()
    for path in thumbnails:
        path.unlink(missing_ok=True)
    return forgotten


def scan_library(
    library: Library,
    *,
    origin: Origin = Origin.MANUAL,
    folder: str | None = None,
    recursive: bool | None = None,
    label: str = "",
) -> ScanStart:
    """Start a scan of the library (or of one folder in it), or return the one already active."""
    return services.start_scan(
        folder or library.path,
        library.recursive if recursive is None else recursive,
        checked=True,
        library=library,
        origin=origin,
        label=label,
    )


def describe_schedule(library: Library) -> str:
    if library.cron:
        return f"cron {library.cron}"
    if library.every_minutes is None:
        return "only when asked"
    return f"every {format_minutes(library.every_minutes)}"


def largest_unit(minutes: int) -> tuple[int, str]:
    """The minutes as a count of the largest whole unit: (1, "d") for 1440, (90, "min") for 90."""
    if minutes % (24 * 60) == 0:
        return minutes // (24 * 60), "d"
    if minutes % 60 == 0:
        return minutes // 60, "h"
    return minutes, "min"


def format_minutes(minutes: int) -> str:
    count, unit = largest_unit(minutes)
    # "every day" reads better than "every 1 d"; counts above one keep the short unit.
    return {"d": "day", "h": "hour", "min": "minute"}[unit] if count == 1 else f"{count} {unit}"


def every_text(minutes: int | None) -> str:
    """The interval as the form's Rescan every box takes it back: 1d, 6h, 45m."""
    if minutes is None:
        return ""
    count, unit = largest_unit(minutes)
    return f"{count}{unit[0]}"


def next_runs(libraries: list[Library]) -> dict[int, datetime | None]:
    """When each library's schedule fires next (UTC), by library id."""
    from stoat.scans.tasks import library_next_runs

    return library_next_runs([library.pk for library in libraries])
