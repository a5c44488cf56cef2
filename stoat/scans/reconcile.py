"""Moves and renames: which files found at new paths are videos the library already knew.

Readers only set such files aside (`ScanArrival`, after a fingerprint: at most 192 KiB read);
once the scan's reading ends, `reconcile` looks at them all at once, so neither the order of the
walk nor the split into batches changes the answer. `decide` is the rule itself and does no I/O.

The rule: a file at a new path is the video it matches (equal size and fingerprint) when that
video's file has left its own path: the path is gone, or holds other content now (a swap).
If the video's file is still where it was, the new file is a copy and is read as a new video.
Among several candidates, the same file name wins, then the same inode, then the closest mtime.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from stoat.library.models import Video, VideoMove, display_path, name_key, path_key
from stoat.library.services import FileNotDeletable, real_path
from stoat.library.thumbnails import thumbnail_name
from stoat.scans import lifecycle
from stoat.scans.models import Job, ScanArrival


@dataclass(frozen=True)
class Arrival:
    path: str
    size: int
    mtime_ns: int
    inode: int | None
    fingerprint: str
    existing: bool = False

    @property
    def name(self) -> str:
        return os.path.basename(self.path)

    @property
    def key(self) -> str:
        return path_key(self.path)


@dataclass(frozen=True)
class Candidate:
    id: int
    path: str
    key: str
    size: int
    mtime_ns: int
    inode: int | None
    fingerprint: str
    # Its file is no longer at its path (gone, or other content there now).
    vacated: bool

    @property
    def name(self) -> str:
        return os.path.basename(self.path)


def preference(arrival: Arrival, candidate: Candidate) -> tuple[bool, bool, bool, int, str, int]:
    """Lower is better: the same path (a file changed in place), then the same name, the same
    inode, the closest mtime; then a fixed order."""
    return (
        arrival.key != candidate.key,
        arrival.name != candidate.name,
        arrival.inode is None or arrival.inode != candidate.inode,
        abs(arrival.mtime_ns - candidate.mtime_ns),
        arrival.path,
        candidate.id,
    )


def decide(
    arrivals: Iterable[Arrival], candidates: Iterable[Candidate]
) -> tuple[list[tuple[Arrival, Candidate]], list[Arrival]]:
    """Pair arrivals with the vacated videos they are: (moves, arrivals to read as files).

    Each video takes at most one arrival and each arrival at most one video. An arrival that
    pairs with the video at its own path is that file changed in place: it is read again. The
    answer depends only on the two sets, never on the order they come in.
    """
    by_identity: dict[tuple[int, str], list[Candidate]] = defaultdict(list)
    for candidate in candidates:
        if candidate.vacated and candidate.fingerprint:
            by_identity[(candidate.size, candidate.fingerprint)].append(candidate)
    pairs = [
        (preference(a, c), a, c)
        for a in arrivals
        for c in by_identity.get((a.size, a.fingerprint), ())
    ]
    pairs.sort(key=lambda pair: pair[0])
    taken_paths: set[str] = set()
    taken_ids: set[int] = set()
    moves: list[tuple[Arrival, Candidate]] = []
    for _, arrival, candidate in pairs:
        if arrival.path in taken_paths or candidate.id in taken_ids:
            continue
        taken_paths.add(arrival.path)
        taken_ids.add(candidate.id)
        if arrival.key != candidate.key:
            moves.append((arrival, candidate))
    moved_paths = {arrival.path for arrival, _ in moves}
    unmatched = sorted(
        {a.path: a for a in arrivals if a.path not in moved_paths}.values(), key=lambda a: a.path
    )
    return moves, unmatched


# -- the I/O around the decision ------------------------------------------------------------------
def has_left(path: str, key: str, size: int, mtime_ns: int) -> bool:
    """True when the file recorded at `path` is no longer there (gone, or other content now)."""
    try:
        st = os.stat(real_path(path, key))
    except FileNotDeletable:
        return False  # stoat cannot tell which file it is: assume it is still there
    except OSError:
        return True
    return (st.st_size, st.st_mtime_ns) != (size, mtime_ns)


CANDIDATE_FIELDS = ("id", "path", "path_key", "size", "mtime_ns", "inode", "fingerprint")


def left_paths(
    identities: Collection[tuple[int, str]], stop: Callable[[], bool] | None = None
) -> dict[tuple[int, str], set[str]] | None:
    """For each (size, fingerprint), the path keys of the videos with it that left their path.

    What a reader asks of a chunk of files before it sets them aside: one query, one stat per
    video found. None when `stop` (asked before each stat) said stop: the answer is partial.
    """
    found: dict[tuple[int, str], set[str]] = defaultdict(set)
    sizes = sorted({size for size, _ in identities})
    prints = {fp for _, fp in identities}
    for start in range(0, len(sizes), 500):
        rows = Video.objects.filter(size__in=sizes[start : start + 500], fingerprint__in=prints)
        for path, key, size, mtime_ns, fp in rows.values_list(
            "path", "path_key", "size", "mtime_ns", "fingerprint"
        ):
            if (size, fp) not in identities:
                continue
            if stop is not None and stop():
                return None
            if has_left(path, key, size, mtime_ns):
                found[(size, fp)].add(key)
    return found


def load_candidates(arrivals: Sequence[Arrival]) -> list[Candidate]:
    identities = {(a.size, a.fingerprint) for a in arrivals}
    sizes = sorted({size for size, _ in identities})
    found: list[Candidate] = []
    for start in range(0, len(sizes), 500):
        rows = Video.objects.filter(size__in=sizes[start : start + 500]).exclude(fingerprint="")
        for id_, path, key, size, mtime_ns, inode, fp in rows.values_list(*CANDIDATE_FIELDS):
            if (size, fp) in identities:
                vacated = has_left(path, key, size, mtime_ns)
                found.append(Candidate(id_, path, key, size, mtime_ns, inode, fp, vacated))
    return found


def load_arrivals(job_id: int) -> list[Arrival]:
    rows = ScanArrival.objects.filter(job_id=job_id).values_list(
        "path", "size", "mtime_ns", "inode", "fingerprint", "existing"
    )
    return [Arrival(*row) for row in rows]


@dataclass
class Outcome:
    moved: int
    unmatched: list[Arrival]


def unique_key(kind: str, video_id: int) -> str:
    # A NUL can never be in a real path, so this key never meets one a walk finds.
    return path_key(f"\0{kind}:{video_id}")


def reconcile(job: Job) -> Outcome:
    """Decide the scan's set-aside files, move the videos they are, and say what is left to read."""
    arrivals = load_arrivals(job.pk)
    if not arrivals:
        return Outcome(0, [])
    moves, unmatched = decide(arrivals, load_candidates(arrivals))
    moved = apply_moves(job, moves)
    ScanArrival.objects.filter(job_id=job.pk).delete()
    return Outcome(moved, unmatched)


