"""/api/v1/stats: the numbers behind the /stats/ page, under the library's filters."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from django.http import HttpRequest
from ninja import Query, Schema
from pydantic import Field

from stoat.api.routing import ApiRouter
from stoat.api.schemas import ErrorOut, FilterQuery
from stoat.api.videos import request_filters
from stoat.library.stats import library_stats

router = ApiRouter(tags=["stats"])


class GroupOut(Schema):
    value: str = Field(examples=["h264"])
    label: str = Field(examples=["H.264"])
    videos: int
    bytes: int


class FolderOut(Schema):
    folder: str
    videos: int
    bytes: int


class MonthOut(Schema):
    month: str = Field(examples=["2024-05"])
    videos: int


class ScanSpeedOut(Schema):
    job_id: int
    path: str
    status: str
    files: int = Field(description="Files read.")
    seconds: float | None
    files_per_second: float | None
    finished_at: datetime | None


class StatsOut(Schema):
    videos: int
    hours: float
    bytes: int
    missing: int = Field(description="Files the last scan of their folder did not find.")
    last_scan_errors: int | None = Field(description="File errors of the latest ended scan.")
    by_video_codec: list[GroupOut]
    by_resolution: list[GroupOut]
    by_container: list[GroupOut]
    largest_folders: list[FolderOut]
    added_per_month: list[MonthOut]
    recent_scans: list[ScanSpeedOut]


@router.get(
    "", response={200: StatsOut, 400: ErrorOut, 422: ErrorOut}, summary="The library in numbers"
)
def library_statistics(request: HttpRequest, filters: Query[FilterQuery]) -> StatsOut:
    """Totals and breakdowns of the videos the filters give, as on the /stats/ page."""
    return StatsOut(**asdict(library_stats(request_filters(request))))
