"""Copies of one file: found by equal size and fingerprint, confirmed by a full-content hash.

A fingerprint reads only samples, so two files of equal size may share one and still differ:
until both files' every byte was hashed, a copy is only "probably identical".
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.db.models import Count, F

from stoat.library.fingerprint import content_hash
from stoat.library.models import Video
from stoat.library.services import (
    FileNotDeletable,
    check_deletable,
    delete_video,
    file_on_disk,
)


@dataclass(frozen=True)
class Group:
    """Present videos that share a size and a fingerprint."""

    size: int
    fingerprint: str
    videos: list[Video]

    @property
    def wasted(self) -> int:
        """Bytes the extra copies take."""
        return self.size * (len(self.videos) - 1)

    @property
    def confirmed(self) -> bool:
        """Every copy's full content was hashed, and all hashes agree."""
        hashes = {v.content_hash for v in self.videos}
        return len(hashes) == 1 and "" not in hashes


def group_keys() -> Iterable[tuple[int, str, int]]:
    """(size, fingerprint, copies) of every duplicate group, most wasted space first."""
    rows = (
        Video.objects.present()
        .exclude(fingerprint="")
        .values("size", "fingerprint")
        .annotate(copies=Count("id"))
        .filter(copies__gt=1)
        .annotate(wasted=F("size") * (F("copies") - 1))
        .order_by("-wasted", "fingerprint")
        .values_list("size", "fingerprint", "copies")
    )
    return rows


def load_groups(keys: Sequence[tuple[int, str, int]]) -> list[Group]:
    """The groups of `keys` with their videos, in the order of `keys`."""
    members: dict[tuple[int, str], list[Video]] = defaultdict(list)
    sizes = {size for size, _, _ in keys}
    prints = {fp for _, fp, _ in keys}
    for video in Video.objects.present().filter(size__in=sizes, fingerprint__in=prints):
        members[(video.size, video.fingerprint)].append(video)
    return [
        Group(size, fp, sorted(members[(size, fp)], key=lambda v: v.pk))
        for size, fp, _ in keys
        if len(members[(size, fp)]) > 1
    ]


def copies_of(video: Video) -> list[Video]:
    """The other present videos with this one's size and fingerprint."""
    if not video.fingerprint:
        return []
    return list(
        Video.objects.present()
        .filter(size=video.size, fingerprint=video.fingerprint)
        .exclude(pk=video.pk)
        .order_by("path", "pk")
    )


def copy_ids(videos: Sequence[Video]) -> dict[int, list[tuple[int, bool]]]:
    """For each video, its copies' ids, each with whether every byte was found equal.

    One query for a whole page of videos.
    """
    keys = {(v.size, v.fingerprint) for v in videos if v.fingerprint}
    found: dict[tuple[int, str], list[tuple[int, str]]] = defaultdict(list)
    if keys:
        rows = Video.objects.present().filter(
            size__in={s for s, _ in keys}, fingerprint__in={f for _, f in keys}
        )
        for pk, size, fp, digest in rows.order_by("pk").values_list(
            "pk", "size", "fingerprint", "content_hash"
        ):
            found[(size, fp)].append((pk, digest))
    return {
        v.pk: [
            (pk, bool(digest) and digest == v.content_hash)
            for pk, digest in found.get((v.size, v.fingerprint), [])
            if pk != v.pk
        ]
        for v in videos
    }


def unchanged_on_disk(video: Video) -> bool:
    try:
        st = os.stat(file_on_disk(video))
    except (OSError, FileNotDeletable):
        return False
    return (st.st_size, st.st_mtime_ns) == (video.size, video.mtime_ns)


def hash_file(video: Video) -> str:
    """The full-content hash of the video's file, stored on the row; "" when it cannot be read.

    Stored only while the file is as the scan saw it (size and mtime), so a hash never
    describes other content than the row's.
    """
    if not unchanged_on_disk(video):
        return ""
    try:
        digest = content_hash(file_on_disk(video))
    except (OSError, FileNotDeletable):
        return ""
    if not unchanged_on_disk(video):
        return ""  # it changed while it was read
    Video.objects.filter(pk=video.pk, size=video.size, mtime_ns=video.mtime_ns).update(
        content_hash=digest
    )
    video.content_hash = digest
    return digest


def confirm(videos: Iterable[Video], on_file: Callable[[Video], None] | None = None) -> None:
    """Hash every byte of each video's file that was not hashed yet."""
    for video in videos:
        if not video.content_hash:
            hash_file(video)
        if on_file is not None:
            on_file(video)


def confirm_group_of(video: Video) -> Group:
    """Hash the video and its copies in full; the group as it now stands."""
    group = [video, *copies_of(video)]
    confirm(group)
    return Group(video.size, video.fingerprint, group)


def identical_copies(video: Video) -> list[Video]:
    """The copies whose full content was hashed equal to this video's."""
    if not video.content_hash:
        return []
    return [c for c in copies_of(video) if c.content_hash == video.content_hash]


class NotADuplicate(Exception):
    """The video is not a confirmed copy of another present file; nothing was removed."""


def delete_copy(video: Video) -> Video:
    """Remove this copy's file and its video, keeping an identical copy; returns the one kept.

    Only inside STOAT_SCAN_ROOTS (PathNotAllowed), only when another present file was confirmed
    byte for byte identical right now (NotADuplicate), so the last copy is never removed.
    """
    check_deletable(video)  # refuses before any hashing when the file may not be removed
    confirm_group_of(video)
    # A copy hashed earlier counts while its file is still as it was hashed.
    kept = [c for c in identical_copies(video) if unchanged_on_disk(c)]
    if not video.content_hash or not kept:
        raise NotADuplicate(
            f"{video.path} is not a confirmed copy: no other file in the library has the same"
            " content, so it is not removed."
        )
    delete_video(video, delete_file=True)
    return kept[0]
