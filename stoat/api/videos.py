"""/api/v1/videos: the library, as the pages show it, and scans started from a client."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import reverse
from ninja import P, PathEx, Query, QueryEx
from ninja import Status as Answer

from stoat.api.errors import ApiError, error_response, not_found
from stoat.api.routing import ApiRouter
from stoat.api.schemas import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    MAX_OFFSET,
    MAX_QUERY_LENGTH,
    ErrorOut,
    FacetsOut,
    FilterQuery,
    ScanIn,
    ScanStartOut,
    VideoListOut,
    VideoOut,
    VideoSearchOut,
    id_named,
)
from stoat.library.duplicates import NotADuplicate, copy_ids, delete_copy
from stoat.library.facets import count_facets
from stoat.library.filters import FilterError, VideoFilters, parse_filters, unknown_libraries
from stoat.library.models import Video
from stoat.library.queries import DEFAULT_SORT, SortKey, library_videos
from stoat.library.services import FileNotDeletable, delete_video, thumbnail_file
from stoat.library.stream import stream_response
from stoat.library.views import export_response, thumbnail_response
from stoat.scans import services
from stoat.scans.models import Status
from stoat.scans.paths import InvalidPath, PathNotAllowed

router = ApiRouter(tags=["videos"])

LIMIT = P(ge=1, le=MAX_LIMIT, description=f"Videos per page, 1–{MAX_LIMIT}.")
OFFSET = P(ge=0, le=MAX_OFFSET, description="Videos to skip.")
# Any text is accepted: one that names no video is a 404, as the older service's UUIDs were.
VIDEO_ID = P(description="The video's id.")
JPEG: dict[str, Any] = {
    "responses": {
        200: {
            "description": "The thumbnail, or a placeholder when none could be made.",
            "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}


def video_json(video: Video, copies: list[tuple[int, bool]] | None = None) -> VideoOut:
    if copies is None:
        copies = copy_ids([video])[video.pk]
    path = thumbnail_file(video)
    thumbnail = None if path is None else str(path)
    return VideoOut(
        id=video.pk,
        path=video.path,
        filename=video.filename,
        folder=video.folder,
        container=video.container,
        duration=video.duration,
        duration_frames=video.duration_frames,
        frame_rate_numerator=video.frame_rate_num,
        frame_rate_denominator=video.frame_rate_den,
        width=video.width,
        height=video.height,
        video_codec=video.video_codec,
        audio_codec=video.audio_codec or None,
        bit_rate=video.bit_rate,
        file_size=video.size,
        thumbnail_path=thumbnail,
        thumbnail_url=reverse("api-1:video_thumbnail", kwargs={"video_id": video.pk}),
        missing=video.missing,
        created_at=video.created_at,
        updated_at=video.updated_at,
        fingerprint=video.fingerprint or None,
        duplicates=[pk for pk, _ in copies],
        identical=[pk for pk, same in copies if same],
        moved_from=video.moved_from or None,
        moved_at=video.moved_at,
    )


def videos_json(videos: Sequence[Video]) -> list[VideoOut]:
    """A page of videos, their copies found in one query."""
    copies = copy_ids(videos)
    return [video_json(v, copies[v.pk]) for v in videos]


def get_video(video_id: str) -> Video:
    pk = id_named(video_id)
    video = None if pk is None else Video.objects.filter(pk=pk).first()
    if video is None:
        raise not_found(f"Video {video_id} not found")
    return video


def request_filters(request: HttpRequest) -> VideoFilters:
    """The filters of the query string (ninja's FilterQuery only documents them): 422 if bad."""
    try:
        filters = parse_filters(dict(request.GET.lists()))
    except FilterError as error:
        raise ApiError(422, "VALIDATION_ERROR", str(error)) from error
    unknown = unknown_libraries(filters)
    if unknown:
        raise ApiError(422, "VALIDATION_ERROR", f"library: no library has the id {unknown[0]}")
    return filters


@router.get(
    "", response={200: VideoListOut, 400: ErrorOut, 422: ErrorOut}, summary="List the library"
)
def list_videos(
    request: HttpRequest,
    filters: Query[FilterQuery],
    limit: QueryEx[int, LIMIT] = DEFAULT_LIMIT,
    offset: QueryEx[int, OFFSET] = 0,
    sort: QueryEx[
        SortKey, P(description="Order: name, added, duration or size; - reverses.")
    ] = DEFAULT_SORT,
) -> VideoListOut:
    """The videos found by scans (missing files left out), a page at a time, filtered."""
    videos = library_videos(Video.objects.all(), sort=sort, filters=request_filters(request))
    page = videos[offset : offset + limit]
    return VideoListOut(
        videos=videos_json(list(page)), total=videos.count(), limit=limit, offset=offset
    )


@router.get(
    "/facets",
    response={200: FacetsOut, 400: ErrorOut, 422: ErrorOut},
    summary="How many videos each filter value gives",
)
def video_facets(request: HttpRequest, filters: Query[FilterQuery]) -> FacetsOut:
    """Each facet value's count (codecs, container, resolution) under the other filters."""
    counts = count_facets(request_filters(request))
    return FacetsOut(total=counts.total, facets=counts.as_dict())


EXPORT: dict[str, Any] = {
    "responses": {
        200: {
            "description": "Every video the filters give, streamed.",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
            },
        }
    }
}


