"""Read a scan's files on every core: a pool of reader processes, one file each at a time.

The `scan` command in the foreground reads this way. The readers (`readers.py`) only read and
send back each file's row or the reason it has none; this process hands out the files, checks
the cancel flag before each one, stores rows and counters, and beats while it waits.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
from collections.abc import Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from multiprocessing.context import BaseContext
from typing import TYPE_CHECKING

from django.db import connections

from stoat.library.models import Video, display_path
from stoat.scans.readers import read_one, ready, settings_for_readers, start_reader
from stoat.scans.steps import OutOfTime, ReadersStalled

if TYPE_CHECKING:
    from stoat.scans.scanner import ReadItem, Scanner

# Fewer files than this are read in this process: starting readers would cost more.
MIN_FILES = 8
# How often this process wakes while the readers work: to see Ctrl-C, flush and beat.
WAKE_SECONDS = 0.05


def start_method() -> str:
    """Fork while this process has no other thread (`manage.py scan` as a person runs it): a
    forked reader is ready in milliseconds, a spawned one imports Django and PyAV for ~0.5 s.
    A fork copies only the thread that forks, so a lock another thread held (a test run, a
    server) would stay held in the reader forever: such a process spawns its readers."""
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return "fork"
    return "spawn"


class ReaderPool:
    """`processes` reader processes, started at once so they get ready while the folder is walked.

    Each starts with Ctrl-C blocked, then ignores it: the parent alone decides what it means.
    """

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self.start_method = start_method()
        context: BaseContext = multiprocessing.get_context(self.start_method)
        if self.start_method == "fork":
            # A reader never uses the database; closed here, no connection is shared with it
            # (this process opens a fresh one at its next query).
            connections.close_all()
        self.executor = ProcessPoolExecutor(
            processes,
            mp_context=context,
            initializer=start_reader,
            initargs=(settings_for_readers(),),
        )
        # Blocked, not ignored: a Ctrl-C meanwhile waits and reaches this process right after.
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            # The pool starts a process for each task it cannot hand to an idle one.
            for _ in range(processes):
                self.executor.submit(ready)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)

    def submit(self, item: ReadItem, deadline: float) -> Future[Video | Exception]:
        return self.executor.submit(read_one, item, deadline)

    def close(self) -> None:
        # The readers exit on their own: the job is concluded without waiting for them.
        self.executor.shutdown(wait=False, cancel_futures=True)


def read_in_processes(
    scanner: Scanner, items: Iterable[ReadItem], pool: ReaderPool, counted: bool = False
) -> None:
    """Read `items` with the pool's readers, recording each outcome as the scanner does.

    After a stop (cancel, Ctrl-C, time limit) no file is handed out; the files being read are
    waited for (each within the per-file limit) and kept.
    """
    pending = iter(items)
    in_flight: dict[Future[Video | Exception], ReadItem] = {}
    while True:
        # Settling reads what was set aside even after a stop: cancel keeps what was read.
        while len(in_flight) < pool.processes and (scanner.keeping or not scanner.stopped):
            if scanner.should_stop():
                break
            item = next(pending, None)
            if item is None:
                break
            scanner.buffer.current_file = display_path(item.path)
            in_flight[pool.submit(item, scanner.deadline)] = item
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
