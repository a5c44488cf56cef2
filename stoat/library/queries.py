"""How the library is listed, searched and sorted: shared by the pages and the API."""

from __future__ import annotations

from stoat.library.filters import VideoFilters, apply_filters
from stoat.library.models import VideoQuerySet

SORTS: dict[str, tuple[str, str]] = {
    "name": ("name_order", "id"),
    "-name": ("-name_order", "-id"),
    "added": ("created_at", "id"),
    "-added": ("-created_at", "-id"),
    "duration": ("duration", "id"),
    "-duration": ("-duration", "-id"),
    "size": ("size", "id"),
    "-size": ("-size", "-id"),
}
SORT_LABELS = {
    "name": "Name (A–Z)",
    "-name": "Name (Z–A)",
    "-added": "Newest first",
    "added": "Oldest first",
    "-duration": "Longest first",
    "duration": "Shortest first",
    "-size": "Largest first",
    "size": "Smallest first",
}
DEFAULT_SORT = "name"


def library_videos(
    videos: VideoQuerySet,
    *,
    query: str = "",
    sort: str = DEFAULT_SORT,
    show_missing: bool = False,
    filters: VideoFilters | None = None,
) -> VideoQuerySet:
    if not show_missing:
        videos = videos.present()
    if filters is not None:
        videos = apply_filters(videos, filters)
    return videos.search(query).order_by(*SORTS.get(sort, SORTS[DEFAULT_SORT]))
