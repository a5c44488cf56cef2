"""A known video's file over HTTP with Range requests, so a browser's player can seek.

The file is found by the video's id and checked against its `path_key`, never taken from the
request. One byte range is served at a time from a bounded reader; several ranges in one request
get the whole file (which HTTP allows). With STOAT_ACCEL_REDIRECT set, nginx sends the bytes.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import quote

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.http import http_date, parse_http_date_safe

from stoat.library.models import Video
from stoat.library.services import FileNotDeletable, file_on_disk

CHUNK = 256 * 1024
RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
# What browsers play (issue 17): these containers holding these codecs.
PLAYABLE_CONTAINERS = {"mp4": "video/mp4", "quicktime": "video/mp4", "webm": "video/webm"}
PLAYABLE_CONTAINERS["ogg"] = "video/ogg"
PLAYABLE_VIDEO = {"h264", "vp8", "vp9", "av1", "theora"}
PLAYABLE_AUDIO = {None, "", "aac", "opus", "vorbis", "mp3"}
OTHER_TYPES = {"matroska": "video/x-matroska", "avi": "video/x-msvideo", "mpegts": "video/mp2t"}


def playable(video: Video) -> bool:
    """Whether a browser's <video> can play the file, by its container and codecs."""
    return (
        video.container_kind in PLAYABLE_CONTAINERS
        and video.video_codec in PLAYABLE_VIDEO
        and video.audio_codec in PLAYABLE_AUDIO
    )


def content_type(video: Video) -> str:
    kind = video.container_kind
    return PLAYABLE_CONTAINERS.get(kind) or OTHER_TYPES.get(kind, "application/octet-stream")


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1


class Unsatisfiable(Exception):
    """The range asks for bytes past the end of the file."""


def parse_range(header: str, size: int) -> ByteRange | None:
    """The one range asked for, None for the whole file; raises Unsatisfiable (416)."""
    match = RANGE.match(header.strip())
    if match is None:
        # Several ranges, or a unit we do not know: the whole file is a valid answer.
        return None
    first, last = match[1], match[2]
    if not first and not last:
        return None
    if not first:
        # A suffix: the last N bytes.
        count = int(last)
        if count == 0:
            raise Unsatisfiable
        return ByteRange(max(0, size - count), size - 1)
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size:
        raise Unsatisfiable
    if end < start:
        return None
    return ByteRange(start, end)


def if_range_matches(header: str, etag: str, mtime: int) -> bool:
    """Whether a Range with this If-Range applies: the validator must name this very file."""
    header = header.strip()
    if header.startswith(('"', "W/")):
        return header == etag
    when = parse_http_date_safe(header)
    return when is not None and when == mtime


def read_bytes(path: str, start: int, length: int) -> Iterator[bytes]:
    """The file's bytes from `start`, `length` of them, a chunk at a time."""
    with open(path, "rb") as file:
        file.seek(start)
        left = length
        while left > 0:
            chunk = file.read(min(CHUNK, left))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk


def locate(video: Video) -> tuple[str, os.stat_result]:
    """The video's file, if it is still a regular file where the scan found it; else 404."""
    try:
        path = file_on_disk(video)
        info = os.stat(path)
    except (FileNotDeletable, OSError) as error:
        raise Http404("The video's file is not on disk.") from error
    if not stat.S_ISREG(info.st_mode):
        raise Http404("The video's file is not a regular file.")
    return path, info


def range_not_satisfiable(size: int) -> HttpResponse:
    """The 416 a page's player gets: no body, only where the file ends."""
    return HttpResponse(status=416)


def stream_response(
    request: HttpRequest,
    video: Video,
    *,
    download: bool = False,
    refuse: Callable[[int], HttpResponse] = range_not_satisfiable,
) -> HttpResponse | StreamingHttpResponse:
    """The file, or the part `Range` asks for; `refuse(size)` makes the 416's body."""
    path, info = locate(video)
    size = info.st_size
    mtime = int(info.st_mtime)
    etag = f'"{size:x}-{info.st_mtime_ns:x}"'
    wanted = request.headers.get("Range", "")
    if_range = request.headers.get("If-Range")
    if wanted and if_range is not None and not if_range_matches(if_range, etag, mtime):
        wanted = ""
    try:
        byte_range = parse_range(wanted, size) if wanted else None
    except Unsatisfiable:
        refused = refuse(size)
        refused["Content-Range"] = f"bytes */{size}"
        refused["Accept-Ranges"] = "bytes"
        return refused
    start, length = (byte_range.start, byte_range.length) if byte_range else (0, size)
    response: HttpResponse | StreamingHttpResponse
    if settings.STOAT_ACCEL_REDIRECT:
        # nginx reads the file and answers the Range itself; stoat only said which file.
        response = HttpResponse(content_type=content_type(video))
        response["X-Accel-Redirect"] = settings.STOAT_ACCEL_REDIRECT + quote(path)
    elif request.method == "HEAD":
        response = HttpResponse(content_type=content_type(video))
        response["Content-Length"] = str(length)
    else:
        body = read_bytes(path, start, length)
        response = StreamingHttpResponse(body, content_type=content_type(video))
        response["Content-Length"] = str(length)
    if byte_range and not settings.STOAT_ACCEL_REDIRECT:
        response.status_code = 206
        response["Content-Range"] = f"bytes {byte_range.start}-{byte_range.end}/{size}"
    response["Accept-Ranges"] = "bytes"
    response["ETag"] = etag
    response["Last-Modified"] = http_date(mtime)
    response["Cache-Control"] = "private, max-age=0, must-revalidate"
    if download:
        name = quote(video.filename)
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{name}"
    return response
