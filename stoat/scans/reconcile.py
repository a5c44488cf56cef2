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
from functools import cached_property

from django.db import transaction

from stoat.library import summary
from stoat.library.models import Video, display_path, path_key
from stoat.library.services import FileNotDeletable, real_path
from stoat.scans import lifecycle
from stoat.scans import moves as moves_
from stoat.scans.models import Job, ScanArrival
from stoat.scans.rows import select_in


@dataclass(frozen=True)
class Arrival:
    path: str
    size: int
    mtime_ns: int
    inode: int | None
    fingerprint: str
    existing: bool = False

    # Cached: a moved folder's decision asks each of them for every candidate pair.
    @cached_property
    def name(self) -> str:
        return os.path.basename(self.path)

    @cached_property
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
    # Nothing is at its path any more.
    gone: bool = False

    @cached_property
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
    arriving: dict[tuple[int, str], list[Arrival]] = defaultdict(list)
    for arrival in arrivals:
        if (arrival.size, arrival.fingerprint) in by_identity:
            arriving[(arrival.size, arrival.fingerprint)].append(arrival)
    moves: list[tuple[Arrival, Candidate]] = []
    # Files of one identity only ever pair with videos of it, so each identity is decided on
    # its own; a moved folder's are nearly all one file and one video, a pair with no choice.
    for identity, group in arriving.items():
        for arrival, candidate in pair_up(group, by_identity[identity]):
            if arrival.key != candidate.key:
                moves.append((arrival, candidate))
    moves.sort(key=lambda pair: pair[0].path)
    moved_paths = {arrival.path for arrival, _ in moves}
    unmatched = sorted(
        {a.path: a for a in arrivals if a.path not in moved_paths}.values(), key=lambda a: a.path
    )
    return moves, unmatched


def pair_up(
    arrivals: Sequence[Arrival], candidates: Sequence[Candidate]
) -> list[tuple[Arrival, Candidate]]:
    """The pairs of one identity: the most preferred pair first, then the best of the rest."""
    if len(arrivals) == 1 and len(candidates) == 1:
        return [(arrivals[0], candidates[0])]
    ranked = sorted(
        ((preference(a, c), a, c) for a in arrivals for c in candidates), key=lambda p: p[0]
    )
    taken_paths: set[str] = set()
    taken_ids: set[int] = set()
    pairs = []
    for _, arrival, candidate in ranked:
        if arrival.path in taken_paths or candidate.id in taken_ids:
            continue
        taken_paths.add(arrival.path)
        taken_ids.add(candidate.id)
        pairs.append((arrival, candidate))
    return pairs


# -- the I/O around the decision ------------------------------------------------------------------
def has_left(path: str, key: str, size: int, mtime_ns: int) -> bool:
    """True when the file recorded at `path` is no longer there (gone, or other content now)."""
    return look(path, key, size, mtime_ns)[0]


# A folder holding at least this many of the paths looked at is listed once instead.
LISTED_FROM = 8


class Listings:
    """Which stored paths are gone, told by their folder's listing: a moved folder's thousands
    of old paths cost one failed listing per folder instead of a failed stat each (on a network
    share, a round trip each). Only a folder holding LISTED_FROM of the paths or more is listed."""

    def __init__(self, paths: Iterable[str]) -> None:
        counts: dict[str, int] = defaultdict(int)
        for path in paths:
            counts[os.path.dirname(path)] += 1
        self.listed = {folder for folder, count in counts.items() if count >= LISTED_FROM}
        self.names: dict[str, frozenset[str] | None] = {}

    def absent(self, path: str) -> bool:
        """True when the listing of the path's folder says nothing is there; False when
        something is, or when the folder is not listed here (a stat tells)."""
        return self.holds(path) is False

    def holds(self, path: str) -> bool | None:
        """Whether the listing of the path's folder has its name; None when not listed here."""
        folder, name = os.path.split(path)
        if folder not in self.listed:
            return None
        if folder not in self.names:
            try:
                with os.scandir(folder) as entries:
                    self.names[folder] = frozenset(entry.name for entry in entries)
            except (FileNotFoundError, NotADirectoryError):
                self.names[folder] = frozenset()
            except OSError:
                self.names[folder] = None  # not listable: each path gets its stat
        names = self.names[folder]
        return None if names is None else name in names


