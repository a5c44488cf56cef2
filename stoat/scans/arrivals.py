"""Before a scan reads its files: those that may be known videos moved are fingerprinted first.

A file whose size some fingerprinted video has is fingerprinted (at most 192 KiB read); if a
video with that fingerprint has left its path, the file is set aside for reconcile (no probe,
no thumbnail). The others go on to be read, their fingerprint kept. Files are fingerprinted a
chunk per reader step, so a move of 10,000 files costs few threads and one query per chunk.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING, NamedTuple

from django.conf import settings

from stoat.library.fingerprint import Fingerprint
from stoat.library.models import path_key, storable_inode
from stoat.library.probe import ProbeError, check_regular_file
from stoat.scans import reconcile
from stoat.scans.reconcile import Arrival, Candidate
from stoat.scans.rows import select_in
from stoat.scans.steps import OutOfTime
from stoat.scans.walker import FileStat

if TYPE_CHECKING:
    from stoat.scans.scanner import ReadItem, Scanner

CHUNK = 200

Outcome = Fingerprint | ProbeError


def fingerprint_chunk(
    items: Sequence[ReadItem], done: list[Outcome], budget: float, halt: threading.Event
) -> None:
    """Fingerprint `items` in order into `done`, stopping early once `budget` seconds passed.

    `done` is filled as it goes: if the step times out, the file after the last one done hung,
    and `halt` tells this (abandoned) thread to take no further file.
    """
    from stoat.scans.scanner import take_fingerprint

    started = time.monotonic()
    for item in items:
        if halt.is_set() or (done and time.monotonic() - started > budget):
            return
        try:
            # A stat first: a file swapped for a pipe since the walk is never opened.
            check_regular_file(item.path)
            done.append(take_fingerprint(item.path))
        except ProbeError as error:
            done.append(error)


def set_aside_moves(scanner: Scanner, items: Sequence[ReadItem], counted: bool) -> list[ReadItem]:
    """The files still to read: those that may be moves are fingerprinted, and set aside if so."""
    if not any(item.maybe_moved for item in items):
        return list(items)
    rest = [item for item in items if not item.maybe_moved]
    pending = [item for item in items if item.maybe_moved]
    # Half the per-file limit: a chunk ends in time unless one file alone is that slow.
    budget = settings.STOAT_FILE_TIME_LIMIT / 2
    while pending and not scanner.should_stop():
        chunk, halt = pending[:CHUNK], threading.Event()
        filled: list[Outcome] = []
        try:
            scanner.run_step(
                functools.partial(fingerprint_chunk, chunk, filled, budget, halt),
                "reading the file",
            )
            done: list[Outcome] = filled
        except OutOfTime:
            halt.set()
            scanner.stopped = True
            break
        except ProbeError as error:
            halt.set()
            snapshot = list(filled)
            # The file it was reading when the time ran out is the error.
            done = [*snapshot, error] if len(snapshot) < len(chunk) else snapshot
        pending = pending[len(done) :]
        rest.extend(sort_out(scanner, chunk[: len(done)], done, counted))
        scanner.maybe_flush()
    return rest + pending


def sort_out(
    scanner: Scanner, items: Sequence[ReadItem], done: Sequence[Outcome], counted: bool
) -> list[ReadItem]:
    """Set aside the files that are videos that left their path; return the others to read."""
    prints = {
        (outcome.size, outcome.digest) for outcome in done if isinstance(outcome, Fingerprint)
    }
    left = reconcile.left_paths(prints, scanner.should_stop_soon) if prints else {}
    if left is None:
        # Stopped: which are moves is unknown, so they stay flagged (and are not read).
        return list(items)
    to_read: list[ReadItem] = []
    for item, outcome in zip(items, done, strict=True):
        if isinstance(outcome, ProbeError):
            scanner.record(item, outcome, counted)
            continue
        key = path_key(item.path)
        if left.get((outcome.size, outcome.digest), set()) - {key}:
            scanner.buffer.arrivals.append(
                Arrival(
                    item.path,
                    outcome.size,
                    item.mtime_ns,
                    storable_inode(outcome.inode),
                    outcome.digest,
                    item.existing,
                )
            )
            scanner.count_set_aside(counted)
        else:
            to_read.append(item._replace(maybe_moved=False, known_print=outcome))
    return to_read


class WalkedInodes:
    """The walk's inode of each file (a list in the walk's order), indexed by path only if a
    rename is looked for: an unchanged rescan never pays for the index."""

    def __init__(self, entries: Sequence[FileStat], inodes: Sequence[int]) -> None:
        self.entries = entries
        self.inodes = inodes
        self.by_path: dict[str, int] | None = None

    def get(self, path: str) -> int | None:
        if self.by_path is None:
            # Out of step (never expected): every file then gets a stat of its own.
            aligned = len(self.entries) == len(self.inodes)
            paths = [entry[0] for entry in self.entries] if aligned else []
            self.by_path = dict(zip(paths, self.inodes[: len(paths)], strict=True))
        return self.by_path.get(path)


class Stored(NamedTuple):
    """A fingerprinted video a renamed file may be."""

    id: int
    path: str
    path_key: str
    size: int
    mtime_ns: int
    inode: int
    fingerprint: str


class Renamed(NamedTuple):
    to_read: list[ReadItem]  # the files still to read
    aside: list[Arrival]  # the files set aside, for reconcile
    sources: set[str]  # the stored paths of the videos they match (direct moves' included)
    # Renames no other file can take from them, to apply at once (see `settled`).
    direct: Sequence[tuple[Arrival, Candidate]] = ()


def renamed(
    items: Sequence[ReadItem],
    stop: Callable[[], bool] | None = None,
    gone: Collection[str] = frozenset(),
    inode_of: Callable[[str], int | None] | None = None,
) -> Renamed:
    """Files a rename moved, set aside without reading a byte: the same inode, size and mtime
    as a fingerprinted video that left its path (a rename keeps all three), so that video's
    fingerprint is theirs. Once `stop` says stop, the files not yet looked at are all still to
    read (a stopped scan reads none). `gone`: stored paths the walk did not find (no stat).
    `inode_of`: the walk's inode of a file; a file it lacks costs a stat (on a network share,
    a round trip each)."""
    walked = inode_of if inode_of is not None else lambda path: None
    if not settings.STOAT_FINGERPRINTS or not items:
        return Renamed(list(items), [], set())
    stopped = stop if stop is not None else lambda: False
    stamps = {(item.size, item.mtime_ns) for item in items}
    sizes = sorted({size for size, _ in stamps})
    known: dict[tuple[int, int, int], Stored] = {}
    # Stamps two videos share: neither is known for sure to be the file that has it.
    shared: set[tuple[int, int, int]] = set()
    rows = select_in(Stored._fields, "size", sizes, "inode IS NOT NULL AND fingerprint <> ''")
    for count, row in enumerate(rows):
        if count % CHUNK == 0 and stopped():
            return Renamed(list(items), [], set())
        stored = Stored(*row)
        if (stored.size, stored.mtime_ns) in stamps:
            stamp = (stored.size, stored.mtime_ns, stored.inode)
            if stamp in known:
                shared.add(stamp)
            known[stamp] = stored
    if not known:
        return Renamed(list(items), [], set())
    rest: list[ReadItem] = []
    found: list[tuple[Arrival, Stored]] = []
    # Only a file whose size and mtime some such video has costs a stat.
    candidates = {(size, mtime_ns) for size, mtime_ns, _ in known}
    for index, item in enumerate(items):
        match = None
        inode: int | None = None
        if (item.size, item.mtime_ns) in candidates:
            if stopped():
                aside = [arrival for arrival, _ in found]
                return Renamed(rest + list(items[index:]), aside, {s.path for _, s in found})
            try:
                seen = walked(item.path)
                inode = storable_inode(os.stat(item.path).st_ino if seen is None else seen)
            except OSError:
                inode = None
            if inode is not None:
                match = known.get((item.size, item.mtime_ns, inode))
        if match is None or match.path_key == path_key(item.path):
            rest.append(item)
        elif match.path in gone or reconcile.has_left(
            match.path, match.path_key, item.size, item.mtime_ns
        ):
            arrival = Arrival(
                item.path, item.size, item.mtime_ns, inode, match.fingerprint, item.existing
            )
            found.append((arrival, match))
        else:
            rest.append(item)
    direct, aside = settled(found, shared, gone)
    return Renamed(rest, aside, {stored.path for _, stored in found}, direct)


def settled(
    found: Sequence[tuple[Arrival, Stored]],
    shared: Collection[tuple[int, int, int]],
    gone: Collection[str],
) -> tuple[list[tuple[Arrival, Candidate]], list[Arrival]]:
    """The renamed files whose move is certain already, and those reconcile must weigh.

    A file that kept its name, whose (size, mtime, inode) one video alone has, and that is the
    only file found with it, is that video's best match whatever else the scan reads: the rule
    ranks the same name first, then the same inode, then the closest mtime, and no other file or
    video can equal it on all three. A moved folder is thousands of these, decided without a
    round trip through `ScanArrival`. A swap, a rename to another name or a hard link waits for
    reconcile, where every candidate of the scan is weighed at once.
    """
    files_per_video = Counter(stored.id for _, stored in found)
    direct: list[tuple[Arrival, Candidate]] = []
    aside: list[Arrival] = []
    for arrival, stored in found:
        stamp = (stored.size, stored.mtime_ns, stored.inode)
        if (
            files_per_video[stored.id] == 1
            and stamp not in shared
            and arrival.name == os.path.basename(stored.path)
        ):
            candidate = Candidate(*stored, vacated=True, gone=stored.path in gone)
            direct.append((arrival, candidate))
        else:
            aside.append(arrival)
    return direct, aside