class Row(NamedTuple):
    """What a move needs of the video's row (plain values: a moved folder has thousands)."""

    pk: int
    path: str
    path_key: str
    thumbnail: str
    missing: bool
    missing_job_id: int | None
    moved_from: str
    moved_at: Any


MOVE_COLUMNS = (
    "path",
    "path_key",
    "folder",
    "filename",
    "name_order",
    "mtime_ns",
    "inode",
    "missing",
    "missing_job_id",
    "moved_from",
    "moved_at",
    "thumbnail",
    "updated_at",
)


def apply_moves(job: Job, moves: Sequence[tuple[Arrival, Candidate]]) -> int:
    """Give each moved video its new path; a video whose path another one takes leaves it."""
    now = timezone.now()
    stamp = connection.ops.adapt_datetimefield_value(now)
    targets = {path_key(a.path): (a, c) for a, c in moves}
    wanted = {c.id: c.key for _, c in moves}
    moved = 0
    back_from_missing = 0
    renames: list[tuple[str, str]] = []
    updates: list[tuple[Any, ...]] = []
    history: list[tuple[Any, ...]] = []
    table = connection.ops.quote_name(Video._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        # Rows on the arrivals' paths that do not move themselves: their content left for good.
        keys = sorted(targets)
        displaced_ids = [
            pk
            for start in range(0, len(keys), 500)
            for pk in Video.objects.filter(path_key__in=keys[start : start + 500]).values_list(
                "id", flat=True
            )
            if pk not in wanted
        ]
        for video_id in displaced_ids:
            Video.objects.filter(pk=video_id).update(
                path_key=unique_key("replaced", video_id), missing=True, missing_job=job.pk
            )
        # Locked, and only those still at the path the decision saw: another scan may have
        # moved or removed one meanwhile.
        rows: dict[int, Row] = {}
        ids = sorted(wanted)
        for start in range(0, len(ids), 500):
            chunk = Video.objects.select_for_update().filter(pk__in=ids[start : start + 500])
            for row in chunk.values_list(*Row._fields):
                video = Row(*row)
                if video.path_key == wanted[video.pk]:
                    rows[video.pk] = video
        # A row whose path another row takes first steps aside, so a swap never meets the
        # unique key half done.
        aside = [(unique_key("moving", v.pk), v.pk) for v in rows.values() if v.path_key in targets]
        cursor.executemany(f"UPDATE {table} SET path_key = %s WHERE id = %s", aside)
        for key, (arrival, candidate) in sorted(targets.items()):
            if candidate.id not in rows:
                continue
            video = rows[candidate.id]
            new_path = display_path(arrival.path)
            name = display_path(arrival.name)
            moved_from, thumbnail = video.moved_from, video.thumbnail
            moved_at: object = connection.ops.adapt_datetimefield_value(video.moved_at)
            if video.path != new_path:
                moved_from, moved_at = video.path, stamp
                history.append((video.pk, video.path, new_path, stamp, job.pk))
                moved += 1
            if video.thumbnail and video.thumbnail == thumbnail_name(video.path_key):
                # A thumbnail named after the old path would be overwritten by a file arriving
                # there later: it takes a name of its own (renamed, not made again).
                thumbnail = thumbnail_name(unique_key("video", video.pk))
                renames.append((video.thumbnail, thumbnail))
            missing_job = video.missing_job_id
            if video.missing and missing_job == job.pk:
                # This scan counted it missing before it found where it went.
                missing_job = None
                back_from_missing += 1
            updates.append(
                (
                    new_path,
                    key,
                    display_path(os.path.dirname(arrival.path)),
                    name,
                    name_key(name),
                    arrival.mtime_ns,
                    arrival.inode,
                    False,
                    missing_job,
                    moved_from,
                    moved_at,
                    thumbnail,
                    stamp,
                    video.pk,
                )
            )
        assignments = ", ".join(f"{connection.ops.quote_name(c)} = %s" for c in MOVE_COLUMNS)
        cursor.executemany(f"UPDATE {table} SET {assignments} WHERE id = %s", updates)
        moves_table = connection.ops.quote_name(VideoMove._meta.db_table)
        cursor.executemany(
            f"INSERT INTO {moves_table} (video_id, from_path, to_path, moved_at, job_id)"
            " VALUES (%s, %s, %s, %s, %s)",
            history,
        )
        lifecycle.progress(job.pk, moved=moved, missing=len(displaced_ids) - back_from_missing)
    rename_thumbnails(renames)
    return moved


def rename_thumbnails(renames: Sequence[tuple[str, str]]) -> None:
    """Give moved videos' thumbnails their own names (plain strings: thousands of them)."""
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
        except OSError:
            pass  # no thumbnail to keep: the page shows the placeholder
