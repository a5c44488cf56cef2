"""Fingerprints for videos stored before stoat took them: existing libraries gain them here.

A scan fingerprints only the files it reads; `manage.py fingerprint` (this) reads the samples
of the others, at most 192 KiB per file, so their moves and copies are recognised too.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from stoat.library.fingerprint import fingerprint_file
from stoat.library.models import Video, storable_inode
from stoat.library.services import FileNotDeletable, file_on_disk

CHUNK = 500


@dataclass
class Backfill:
    total: int = 0
    done: int = 0  # looked at
    fingerprinted: int = 0
    skipped: int = 0  # gone, changed since its scan, or unreadable: a scan will read it
    bytes_read: int = 0


def fingerprint_videos(
    *,
    everything: bool = False,
    should_stop: Callable[[], bool] = lambda: False,
    on_progress: Callable[[Backfill], None] = lambda progress: None,
) -> Backfill:
    """Fingerprint the present videos that have none (all of them with `everything`).

    Only a file still as its scan saw it (size and mtime) is given one, so a fingerprint never
    describes other content than the row's; stops between files once `should_stop()`.
    """
    videos = Video.objects.present()
    if not everything:
        videos = videos.filter(fingerprint="")
    progress = Backfill(total=videos.count())
    last = 0
    while not should_stop():
        # Keyset pages: rows fingerprinted meanwhile drop out of `fingerprint=""` safely.
        page = list(
            videos.filter(pk__gt=last)
            .order_by("pk")
            .only("pk", "path", "path_key", "size", "mtime_ns")[:CHUNK]
        )
        if not page:
            break
        for video in page:
            if should_stop():
                break
            last = video.pk
            fingerprint_one(video, progress)
            progress.done += 1
            on_progress(progress)
    return progress


def fingerprint_one(video: Video, progress: Backfill) -> None:
    try:
        path = file_on_disk(video)
        st = os.stat(path)
        if (st.st_size, st.st_mtime_ns) != (video.size, video.mtime_ns):
            progress.skipped += 1
            return
        print_ = fingerprint_file(path)
    except (OSError, FileNotDeletable):
        progress.skipped += 1
        return
    progress.bytes_read += print_.bytes_read
    # Conditional: a scan that re-read the file meanwhile wrote the newer truth.
    stored = Video.objects.filter(pk=video.pk, size=print_.size, mtime_ns=video.mtime_ns).update(
        fingerprint=print_.digest, inode=storable_inode(print_.inode)
    )
    if stored:
        progress.fingerprinted += 1
    else:
        progress.skipped += 1
