"""The library's filters, read from a query string and applied to videos: one set for pages and API.

Several values of one filter are given by repeating it (`video_codec=h264&video_codec=hevc`) and
mean "any of these"; different filters all apply. Sizes take units (`700MB`, `1.5 GB`), durations
take seconds or `h:mm:ss`, dates are `YYYY-MM-DD`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from stoat.library.models import Library, VideoQuerySet, display_path
from stoat.library.names import RESOLUTION_NAMES

# The facets: filter name → the column it compares.
FACETS = {
    "video_codec": "video_codec",
    "audio_codec": "audio_codec",
    "container": "container_kind",
    "resolution": "resolution_class",
}
# The audio codec of a video with no sound.
NO_AUDIO = "none"
MAX_VALUES = 50
MAX_VALUE_LENGTH = 64
MAX_FOLDER_LENGTH = 4096
# Powers of 1024, with or without the "i" (KB, KiB): the sizes the pages print (Django's
# filesizeformat), so a file shown as 6.9 KB is under "7KB".
UNITS = {"": 1, "b": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}
SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)
CLOCK = re.compile(r"^\s*(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:\.\d+)?)\s*$")


class FilterError(ValueError):
    """A filter value that cannot be used; the message names the filter and says why."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name


@dataclass(frozen=True)
class VideoFilters:
    video_codec: tuple[str, ...] = ()
    audio_codec: tuple[str, ...] = ()
    container: tuple[str, ...] = ()
    resolution: tuple[str, ...] = ()
    min_duration: float | None = None
    max_duration: float | None = None
    min_size: int | None = None
    max_size: int | None = None
    added_after: date | None = None
    added_before: date | None = None
    folder: str = ""
    # Library ids: videos under any of these saved folders.
    library: tuple[int, ...] = ()

    @property
    def active(self) -> bool:
        return self != VideoFilters()

    @property
    def ranges_active(self) -> bool:
        """Whether a range or the folder is set: the page then shows those boxes open."""
        ranges = (self.min_duration, self.max_duration, self.min_size, self.max_size)
        dates = (self.added_after, self.added_before)
        return any(v is not None for v in (*ranges, *dates)) or bool(self.folder)

    def query_pairs(self) -> list[tuple[str, str]]:
        """The filters as a query string holds them, so a filtered view round-trips."""
        pairs: list[tuple[str, str]] = []
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, tuple):
                pairs.extend((field.name, str(item)) for item in value)
            elif value not in (None, ""):
                pairs.append((field.name, format_value(value)))
        return pairs


FILTER_NAMES = frozenset(field.name for field in fields(VideoFilters))