def vanished(path: str, listings: Listings) -> bool:
    """True when nothing is at `path` (a file found by the walk) any more."""
    held = listings.holds(path)
    if held is not None:
        return not held
    try:
        os.stat(path)
    except FileNotFoundError:
        return True
    except OSError:
        return False  # there, but not to be looked at: reading it says why
    return False


def look(
    path: str, key: str, size: int, mtime_ns: int, listings: Listings | None = None
) -> tuple[bool, bool]:
    """Whether the file recorded at `path` left it, and whether nothing is there any more."""
    try:
        real = real_path(path, key)
    except FileNotDeletable:
        return False, False  # stoat cannot tell which file it is: assume it is still there
    if listings is not None and listings.absent(real):
        return True, True
    try:
        st = os.stat(real)
    except FileNotFoundError:
        return True, True
    except OSError:
        return True, False
    return (st.st_size, st.st_mtime_ns) != (size, mtime_ns), False


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
    fields = ("path", "path_key", "size", "mtime_ns", "fingerprint")
    rows = [
        row
        for row in select_in(fields, "size", sizes, "fingerprint <> ''")
        if (row[2], row[4]) in identities
    ]
    listings = Listings(row[0] for row in rows)
    for path, key, size, mtime_ns, fp in rows:
        if stop is not None and stop():
            return None
        if look(path, key, size, mtime_ns, listings)[0]:
            found[(size, fp)].add(key)
    return found


def load_candidates(arrivals: Sequence[Arrival]) -> list[Candidate]:
    identities = {(a.size, a.fingerprint) for a in arrivals}
    sizes = sorted({size for size, _ in identities})
    rows = [
        row
        for row in select_in(CANDIDATE_FIELDS, "size", sizes, "fingerprint <> ''")
        if (row[3], row[6]) in identities
    ]
    listings = Listings(row[1] for row in rows)
    found: list[Candidate] = []
    for id_, path, key, size, mtime_ns, inode, fp in rows:
        vacated, gone = look(path, key, size, mtime_ns, listings)
        found.append(Candidate(id_, path, key, size, mtime_ns, inode, fp, vacated, gone))
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


def reconcile(job: Job) -> Outcome:
    """Decide the scan's set-aside files, move the videos they are, and say what is left to read."""
    arrivals = load_arrivals(job.pk)
    if not arrivals:
        return Outcome(0, [])
    candidates = load_candidates(arrivals)
    # A file set aside on the walk's stat alone may have gone since: no video moves to a path
    # where nothing is, and reading it tells the user the file disappeared.
    listings = Listings(arrival.path for arrival in arrivals)
    gone = {arrival.path for arrival in arrivals if vanished(arrival.path, listings)}
    moves, unmatched = decide([a for a in arrivals if a.path not in gone], candidates)
    if gone:
        left = {a.path: a for a in arrivals if a.path in gone}
        unmatched = sorted([*unmatched, *left.values()], key=lambda a: a.path)
    moved = moves_.apply_moves(job, moves)
    left_behind(job, candidates, {candidate.id for _, candidate in moves})
    ScanArrival.objects.filter(job_id=job.pk).delete()
    return Outcome(moved, unmatched)


def left_behind(job: Job, candidates: Iterable[Candidate], taken: Collection[int]) -> int:
    """Mark missing the videos of the scan's folder whose file is gone and that no move took.

    The plan leaves a video a renamed file matched for this decision instead of marking it
    missing, as it is most likely moved. Returns how many were marked.
    """
    prefix = display_path(job.path).rstrip("/") + "/"
    keys = sorted(
        c.key
        for c in candidates
        if c.gone
        and c.id not in taken
        and c.path.startswith(prefix)
        and (job.recursive or "/" not in c.path[len(prefix) :])
    )
    if not keys:
        return 0
    with transaction.atomic(), summary.one_mark():
        marked = sum(
            # Only where the decision saw it: another scan may have moved it meanwhile.
            Video.objects.filter(path_key__in=keys[start : start + 500], missing=False).update(
                missing=True, missing_job=job.pk
            )
            for start in range(0, len(keys), 500)
        )
        lifecycle.progress(job.pk, missing=marked)
    return marked
