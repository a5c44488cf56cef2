"""Before a scan reads its files: those that may be known videos moved are fingerprinted first.

A file whose size some fingerprinted video has is fingerprinted (at most 192 KiB read); if a
video with that fingerprint has left its path, the file is set aside for reconcile (no probe,
no thumbnail). The others go on to be read, their fingerprint kept. Files are fingerprinted a
chunk per reader step, so a move of 10,000 files costs few threads and one query per chunk.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.conf import settings

from stoat.library.fingerprint import Fingerprint
from stoat.library.models import path_key, storable_inode
from stoat.library.probe import ProbeError, check_regular_file
from stoat.scans import reconcile
from stoat.scans.models import ScanArrival
from stoat.scans.steps import OutOfTime

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
    left = reconcile.left_paths(prints) if prints else {}
    to_read: list[ReadItem] = []
    for item, outcome in zip(items, done, strict=True):
        if isinstance(outcome, ProbeError):
            scanner.record(item, outcome, counted)
            continue
        key = path_key(item.path)
        if left.get((outcome.size, outcome.digest), set()) - {key}:
            scanner.buffer.arrivals.append(
                ScanArrival(
                    job_id=scanner.job.pk,
                    path=item.path,
                    size=outcome.size,
                    mtime_ns=item.mtime_ns,
                    inode=storable_inode(outcome.inode),
                    fingerprint=outcome.digest,
                    existing=item.existing,
                )
            )
            scanner.count_set_aside(counted)
        else:
            to_read.append(item._replace(maybe_moved=False, known_print=outcome))
    return to_read
