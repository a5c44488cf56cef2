"""Read a scan's files on every core: a pool of reader processes, one file each at a time.

The `scan` command in the foreground reads this way. The readers (`readers.py`) only read and
send back each file's row or the reason it has none; this process hands out the files, checks
the cancel flag before each one, stores rows and counters, and beats while it waits.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import TYPE_CHECKING

from stoat.library.models import Video, display_path
from stoat.scans.readers import read_one, settings_for_readers, start_reader
from stoat.scans.steps import OutOfTime, ReadersStalled

if TYPE_CHECKING:
    from stoat.scans.scanner import ReadItem, Scanner

# Fewer files than this are read in this process: starting the readers would cost more.
MIN_FILES = 8
# How often this process wakes while the readers work: to see Ctrl-C, flush and beat.
WAKE_SECONDS = 0.05


def start_readers(processes: int) -> ProcessPoolExecutor:
    # Spawned, not forked: a fork would copy this process's database connections and threads.
    return ProcessPoolExecutor(
        processes,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=start_reader,
        initargs=(settings_for_readers(),),
    )


def submit(
    pool: ProcessPoolExecutor, item: ReadItem, deadline: float, *, spawns: bool
) -> Future[Video | Exception]:
    """Hand one file to a reader. A reader started by this call starts with Ctrl-C blocked."""
    if not spawns:
        return pool.submit(read_one, item, deadline)
    # Blocked, not ignored: a Ctrl-C meanwhile waits and reaches this process right after.
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        return pool.submit(read_one, item, deadline)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def read_in_processes(
    scanner: Scanner, items: Iterable[ReadItem], processes: int, counted: bool = False
) -> None:
    """Read `items` with `processes` readers, recording each outcome as the scanner does.

    After a stop (cancel, Ctrl-C, time limit) no file is handed out; the files being read are
    waited for (each within the per-file limit) and kept.
    """
    pending = iter(items)
    in_flight: dict[Future[Video | Exception], ReadItem] = {}
    handed_out = 0
    pool = start_readers(processes)
    try:
        while True:
            while len(in_flight) < processes and not scanner.stopped:
                if scanner.should_stop():
                    break
                item = next(pending, None)
                if item is None:
                    break
                scanner.buffer.current_file = display_path(item.path)
                # The pool starts a reader for each of the first files it is given.
                spawns = handed_out < processes
                in_flight[submit(pool, item, scanner.deadline, spawns=spawns)] = item
                handed_out += 1
            if not in_flight:
                break
            done, _ = wait(in_flight, timeout=WAKE_SECONDS, return_when=FIRST_COMPLETED)
            if not done:
                if not scanner.stopped:
                    scanner.should_stop_soon()
                scanner.maybe_flush()  # also the heartbeat while a slow file is read
                continue
            for future in done:
                item = in_flight.pop(future)
                outcome = future.result()
                if isinstance(outcome, OutOfTime):
                    scanner.timed_out = scanner.stopped = True
                elif isinstance(outcome, ReadersStalled):
                    raise outcome
                else:
                    scanner.record(item, outcome, counted)
    finally:
        # The readers exit on their own: the job is concluded without waiting for them.
        pool.shutdown(wait=False, cancel_futures=True)
