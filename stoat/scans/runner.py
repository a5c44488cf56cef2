"""Run a scan job start to end in this process (the `scan` command), with the worker's rules."""

from __future__ import annotations

import logging

from stoat.scans import lifecycle
from stoat.scans.models import Job, Status
from stoat.scans.scanner import ProgressHook, Scanner, StopCheck
from stoat.scans.store import JobEnded

log = logging.getLogger(__name__)


def run_here(
    job: Job, *, stop: StopCheck | None = None, on_progress: ProgressHook | None = None
) -> Status | None:
    """Claim, scan and conclude `job` here; None when it was not ours to run or ended elsewhere."""
    if not lifecycle.claim(job.pk):
        return None
    job.refresh_from_db()
    scanner = Scanner(job, stop=stop, on_progress=on_progress)
    try:
        scanner.run()
    except JobEnded:
        return None
    except Exception as error:
        log.exception("scan %s failed", job.pk)
        lifecycle.finish(job.pk, Status.FAILED, failure_reason=f"{type(error).__name__}: {error}")
        return Status.FAILED
    if stop is not None and stop():
        # A local stop (Ctrl-C) is recorded like any other cancel.
        lifecycle.request_cancel(job.pk)
    return lifecycle.conclude(job.pk, timed_out=scanner.timed_out)
