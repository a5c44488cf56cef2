"""The folder tree: where a folder sits, and what is below it with counts and sizes."""

from __future__ import annotations

import os
from dataclasses import dataclass

from django.db.models import Count, Max, Min, Sum

from stoat.library.filters import below
from stoat.library.models import VideoQuerySet


@dataclass(frozen=True)
class Crumb:
    name: str
    path: str


@dataclass
class SubFolder:
    name: str
    path: str
    videos: int = 0
    bytes: int = 0


def top_folder(videos: VideoQuerySet) -> str:
    """The deepest folder holding every video: the common part of the first and last folder."""
    ends = videos.order_by().aggregate(first=Min("folder"), last=Max("folder"))
    if ends["first"] is None:
        return "/"
    return os.path.commonpath([ends["first"], ends["last"]]) or "/"


def breadcrumbs(folder: str) -> list[Crumb]:
    crumbs = [Crumb("/", "/")]
    path = ""
    for part in folder.strip("/").split("/"):
        if part:
            path = f"{path}/{part}"
            crumbs.append(Crumb(part, path))
    return crumbs


def sub_folders(videos: VideoQuerySet, folder: str) -> list[SubFolder]:
    """Each folder one level below `folder`, with the videos and bytes of everything under it."""
    prefix = folder.rstrip("/") + "/"
    rows = (
        videos.filter(below(folder))
        .order_by()
        .values_list("folder")
        .annotate(n=Count("*"), size=Sum("size"))
    )
    found: dict[str, SubFolder] = {}
    for path, n, size in rows:
        name = path[len(prefix) :].split("/", 1)[0]
        entry = found.setdefault(name, SubFolder(name, prefix + name))
        entry.videos += n
        entry.bytes += size or 0
    return sorted(found.values(), key=lambda entry: entry.name.lower())
