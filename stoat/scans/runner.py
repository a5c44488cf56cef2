"""Running a scan job: its failure handling (the workers use it too), and a run in this process."""

from __future__ import annotations

import logging

from stoat.scans import lifecycle
from stoat.scans.models import Job, Status
from stoat.scans.scanner import ProgressHook, Scanner, StopCheck
from stoat.scans.store import JobEnded

log = logging.getLogger(__name__)


def record_failure(job_id: int, error: BaseException) -> Status:
    """A scan run raised: log it with its traceback and end the job as failed, with the reason."""
    log.exception("scan %s failed", job_id, exc_info=error)
    lifecycle.finish(job_id, Status.FAILED, failure_reason=f"{type(error).__name__}: {error}")
    return Status.FAILED


def run_here(
    job: Job,
    *,
    stop: StopCheck | None = None,
    on_progress: ProgressHook | None = None,
    processes: int = 1,
) -> Status | None:
    """Claim, scan and conclude `job` here; None when it was not ours to run or ended elsewhere.

    With `processes` > 1 the files are read by that many reader processes.
    """
    if not lifecycle.claim(job.pk):
        return None
    job.refresh_from_db()
    scanner = Scanner(job, stop=stop, on_progress=on_progress, processes=processes, foreground=True)
    try:
        scanner.run()
    except JobEnded:
        return None
    except Exception as error:
        return record_failure(job.pk, error)
    if stop is not None and stop():
        # A local stop (Ctrl-C) is recorded like any other cancel.
        lifecycle.request_cancel(job.pk)
    return lifecycle.conclude(job.pk, timed_out=scanner.timed_out)
