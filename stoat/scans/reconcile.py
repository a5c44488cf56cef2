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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from stoat.library.models import Video, VideoMove, display_path, name_key, path_key
from stoat.library.services import FileNotDeletable, file_on_disk
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
    probe = Video(path=path, path_key=key)
    try:
        st = os.stat(file_on_disk(probe))
    except FileNotDeletable:
        return False  # stoat cannot tell which file it is: assume it is still there
    except OSError:
        return True
    return (st.st_size, st.st_mtime_ns) != (size, mtime_ns)


CANDIDATE_FIELDS = ("id", "path", "path_key", "size", "mtime_ns", "inode", "fingerprint")


def left_videos(size: int, fingerprint: str, exclude_key: str) -> bool:
    """Whether some video with this size and fingerprint has left its path (a reader's check)."""
    rows = (
        Video.objects.filter(size=size, fingerprint=fingerprint)
        .exclude(path_key=exclude_key)
        .values_list("path", "path_key", "size", "mtime_ns")
    )
    return any(has_left(*row) for row in rows)


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


def apply_moves(job: Job, moves: Sequence[tuple[Arrival, Candidate]]) -> int:
    """Give each moved video its new path; a video whose path another one takes leaves it."""
    now = timezone.now()
    targets = {path_key(a.path): (a, c) for a, c in moves}
    moving_ids = {c.id for _, c in moves}
    moved = 0
    back_from_missing = 0
    renames: list[tuple[str, str]] = []
    with transaction.atomic():
        # Rows on the arrivals' paths that do not move themselves: their content left for good.
        displaced = Video.objects.filter(path_key__in=list(targets)).exclude(id__in=moving_ids)
        displaced_ids = list(displaced.values_list("id", flat=True))
        for video_id in displaced_ids:
            Video.objects.filter(pk=video_id).update(
                path_key=unique_key("replaced", video_id),
                missing=True,
                missing_job=job.pk,
            )
        rows = {
            v.pk: v
            for v in Video.objects.filter(pk__in=moving_ids).only(
                "id", "path", "path_key", "thumbnail", "missing", "missing_job_id"
            )
        }
        # Two steps, so a swap of two paths never meets the unique key half done; a row that
        # another scan moved or removed meanwhile no longer has its key and is left alone.
        ours = {
            c.id
            for _, c in moves
            if Video.objects.filter(pk=c.id, path_key=c.key).update(
                path_key=unique_key("moving", c.id)
            )
        }
        history: list[VideoMove] = []
        for key, (arrival, candidate) in sorted(targets.items()):
            video = rows.get(candidate.id)
            if video is None or candidate.id not in ours:
                continue
            new_path = display_path(arrival.path)
            changes: dict[str, object] = {
                "path": new_path,
                "path_key": key,
                "folder": display_path(os.path.dirname(arrival.path)),
                "filename": display_path(arrival.name),
                "name_order": name_key(display_path(arrival.name)),
                "mtime_ns": arrival.mtime_ns,
                "inode": arrival.inode,
                "missing": False,
                "updated_at": now,
            }
            if video.path != new_path:
                changes.update(moved_from=video.path, moved_at=now)
                history.append(
                    VideoMove(
                        video_id=video.pk,
                        from_path=video.path,
                        to_path=new_path,
                        moved_at=now,
                        job_id=job.pk,
                    )
                )
                moved += 1
            if video.thumbnail and video.thumbnail == thumbnail_name(video.path_key):
                # A thumbnail named after the old path would be overwritten by a file arriving
                # there later: it takes a name of its own (renamed, not made again).
                own = thumbnail_name(unique_key("video", video.pk))
                changes["thumbnail"] = own
                renames.append((video.thumbnail, own))
            if video.missing and video.missing_job_id == job.pk:
                # This scan counted it missing before it found where it went.
                changes["missing_job"] = None
                back_from_missing += 1
            Video.objects.filter(pk=video.pk).update(**changes)
        VideoMove.objects.bulk_create(history)
        lifecycle.progress(job.pk, moved=moved, missing=len(displaced_ids) - back_from_missing)
    for old, new in renames:
        rename_thumbnail(old, new)
    return moved


def rename_thumbnail(old: str, new: str) -> None:
    folder = settings.STOAT_THUMB_DIR
    try:
        (folder / new).parent.mkdir(parents=True, exist_ok=True)
        os.replace(folder / old, folder / new)
    except OSError:
        pass  # no thumbnail to keep: the page shows the placeholder
