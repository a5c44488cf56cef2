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
from stoat.scans.readers import read_one, ready, settings_for_readers, start_reader
from stoat.scans.steps import OutOfTime, ReadersStalled

if TYPE_CHECKING:
    from stoat.scans.scanner import ReadItem, Scanner

# Fewer files than this are read in this process: starting readers would cost more.
MIN_FILES = 8
# How often this process wakes while the readers work: to see Ctrl-C, flush and beat.
WAKE_SECONDS = 0.05


class ReaderPool:
    """`processes` reader processes, started at once so they get ready while the folder is walked.

    Each starts with Ctrl-C blocked, then ignores it: the parent alone decides what it means.
    """

    def __init__(self, processes: int) -> None:
        self.processes = processes
        # Spawned, not forked: a fork would copy this process's database connections and threads.
        self.executor = ProcessPoolExecutor(
            processes,
            mp_context=multiprocessing.get_context("spawn"),
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
