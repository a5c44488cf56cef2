"""The filtered library as CSV or JSON, streamed a chunk of rows at a time (constant memory)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from stoat.library.models import VideoQuerySet
from stoat.library.names import RESOLUTION_NAMES, codec_name, container_name

COLUMNS = [
    "id",
    "path",
    "folder",
    "filename",
    "container",
    "container_kind",
    "duration",
    "width",
    "height",
    "resolution_class",
    "frame_rate_num",
    "frame_rate_den",
    "video_codec",
    "audio_codec",
    "bit_rate",
    "size",
    "missing",
    "created_at",
]
# Rows are read a chunk at a time (a server-side cursor on PostgreSQL, fetchmany on SQLite).
CHUNK = 2000
# Spreadsheets run a cell that starts with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FORMATS = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def rows(videos: VideoQuerySet) -> Iterator[dict[str, Any]]:
    for values in videos.values_list(*COLUMNS).iterator(chunk_size=CHUNK):
        row = dict(zip(COLUMNS, values, strict=True))
        row["container_name"] = container_name(row["container_kind"])
        row["resolution"] = RESOLUTION_NAMES.get(row["resolution_class"], "")
        row["video_codec_name"] = codec_name(row["video_codec"])
        row["audio_codec_name"] = codec_name(row["audio_codec"]) if row["audio_codec"] else ""
        yield row


HEADER = [*COLUMNS, "container_name", "resolution", "video_codec_name", "audio_codec_name"]


def safe_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def csv_lines(videos: VideoQuerySet) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    for count, row in enumerate(rows(videos), start=1):
        writer.writerow([safe_cell(row[name]) for name in HEADER])
        if count % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def json_chunks(videos: VideoQuerySet) -> Iterator[str]:
    yield "["
    parts: list[str] = []
    for count, row in enumerate(rows(videos)):
        row["created_at"] = row["created_at"].isoformat()
        parts.append(("," if count else "") + "\n" + json.dumps(row, ensure_ascii=False))
        if len(parts) == 500:
            yield "".join(parts)
            parts.clear()
    yield "".join(parts) + "\n]\n"


def export_stream(videos: VideoQuerySet, fmt: str) -> Iterator[str]:
    return csv_lines(videos) if fmt == "csv" else json_chunks(videos)
