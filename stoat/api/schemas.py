"""The JSON the API reads and writes, with the field names the older service used."""

from __future__ import annotations

import re
from datetime import datetime

from ninja import Schema
from pydantic import ConfigDict, Field

from stoat.scans.models import Status

# Ids are SQLite/PostgreSQL 64-bit integers: a larger number is no id (and would overflow).
MAX_ID = 2**63 - 1
# An id in a path is a name: only the digits stoat itself writes can name a row.
CANONICAL_ID = re.compile(r"[1-9][0-9]{0,18}")
# Deeper pages than this are never useful and keep OFFSET far from integer overflow.
MAX_OFFSET = 10**9
MAX_LIMIT = 100
DEFAULT_LIMIT = 20
MAX_QUERY_LENGTH = 500


def id_named(name: str) -> int | None:
    """The row id that `name` names, or None when it can name none (UUIDs, words, 0, -1, 2**64)."""
    if CANONICAL_ID.fullmatch(name) is None:
        return None
    number = int(name)
    return number if number <= MAX_ID else None


class ErrorDetail(Schema):
    code: str = Field(examples=["NOT_FOUND"])
    message: str = Field(examples=["Job 123 not found"])


class ErrorOut(Schema):
    detail: ErrorDetail


class VideoOut(Schema):
    id: int
    path: str
    filename: str
    folder: str
    container: str
    duration: float | None = Field(description="Seconds.")
    duration_frames: int | None
    frame_rate_numerator: int | None
    frame_rate_denominator: int | None
    width: int
    height: int
    video_codec: str = Field(examples=["h264"])
    audio_codec: str | None = Field(examples=["aac"])
    bit_rate: int | None
    file_size: int = Field(description="Bytes.")
    thumbnail_path: str | None = Field(description="The JPEG on the server, if one was made.")
    thumbnail_url: str
    missing: bool = Field(description="The last scan of its folder did not find the file.")
    created_at: datetime
    updated_at: datetime
    fingerprint: str | None = Field(
        description="Size and sampled content, hashed (XXH3-128): equal for copies of one file."
    )
    duplicates: list[int] = Field(
        description="Ids of the other videos with the same size and fingerprint (probably copies)."
    )
    identical: list[int] = Field(
        description="Those of `duplicates` confirmed identical by a hash of every byte."
    )
    moved_from: str | None = Field(description="Where the file was before its last move.")
    moved_at: datetime | None = Field(description="When a scan noticed that move.")


class VideoListOut(Schema):
    videos: list[VideoOut]
    total: int
    limit: int
    offset: int


class FilterQuery(Schema):
    """The library's filters; repeat a facet filter for several values (any of them match)."""

    video_codec: list[str] = Field(default=[], description="FFmpeg's name: h264, hevc, av1, …")
    audio_codec: list[str] = Field(default=[], description="aac, opus, …, or none for silent.")
    container: list[str] = Field(
        default=[], description="mp4, quicktime, matroska, webm, avi, mpegts, mpegps, flv, asf, …"
    )
    resolution: list[str] = Field(
        default=[], description="By the longer side: sd, 720p, 1080p, 1440p, 4k, 8k."
    )
    min_duration: str | None = Field(default=None, description="Seconds, or h:mm:ss.")
    max_duration: str | None = Field(default=None, description="Seconds, or h:mm:ss.")
    min_size: str | None = Field(default=None, description="Bytes, or with a unit: 700MB.")
    max_size: str | None = Field(default=None, description="Bytes, or with a unit: 1.5GB.")
    added_after: str | None = Field(default=None, description="YYYY-MM-DD, that day included.")
    added_before: str | None = Field(default=None, description="YYYY-MM-DD, that day included.")
    folder: str | None = Field(default=None, description="This folder and those below it.")
    library: list[str] = Field(default=[], description="A library's id: the videos under it.")


class FacetsOut(Schema):
    total: int = Field(description="Videos the filters give.")
    facets: dict[str, dict[str, int]] = Field(
        description="Per facet, each value's count with the other filters applied.",
        examples=[{"video_codec": {"h264": 12, "hevc": 3}}],
    )


class VideoSearchOut(Schema):
    videos: list[VideoOut]
    total: int
    query: str
    limit: int
    offset: int


class ScanIn(Schema):
    # Strict: `"recursive": "no"` is a mistake to report, not a truthy string.
    model_config = ConfigDict(strict=True, extra="forbid")

    path: str = Field(examples=["/srv/videos"], description="An absolute folder path.")
    recursive: bool = True


class ScanStartOut(Schema):
    job_id: str
    created: bool = Field(description="False when an active scan already covers the folder.")
    status: Status
    message: str


class ScanErrorOut(Schema):
    path: str
    error: str


class NotVideoOut(Schema):
    path: str
    reason: str


class JobResultOut(Schema):
    scanned: int
    new: int
    updated: int
    skipped: int = Field(description="Files not stored: `unchanged` plus `not_video`.")
    unchanged: int = Field(description="Files stored already, as they are: not read again.")
    not_video: int = Field(description="Files read and left out: no video stream (audio, art).")
    not_video_files: list[NotVideoOut] = Field(description="The first 1000 of them, and why.")
    errors: list[ScanErrorOut]
    errors_total: int = Field(description="All file errors; `errors` lists the first 1000.")
    moved: int = Field(description="Files found at a new path that kept their video (moves).")
    missing: int = Field(description="Stored videos whose file this scan no longer found.")


class JobOut(Schema):
    job_id: str
    status: Status
    progress: float | None = Field(
        ge=0.0, le=1.0, description="Share of files read; null until the file count is known."
    )
    result: JobResultOut | None = Field(
        description="Set once the job is complete, cancelled or timed out."
    )
    error: str | None
    path: str
    recursive: bool
    cancel_requested: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    worker_lost_at: datetime | None = Field(
        description="When a worker reading this job was last lost (its files were taken over)."
    )
    worker_losses: int = Field(description="How many times a worker was lost on this job.")


class JobListOut(Schema):
    jobs: list[JobOut]
    total: int
    limit: int
    offset: int


class DuplicateGroupOut(Schema):
    size: int = Field(description="Bytes of each copy.")
    fingerprint: str
    videos: list[int] = Field(description="The copies' video ids.")
    wasted: int = Field(description="Bytes the extra copies take.")
    identical: bool = Field(
        description="Every byte of every copy compared equal; false: probably identical."
    )


class DuplicateListOut(Schema):
    groups: list[DuplicateGroupOut]
    total: int
    total_wasted: int
    limit: int
    offset: int
