"""Give moved videos their new paths: the rows reconcile paired with files at new paths.

A moved folder moves thousands of rows at once, so this is set-based: one transaction, one
statement per kind of change run over all its rows. Each statement sets only the columns that
change for its rows: SQLite keeps up every index on a column named in SET (and every partial
index whose condition names it, as the present-only indexes name `missing`), whatever the value.
"""

from __future__ import annotations

import os
import threading
from collections import defaultdict
from collections.abc import Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any, NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from stoat.library import summary
from stoat.library.models import Video, VideoMove, display_path, name_key, path_key
from stoat.library.thumbnails import thumbnail_name
from stoat.scans import lifecycle
from stoat.scans.models import Job
from stoat.scans.rows import insert_many, select_in, update_by_id

if TYPE_CHECKING:
    from stoat.scans.reconcile import Arrival, Candidate


class Row(NamedTuple):
    """What a move needs of the video's row (plain values: a moved folder has thousands)."""

    pk: int
    path: str
    path_key: str
    thumbnail: str
    missing: bool
    missing_job_id: int | None


def unique_key(kind: str, video_id: int) -> str:
    # A NUL can never be in a real path, so this key never meets one a walk finds.
    return path_key(f"\0{kind}:{video_id}")


def apply_moves(job: Job, moves: Sequence[tuple[Arrival, Candidate]]) -> int:
    """Give each moved video its new path; a video whose path another one takes leaves it."""
    stamp = connection.ops.adapt_datetimefield_value(timezone.now())
    targets = {a.key: (a, c) for a, c in moves}
    wanted = {c.id: c.key for _, c in moves}
    moved = back_from_missing = 0
    renames: list[tuple[str, str]] = []
    history: list[tuple[Any, ...]] = []
    # Rows by the columns their move changes: one statement for each such set.
    changes: dict[tuple[str, ...], list[tuple[Any, ...]]] = defaultdict(list)
    renaming: Renaming | None = None
    try:
        with transaction.atomic(), summary.one_mark(), connection.cursor() as cursor:
            displaced = displace(cursor, job, sorted(targets), wanted)
            rows = locked_rows(wanted)
            # A row whose path another row takes first steps aside, so a swap never meets the
            # unique key half done.
            aside = [
                (unique_key("moving", v.pk), v.pk) for v in rows.values() if v.path_key in targets
            ]
            update_by_id(cursor, Video, ["path_key"], aside)
            for key, (arrival, candidate) in sorted(targets.items()):
                video = rows.get(candidate.id)
                if video is None:
                    continue
                path = display_path(arrival.path)
                folder, _, name = path.rpartition("/")
                columns: dict[str, Any] = {
                    "path": path,
                    "path_key": key,
                    "folder": folder,
                    "mtime_ns": arrival.mtime_ns,
                    "inode": arrival.inode,
                    "updated_at": stamp,
                }
                if video.path != path:
                    columns.update(moved_from=video.path, moved_at=stamp)
                    history.append((video.pk, video.path, path, stamp, job.pk))
                    moved += 1
                if name != video.path.rpartition("/")[2]:
                    columns.update(filename=name, name_order=name_key(name))
                if video.thumbnail and video.thumbnail == thumbnail_name(video.path_key):
                    # A thumbnail named after the old path would be overwritten by a file arriving
                    # there later: it takes a name of its own (renamed, not made again).
                    columns["thumbnail"] = thumbnail_name(unique_key("video", video.pk))
                    renames.append((video.thumbnail, columns["thumbnail"]))
                if video.missing:
                    columns["missing"] = False
                    if video.missing_job_id == job.pk:
                        # This scan counted it missing before it found where it went.
                        columns["missing_job_id"] = None
                        back_from_missing += 1
                changes[tuple(columns)].append((*columns.values(), video.pk))
            if renames:
                # Renamed beside the writes (a rename waits on the kernel, not on Python), and
                # named back if the writes fail.
                renaming = Renaming(renames)
                renaming.start()
            for names, params in changes.items():
                # In the table's order (by id): neighbouring rows share pages.
                params.sort(key=itemgetter(-1))
                update_by_id(cursor, Video, names, params)
            insert_many(
                cursor,
                VideoMove,
                ["video_id", "from_path", "to_path", "moved_at", "job_id"],
                history,
            )
            lifecycle.progress(job.pk, moved=moved, missing=displaced - back_from_missing)
    except BaseException:
        if renaming is not None:
            renaming.undo()
        raise
    if renaming is not None:
        renaming.join()
    return moved


def displace(cursor: Any, job: Job, keys: Sequence[str], wanted: dict[int, str]) -> int:
    """Rows on the arrivals' paths that do not move themselves: their content left for good,
    so they step off the path and are missing. Returns how many."""
    ids = [pk for (pk,) in select_in(("id",), "path_key", keys) if pk not in wanted]
    update_by_id(
        cursor,
        Video,
        ["path_key", "missing", "missing_job_id"],
        [(unique_key("replaced", pk), True, job.pk, pk) for pk in ids],
    )
    return len(ids)


def locked_rows(wanted: dict[int, str]) -> dict[int, Row]:
    """The rows to move, locked, and only those still at the path the decision saw: another
    scan may have moved or removed one meanwhile."""
    rows: dict[int, Row] = {}
    fields = ("id", *Row._fields[1:])
    for row in select_in(fields, "id", sorted(wanted), for_update=True):
        video = Row(*row)
        if video.path_key == wanted[video.pk]:
            rows[video.pk] = video
    return rows


class Renaming(threading.Thread):
    """Thumbnails being renamed, and those already renamed (to name them back)."""

    def __init__(self, renames: Sequence[tuple[str, str]]) -> None:
        super().__init__(name="thumbnail renames", daemon=True)
        self.renames = renames
        self.done: list[tuple[str, str]] = []

    def run(self) -> None:
        rename_thumbnails(self.renames, self.done)

    def undo(self) -> None:
        self.join()
        rename_thumbnails([(new, old) for old, new in self.done])


def rename_thumbnails(
    renames: Sequence[tuple[str, str]], done: list[tuple[str, str]] | None = None
) -> None:
    """Give moved videos' thumbnails their own names (plain strings: thousands of them); `done`
    gets each one renamed."""
    folder = str(settings.STOAT_THUMB_DIR)
    made: set[str] = set()
    for old, new in renames:
        target = os.path.join(folder, new)
        parent = os.path.dirname(target)
        try:
            if parent not in made:
                os.makedirs(parent, exist_ok=True)
                made.add(parent)
            os.replace(os.path.join(folder, old), target)
            if done is not None:
                done.append((old, new))
        except OSError:
            pass  # no thumbnail to keep: the page shows the placeholder