@router.get(
    "/export",
    response={200: None, 400: ErrorOut, 422: ErrorOut},
    openapi_extra=EXPORT,
    summary="Export the filtered library as CSV or JSON",
)
def export_videos(
    request: HttpRequest,
    filters: Query[FilterQuery],
    format: QueryEx[Literal["csv", "json"], P(description="csv or json.")] = "csv",
    sort: QueryEx[SortKey, P(description="Order of the rows.")] = DEFAULT_SORT,
) -> StreamingHttpResponse:
    """All the videos the filters give (missing files left out), streamed a chunk at a time."""
    videos = library_videos(Video.objects.all(), sort=sort, filters=request_filters(request))
    return export_response(videos, format)


@router.get(
    "/search",
    response={200: VideoSearchOut, 400: ErrorOut, 422: ErrorOut},
    summary="Search by file name or folder",
)
def search_videos(
    request: HttpRequest,
    q: QueryEx[str, P(min_length=1, max_length=MAX_QUERY_LENGTH, description="Text to find.")],
    limit: QueryEx[int, LIMIT] = DEFAULT_LIMIT,
    offset: QueryEx[int, OFFSET] = 0,
    sort: QueryEx[SortKey, P(description="Order of the results.")] = DEFAULT_SORT,
) -> VideoSearchOut:
    """Videos whose file name or path contains `q` (any case)."""
    videos = library_videos(Video.objects.all(), query=q, sort=sort)
    page = videos[offset : offset + limit]
    return VideoSearchOut(
        videos=videos_json(list(page)),
        total=videos.count(),
        query=q,
        limit=limit,
        offset=offset,
    )


@router.post(
    "/scan",
    response={202: ScanStartOut, 400: ErrorOut, 403: ErrorOut, 422: ErrorOut},
    summary="Scan a folder",
)
def start_scan(request: HttpRequest, body: ScanIn) -> Answer[ScanStartOut]:
    """Start a scan job, or point at the active one that already covers the folder (202 both)."""
    try:
        start = services.start_scan(body.path, body.recursive)
    except InvalidPath as error:
        raise ApiError(400, "INVALID_PATH", str(error)) from error
    except PathNotAllowed as error:
        raise ApiError(403, "PATH_NOT_ALLOWED", str(error)) from error
    except UnicodeError as error:
        # JSON may carry lone surrogates (`"\ud800"`) that no file name can hold.
        raise ApiError(400, "INVALID_PATH", "That is not a usable path.") from error
    answer = ScanStartOut(
        job_id=str(start.job.pk),
        created=start.created,
        status=Status(start.job.status),
        message=services.describe_start(start),
    )
    return Answer(202, answer)


