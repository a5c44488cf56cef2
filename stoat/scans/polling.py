"""How often a job's page polls: every second, or every two while a crowd watches that scan.

On a small machine every answer is CPU taken from the scan it reports on. One page polling
every second costs nothing worth saving; a hundred pages of one scan polling every second took
a fifth of two cores and a third of the scan's speed (docs/load.md). A web process that answers
many polls of one job in a second tells those pages to come back in two: the numbers still move
every two seconds (as often as the page without JavaScript reloads), the scan keeps its speed.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

# Answers about one job by one web process in one second beyond which its pages slow down:
# a few people, or a few tabs, never reach it; 100 pages over two processes are 50 a second.
CROWD = 20
EVERY = 1
CROWD_EVERY = 2
# Jobs remembered per process: far more than are watched at once.
KEPT = 256


@dataclass
class Second:
    at: int
    answers: int
    before: int  # answers in the second before `at`, 0 when no answer came in it


_seconds: dict[int, Second] = {}
_lock = threading.Lock()


def poll_every(job_id: int) -> int:
    """Count one answer about this job and say in how many seconds its page should ask again."""
    now = int(time.time())
    with _lock:
        second = _seconds.get(job_id)
        if second is None or second.at < now - 1:
            second = _seconds[job_id] = Second(now, 0, 0)
        elif second.at == now - 1:
            second.at, second.before, second.answers = now, second.answers, 0
        second.answers += 1
        busy = max(second.answers, second.before) > CROWD
        if len(_seconds) > KEPT:
            for stale in [pk for pk, seen in _seconds.items() if seen.at < now - 1]:
                del _seconds[stale]
    return CROWD_EVERY if busy else EVERY


def forget_polls() -> None:
    """Drop every count (tests that reuse ids and freeze time start clean)."""
    with _lock:
        _seconds.clear()
