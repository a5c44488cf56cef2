"""Scan workers yield the CPU to page views: a scan may fill every core, a page must not wait."""

from __future__ import annotations

import logging
import multiprocessing
import os
from typing import Any

from django.conf import settings

logger = logging.getLogger("stoat.scans")


def lower_worker_priority(sender: Any = None, **kwargs: Any) -> None:
    """django-q2's `post_spawn`: lower the priority of each worker process a cluster starts.

    Sync mode (tests, `async_task(..., sync=True)`) sends the signal in the calling process,
    which is not a worker and keeps its priority.
    """
    if multiprocessing.parent_process() is not None:
        apply_worker_nice()


def apply_worker_nice() -> int:
    """Raise this process's niceness to STOAT_WORKER_NICE (never lower it); the result.

    It runs before the worker's first task, so the decoder threads a scan starts inherit it.
    """
    if not hasattr(os, "nice"):
        return 0
    current = os.nice(0)
    wanted = min(19, max(0, settings.STOAT_WORKER_NICE))
    if wanted > current:
        try:
            current = os.nice(wanted - current)
        except OSError as error:  # a sandbox may forbid it: scanning matters more
            logger.warning("could not lower the worker's CPU priority: %s", error)
    return current
