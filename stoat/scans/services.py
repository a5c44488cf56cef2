"""Starting, cancelling and reading scan jobs: what the pages, the API and the commands all call."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from django.db import transaction
from django.db.models import QuerySet

from stoat.library.models import Library
from stoat.scans import lifecycle
from stoat.scans.lifecycle import CancelOutcome, ScanStart
from stoat.scans.models import Job, Origin
from stoat.scans.paths import check_scan_path, shown
from stoat.scans.tasks import enqueue_scan, hand_back_lost


def start_scan(
    path: str,
    recursive: bool = True,
    *,
    queue: bool = True,
    checked: bool = False,
    library: Library | None = None,
    origin: Origin = Origin.MANUAL,
    label: str = "",
) -> ScanStart:
    """A new scan of `path`, or the active one that covers it (or the library's).

    Raises InvalidPath or PathNotAllowed, unless the caller `checked` the path already (a
    library's folder is checked when it is saved, and the walker checks the roots again).
    With `queue`, a new job goes to the workers once its row is committed, never before;
    without, the caller runs it (`runner.run_here`).
    """
    folder = path if checked else check_scan_path(path)
    start = lifecycle.create_scan(folder, recursive, library=library, origin=origin, label=label)
    if start.created and queue:
        transaction.on_commit(partial(enqueue_scan, start.job.pk))
    return start


def describe_start(start: ScanStart) -> str:
    if start.created:
        return f"Scan of {shown(start.job.path)} queued."
    return f"{shown(start.job.path)} is already being scanned: this is that scan (none was added)."


@dataclass(frozen=True)
class CancelResult:
    outcome: CancelOutcome
    job: Job | None

    @property
    def accepted(self) -> bool:
        return self.outcome in (CancelOutcome.CANCELLED, CancelOutcome.REQUESTED)

    @property
    def message(self) -> str:
        if self.outcome is CancelOutcome.CANCELLED:
            return "Cancelled before it started."
        if self.outcome is CancelOutcome.REQUESTED:
            return "Cancel requested: the scan stops at the next file."
        if self.job is None:
            return "No such job."
        return f"This job had already ended as {self.job.status}; there is nothing to cancel."


def cancel_job(job_id: int) -> CancelResult:
    """A pending job is cancelled at once; a running one stops at its next file."""
    outcome = lifecycle.request_cancel(job_id)
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        return CancelResult(CancelOutcome.NOT_FOUND, None)
    return CancelResult(outcome or CancelOutcome.TERMINAL, job)


def list_jobs(status: str | None = None) -> QuerySet[Job]:
    """Jobs newest first, the work of lost workers handed to live ones first (a job no worker
    reads shows as waiting for one, not as running)."""
    # Three cheap reads when nothing is lost; the schedule does the same between requests.
    hand_back_lost()
    jobs = Job.objects.order_by("-created_at", "-id")
    return jobs.filter(status=status) if status else jobs


def current(job: Job) -> Job:
    """`job`, handed to the live workers first if its workers are gone, so it never shows as
    running forever."""
    if lifecycle.is_silent(job) and hand_back_lost(job.pk):
        job.refresh_from_db()
    return job
