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
from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING, NamedTuple

from django.conf import settings

from stoat.library.fingerprint import Fingerprint
from stoat.library.models import path_key, storable_inode
from stoat.library.probe import ProbeError, check_regular_file
from stoat.scans import reconcile
from stoat.scans.reconcile import Arrival
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


class Renamed(NamedTuple):
    to_read: list[ReadItem]  # the files still to read
    aside: list[Arrival]  # the files set aside
    sources: set[str]  # the stored paths of the videos they match


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
    known: dict[tuple[int, int, int], tuple[str, str, str]] = {}
    fields = ("path", "path_key", "size", "mtime_ns", "inode", "fingerprint")
    rows = select_in(fields, "size", sizes, "inode IS NOT NULL AND fingerprint <> ''")
    for count, (path, key, size, mtime_ns, stored_inode, fp) in enumerate(rows):
        if count % CHUNK == 0 and stopped():
            return Renamed(list(items), [], set())
        if (size, mtime_ns) in stamps:
            known[(size, mtime_ns, stored_inode)] = (path, key, fp)
    if not known:
        return Renamed(list(items), [], set())
    rest: list[ReadItem] = []
    aside: list[Arrival] = []
    sources: set[str] = set()
    # Only a file whose size and mtime some such video has costs a stat.
    candidates = {(size, mtime_ns) for size, mtime_ns, _ in known}
    for index, item in enumerate(items):
        match = None
        inode: int | None = None
        if (item.size, item.mtime_ns) in candidates:
            if stopped():
                return Renamed(rest + list(items[index:]), aside, sources)
            try:
                found = walked(item.path)
                inode = storable_inode(os.stat(item.path).st_ino if found is None else found)
            except OSError:
                inode = None
            if inode is not None:
                match = known.get((item.size, item.mtime_ns, inode))
        if match is None or match[1] == path_key(item.path):
            rest.append(item)
        elif match[0] in gone or reconcile.has_left(match[0], match[1], item.size, item.mtime_ns):
            aside.append(
                Arrival(item.path, item.size, item.mtime_ns, inode, match[2], item.existing)
            )
            sources.add(match[0])
        else:
            rest.append(item)
    return Renamed(rest, aside, sources)