@router.get(
    "/{video_id}",
    response={200: VideoOut, 400: ErrorOut, 404: ErrorOut},
    summary="One video",
)
def video_detail(request: HttpRequest, video_id: PathEx[str, VIDEO_ID]) -> VideoOut:
    return video_json(get_video(video_id))


@router.get(
    "/{video_id}/thumbnail",
    response={200: None, 400: ErrorOut, 404: ErrorOut},
    openapi_extra=JPEG,
    summary="The video's thumbnail (JPEG)",
)
def video_thumbnail(request: HttpRequest, video_id: PathEx[str, VIDEO_ID]) -> FileResponse:
    return thumbnail_response(get_video(video_id))


VIDEO_FILE: dict[str, Any] = {
    "responses": {
        200: {
            "description": "The whole file.",
            "content": {"video/*": {"schema": {"type": "string", "format": "binary"}}},
        },
        206: {
            "description": "The byte range asked for with `Range`, as `Content-Range` says.",
            "content": {"video/*": {"schema": {"type": "string", "format": "binary"}}},
        },
        416: {
            "description": "The range selects no byte of the file; `Content-Range` gives its size.",
        },
    }
}


@router.get(
    "/{video_id}/stream",
    response={200: None, 206: None, 400: ErrorOut, 404: ErrorOut, 416: ErrorOut, 422: ErrorOut},
    openapi_extra=VIDEO_FILE,
    summary="The video's file, with Range requests",
)
def video_stream(
    request: HttpRequest, video_id: PathEx[str, VIDEO_ID]
) -> HttpResponse | StreamingHttpResponse:
    """The file of a known video: `Range` (one range), `If-Range`, 206 and 416 as HTTP says."""
    return stream_response(request, get_video(video_id), refuse=range_refused)


def range_refused(size: int) -> HttpResponse:
    """The 416 in the API's error shape (stream_response adds `Content-Range: bytes */size`)."""
    return error_response(
        416,
        "RANGE_NOT_SATISFIABLE",
        f"The Range header selects no byte of this file, which has {size} bytes.",
    )


@router.delete(
    "/{video_id}",
    response={204: None, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Remove a video from the library",
)
def remove_video(
    request: HttpRequest,
    video_id: PathEx[str, VIDEO_ID],
    delete_file: QueryEx[bool, P(description="Also delete the file (inside a scan root).")] = False,
) -> Answer[None]:
    """Forget the video and its thumbnail; with `delete_file=true` remove the file from disk too."""
    video = get_video(video_id)
    try:
        delete_video(video, delete_file=delete_file)
    except PathNotAllowed as error:
        raise ApiError(403, "PATH_NOT_ALLOWED", str(error)) from error
    except FileNotDeletable as error:
        raise ApiError(409, "FILE_NOT_DELETABLE", str(error)) from error
    return Answer(204, None)


@router.delete(
    "/{video_id}/copy",
    response={204: None, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Delete one copy of a duplicated file",
)
def remove_copy(request: HttpRequest, video_id: PathEx[str, VIDEO_ID]) -> Answer[None]:
    """Remove this video's file and its entry, only when another present file is identical.

    Every byte of both files is compared first (409 NOT_A_DUPLICATE if none matches, so the
    last copy always stays); only inside STOAT_SCAN_ROOTS (403 PATH_NOT_ALLOWED).
    """
    video = get_video(video_id)
    try:
        delete_copy(video)
    except PathNotAllowed as error:
        raise ApiError(403, "PATH_NOT_ALLOWED", str(error)) from error
    except NotADuplicate as error:
        raise ApiError(409, "NOT_A_DUPLICATE", str(error)) from error
    except FileNotDeletable as error:
        raise ApiError(409, "FILE_NOT_DELETABLE", str(error)) from error
    return Answer(204, None)
