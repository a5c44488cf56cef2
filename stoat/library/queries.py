"""How the library is listed, searched and sorted: shared by the pages and the API."""

from __future__ import annotations

from typing import Literal, NamedTuple, TypeGuard, get_args

from stoat.library.filters import VideoFilters, apply_filters
from stoat.library.models import VideoQuerySet

# The one list of sort names; the API's parameter type and the page's menu both come from here.
SortKey = Literal["name", "-name", "added", "-added", "duration", "-duration", "size", "-size"]
SORT_KEYS: tuple[SortKey, ...] = get_args(SortKey)
DEFAULT_SORT: SortKey = "name"


class Sort(NamedTuple):
    label: str
    order: tuple[str, str]


# In the order the page's menu lists them; the id breaks ties, so pages never overlap.
SORTS: dict[SortKey, Sort] = {
    "name": Sort("Name (A–Z)", ("name_order", "id")),
    "-name": Sort("Name (Z–A)", ("-name_order", "-id")),
    "-added": Sort("Newest first", ("-created_at", "-id")),
    "added": Sort("Oldest first", ("created_at", "id")),
    "-duration": Sort("Longest first", ("-duration", "-id")),
    "duration": Sort("Shortest first", ("duration", "id")),
    "-size": Sort("Largest first", ("-size", "-id")),
    "size": Sort("Smallest first", ("size", "id")),
}


def is_sort_key(name: str) -> TypeGuard[SortKey]:
    return name in SORT_KEYS


def library_videos(
    videos: VideoQuerySet,
    *,
    query: str = "",
    sort: SortKey = DEFAULT_SORT,
    show_missing: bool = False,
    filters: VideoFilters | None = None,
) -> VideoQuerySet:
    if not show_missing:
        videos = videos.present()
    if filters is not None:
        videos = apply_filters(videos, filters)
    return videos.search(query).order_by(*SORTS[sort].order)
