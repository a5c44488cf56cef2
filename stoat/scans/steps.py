"""How a scan runs each reader step (one probe, one thumbnail): within its time limits.

Knows settings and the time-limit helper, nothing of the database: the scanner passes in its
deadline and its heartbeat.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Protocol, TypeVar

from django.conf import settings

from stoat.core.time_limit import TimedOut, abandoned_steps, call_with_time_limit
from stoat.library.probe import ProbeError

T = TypeVar("T")
# Reads left hanging in this process before a scan stops trying more (each holds a thread).
MAX_HANGING_READS = 16


class StepRunner(Protocol):
    """Runs one blocking reader step (`what` says what it does, for the error message)."""

    def __call__(self, work: Callable[[], T], what: str) -> T: ...


def run_directly(work: Callable[[], T], what: str) -> T:
    return work()


# How the reader steps of a scan run: in a thread with a time limit while a Scanner reads.
reader_steps: ContextVar[StepRunner] = ContextVar("reader_steps", default=run_directly)
# Threads one keyframe may be decoded with. None: every core that helps, as a worker of a cluster
# reads (the batch split leaves cores idle at times); the foreground command sets 1, since its
# reader processes are the parallelism the person asked for (`--processes`), one core each.
decoder_threads: ContextVar[int | None] = ContextVar("decoder_threads", default=None)


class OutOfTime(Exception):
    """The job's own time limit passed while a file was being read; that file is not counted."""


class ReadersStalled(Exception):
    """So many reads hang at once that the disk itself has stalled: the scan ends failed."""


def run_within_limits(
    work: Callable[[], T], what: str, *, deadline: float, beat: Callable[[], None]
) -> T:
    """`work()` within the per-file limit and before the job's `deadline`, beating meanwhile.

    Past the per-file limit the file is a ProbeError "… timed out after N s"; past the deadline
    the step raises OutOfTime; with too many reads already hanging, ReadersStalled.
    """
    limit = settings.STOAT_FILE_TIME_LIMIT
    if abandoned_steps() >= MAX_HANGING_READS:
        raise ReadersStalled(
            f"{MAX_HANGING_READS} files are still stuck being read: the disk or network "
            "share seems to have stalled; scan again once it answers"
        )
    left = deadline - time.time()
    if left <= 0:
        raise OutOfTime
    every = min(settings.STOAT_HEARTBEAT_INTERVAL, limit)
    try:
        return call_with_time_limit(work, min(limit, left), tick=beat, tick_every=every)
    except TimedOut as error:
        if left < limit:
            raise OutOfTime from error
        raise ProbeError(
            f"{what} timed out after {limit:g} s (the disk or network share may have stalled)"
        ) from error
