"""/api/v1/libraries: saved folders with their schedule and watch mode, and scanning them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.http import HttpRequest
from ninja import P, PathEx, QueryEx, Schema
from ninja import Status as Answer
from pydantic import ConfigDict, Field

from stoat.api.errors import ApiError, not_found
from stoat.api.routing import ApiRouter
from stoat.api.schemas import ErrorOut, ScanStartOut, id_named
from stoat.library.libraries import (
    LibraryError,
    LibrarySpec,
    describe_schedule,
    next_runs,
    remove_library,
    save_library,
    scan_library,
)
from stoat.library.models import DEFAULT_POLL_SECONDS, Library
from stoat.scans.models import Status
from stoat.watch.state import describe_watch

router = ApiRouter(tags=["libraries"])
LIBRARY_ID = P(description="The library's id.")
WatchName = Literal["auto", "events", "poll", "off"]
CODES = {400: "INVALID_LIBRARY", 403: "PATH_NOT_ALLOWED", 409: "LIBRARY_CONFLICT"}


class LibraryIn(Schema):
    model_config = ConfigDict(strict=True, extra="forbid")

    name: str = Field(examples=["Holidays"])
    path: str = Field(examples=["/srv/videos/holidays"], description="An absolute folder path.")
    recursive: bool = True
    every: str | None = Field(
        default="6h", description="Rescan interval (30m, 6h, 1d); null or 'off' for none."
    )
    cron: str = Field(default="", description="A cron expression instead of `every`.")
    watch: WatchName = "auto"
    poll_seconds: int = DEFAULT_POLL_SECONDS


class LastScanOut(Schema):
    job_id: str
    status: Status
    created_at: datetime
    found: int
    new: int
    errors: int


class LibraryOut(Schema):
    id: int
    name: str
    path: str
    recursive: bool
    every_minutes: int | None
    cron: str
    schedule: str = Field(description="The schedule in words.")
    next_run: datetime | None
    watch: WatchName
    poll_seconds: int
    watch_state: str = Field(description="What the watcher does now, in words.")
    last_scan: LastScanOut | None


def library_json(library: Library, next_run: datetime | None) -> LibraryOut:
    last = library.jobs.order_by("-created_at", "-id").first()
    return LibraryOut(
        id=library.pk,
        name=library.name,
        path=library.path,
        recursive=library.recursive,
        every_minutes=library.every_minutes,
        cron=library.cron,
        schedule=describe_schedule(library),
        next_run=next_run,
        watch=library.watch,  # type: ignore[arg-type]
        poll_seconds=library.poll_seconds,
        watch_state=describe_watch(library),
        last_scan=LastScanOut(
            job_id=str(last.pk),
            status=Status(last.status),
            created_at=last.created_at,
            found=last.found,
            new=last.new,
            errors=last.error_count,
        )
        if last
        else None,
    )


def one_json(library: Library) -> LibraryOut:
    return library_json(library, next_runs([library]).get(library.pk))


def get_library(library_id: str) -> Library:
    pk = id_named(library_id)
    library = None if pk is None else Library.objects.filter(pk=pk).first()
    if library is None:
        raise not_found(f"Library {library_id} not found")
    return library


def save(body: LibraryIn, library: Library | None = None) -> Library:
    spec = LibrarySpec(
        name=body.name,
        path=body.path,
        recursive=body.recursive,
        every=None if body.cron else body.every,
        cron=body.cron,
        watch=body.watch,
        poll_seconds=body.poll_seconds,
    )
    try:
        return save_library(spec, library)
    except LibraryError as error:
        raise ApiError(error.status, CODES[error.status], error.message) from error
    except UnicodeError as error:
        raise ApiError(400, "INVALID_LIBRARY", "That is not a usable path.") from error


@router.get(
    "", response={200: list[LibraryOut], 400: ErrorOut, 422: ErrorOut}, summary="Every library"
)
def list_libraries(request: HttpRequest) -> list[LibraryOut]:
    libraries = list(Library.objects.select_related("lease"))
    runs = next_runs(libraries)
    return [library_json(library, runs.get(library.pk)) for library in libraries]


@router.post(
    "",
    response={201: LibraryOut, 400: ErrorOut, 403: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Add a library (and start its first scan)",
)
def add_library(request: HttpRequest, body: LibraryIn) -> Answer[LibraryOut]:
    library = save(body)
    scan_library(library)
    return Answer(201, one_json(library))


@router.get(
    "/{library_id}",
    response={200: LibraryOut, 400: ErrorOut, 404: ErrorOut},
    summary="One library",
)
def library_detail(request: HttpRequest, library_id: PathEx[str, LIBRARY_ID]) -> LibraryOut:
    return one_json(get_library(library_id))


@router.put(
    "/{library_id}",
    response={
        200: LibraryOut,
        400: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        422: ErrorOut,
    },
    summary="Change a library",
)
def change_library(
    request: HttpRequest, library_id: PathEx[str, LIBRARY_ID], body: LibraryIn
) -> LibraryOut:
    return one_json(save(body, get_library(library_id)))


@router.delete(
    "/{library_id}",
    response={204: None, 400: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Remove a library",
)
def delete_library(
    request: HttpRequest,
    library_id: PathEx[str, LIBRARY_ID],
    forget_videos: QueryEx[bool, P(description="Also forget its videos and thumbnails.")] = False,
) -> Answer[None]:
    """Its scans stay in the job history; its videos stay unless `forget_videos=true`."""
    remove_library(get_library(library_id), forget_videos=forget_videos)
    return Answer(204, None)


@router.post(
    "/{library_id}/scan",
    response={202: ScanStartOut, 400: ErrorOut, 404: ErrorOut},
    summary="Scan a library now",
)
def scan_library_now(
    request: HttpRequest, library_id: PathEx[str, LIBRARY_ID]
) -> Answer[ScanStartOut]:
    """Start its scan, or point at the one already active (202 both)."""
    library = get_library(library_id)
    start = scan_library(library)
    message = (
        f"Scan of library {library.name} queued."
        if start.created
        else f"Library {library.name} is already being scanned: this is that job (none was added)."
    )
    answer = ScanStartOut(
        job_id=str(start.job.pk),
        created=start.created,
        status=Status(start.job.status),
        message=message,
    )
    return Answer(202, answer)
