"""Before a batch reads its files: which of them may be moves or copies of stored videos."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings

from stoat.library.backfill import Backfill, fingerprint_one
from stoat.library.models import Video

if TYPE_CHECKING:  # the scanner calls this module while it plans
    from stoat.scans.scanner import ReadItem, StopCheck


def mark_maybe_moved(items: list[ReadItem], stop: StopCheck | None = None) -> list[ReadItem]:
    """Flag the files whose size some fingerprinted video has: only these may be moves.

    A video stored before fingerprints existed gets one now if a file of its size turned up
    (the only time it is needed), so that file is recognised as its copy. `stop` is asked
    before each such video: once it says stop, every file is flagged and none is read.
    """
    if not settings.STOAT_FINGERPRINTS:
        return items
    sizes = sorted({item.size for item in items})
    known: set[int] = set()
    for start in range(0, len(sizes), 500):
        rows = Video.objects.filter(size__in=sizes[start : start + 500])
        for size, print_ in rows.values_list("size", "fingerprint").distinct():
            if print_:
                known.add(size)
        unprinted = rows.present().filter(fingerprint="").exclude(size__in=known)
        progress = Backfill()
        for video in unprinted.only("pk", "path", "path_key", "size", "mtime_ns"):
            if stop is not None and stop():
                # Not all sizes were looked at: any file may be a move, if it is ever read.
                return [item._replace(maybe_moved=True) for item in items]
            before = progress.fingerprinted
            fingerprint_one(video, progress)
            if progress.fingerprinted > before:
                known.add(video.size)
    if not known:
        return items
    return [item._replace(maybe_moved=True) if item.size in known else item for item in items]