def format_value(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def parse_size(text: str) -> int:
    match = SIZE.match(text)
    if not match:
        raise ValueError("give a number of bytes, or one with a unit: 700MB, 1.5 GB")
    return int(float(match[1]) * UNITS[match[2].lower()])


def parse_duration(text: str) -> float:
    match = CLOCK.match(text)
    if match:
        hours, minutes, secs = int(match[1] or 0), int(match[2]), float(match[3])
        return hours * 3600 + minutes * 60 + secs
    try:
        value = float(text)
    except ValueError:
        raise ValueError("give seconds (90) or h:mm:ss (1:30:00)") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("give a finite number of seconds")
    return value


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError("give a date as YYYY-MM-DD") from None


def parse_choice(name: str, allowed: Callable[[str], str | None]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        value = allowed(text.strip())
        if value is None:
            raise ValueError(f"{text!r} is not a {name.replace('_', ' ')}")
        return value

    return parse


def codec_value(text: str) -> str | None:
    ok = 0 < len(text) <= MAX_VALUE_LENGTH and re.fullmatch(r"[A-Za-z0-9_.-]+", text)
    return text.lower() if ok else None


def resolution_value(text: str) -> str | None:
    return text.lower() if text.lower() in RESOLUTION_NAMES else None


def library_value(text: str) -> int:
    text = text.strip()
    if not text.isdigit() or len(text) > 18:
        raise ValueError(f"{text[:50]!r} is not a library id")
    return int(text)


def folder_value(text: str) -> str:
    if len(text) > MAX_FOLDER_LENGTH or "\x00" in text:
        raise ValueError("not a folder path")
    text = text.strip()
    if text and not text.startswith("/"):
        raise ValueError("give an absolute folder path")
    return text.rstrip("/") or ("/" if text else "")


PARSERS: dict[str, Callable[[str], Any]] = {
    "video_codec": parse_choice("video_codec", codec_value),
    "audio_codec": parse_choice("audio_codec", codec_value),
    "container": parse_choice("container", codec_value),
    "resolution": parse_choice("resolution", resolution_value),
    "min_duration": parse_duration,
    "max_duration": parse_duration,
    "min_size": parse_size,
    "max_size": parse_size,
    "added_after": parse_date,
    "added_before": parse_date,
    "folder": folder_value,
    "library": library_value,
}
# Filters that take several values, any of which may match.
REPEATABLE = {*FACETS, "library"}
RANGES = [("min_duration", "max_duration"), ("min_size", "max_size")]
RANGES += [("added_after", "added_before")]


def parse_filters(query: Mapping[str, Sequence[str]]) -> VideoFilters:
    """The filters in a query (`QueryDict.lists()` as a dict); raises FilterError for a bad one.

    Empty values are ignored, so a plain GET form with empty fields means "no filter".
    """
    values: dict[str, Any] = {}
    for name, parse in PARSERS.items():
        texts = [text for text in query.get(name, ()) if text.strip()]
        if not texts:
            continue
        if len(texts) > MAX_VALUES:
            raise FilterError(name, f"at most {MAX_VALUES} values")
        try:
            parsed = [parse(text) for text in texts]
        except ValueError as error:
            raise FilterError(name, str(error)) from None
        if name in REPEATABLE:
            values[name] = tuple(dict.fromkeys(parsed))
        elif len(parsed) > 1:
            raise FilterError(name, "give one value")
        else:
            values[name] = parsed[0]
        if isinstance(values[name], (int, float)) and values[name] < 0:
            raise FilterError(name, "must not be negative")
    for low, high in RANGES:
        if low in values and high in values and values[low] > values[high]:
            raise FilterError(low, f"{low} is above {high}")
    return VideoFilters(**values)


def start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def below(folder: str) -> Q:
    """Videos in the folders below `folder` (not in it)."""
    prefix = folder.rstrip("/") + "/"
    if connection.vendor == "sqlite":
        # SQLite's LIKE ignores case; a range on the B-tree is exact and reads the index.
        return Q(folder__gte=prefix, folder__lt=prefix[:-1] + "0")
    # PostgreSQL's LIKE is exact and answered by the trigram index (migration 0003).
    return Q(folder__startswith=prefix)


def folder_condition(folder: str) -> Q:
    """Videos in `folder` or any folder below it."""
    if folder == "/":
        return Q()
    return Q(folder=folder) | below(folder)


def facet_condition(name: str, values: tuple[str, ...]) -> Q:
    column = FACETS[name]
    condition = Q(**{f"{column}__in": values})
    if name == "audio_codec" and NO_AUDIO in values:
        condition |= Q(audio_codec__isnull=True) | Q(audio_codec="")
    return condition


def range_conditions(filters: VideoFilters) -> Q:
    """Every filter but the facets: what the facet counts are counted within."""
    condition = Q()
    if filters.min_duration is not None:
        condition &= Q(duration__gte=filters.min_duration)
    if filters.max_duration is not None:
        condition &= Q(duration__lte=filters.max_duration)
    if filters.min_size is not None:
        condition &= Q(size__gte=filters.min_size)
    if filters.max_size is not None:
        condition &= Q(size__lte=filters.max_size)
    if filters.added_after is not None:
        condition &= Q(created_at__gte=start_of(filters.added_after))
    if filters.added_before is not None:
        # The day named is included: "added before 2024-01-31" keeps that day's videos.
        condition &= Q(created_at__lt=start_of(filters.added_before) + timedelta(days=1))
    if filters.folder:
        condition &= folder_condition(filters.folder)
    if filters.library:
        condition &= library_condition(filters.library)
    return condition


def library_condition(ids: tuple[int, ...]) -> Q:
    """Videos under any of these libraries' folders (below them too, for a recursive one)."""
    condition = Q(pk__in=[])
    for root, recursive in Library.objects.filter(pk__in=ids).values_list("path", "recursive"):
        folder = display_path(root).rstrip("/") or "/"
        condition |= folder_condition(folder) if recursive else Q(folder=folder)
    return condition


def unknown_libraries(filters: VideoFilters) -> list[int]:
    if not filters.library:
        return []
    known = set(Library.objects.filter(pk__in=filters.library).values_list("pk", flat=True))
    return [pk for pk in filters.library if pk not in known]


def apply_filters(videos: VideoQuerySet, filters: VideoFilters) -> VideoQuerySet:
    videos = videos.filter(range_conditions(filters))
    for name in FACETS:
        chosen: tuple[str, ...] = getattr(filters, name)
        if chosen:
            videos = videos.filter(facet_condition(name, chosen))
    return videos
