"""django-q2 tasks: claim a job, run the scanner, end the job. Only this module knows django-q2."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence

from django.conf import settings
from django_q.tasks import async_task

from stoat.scans import lifecycle
from stoat.scans.models import Job, Status
from stoat.scans.scanner import JobEnded, ReadItem, Scanner

log = logging.getLogger(__name__)

ItemTuple = tuple[str, int, int, bool]


def enqueue_scan(job_id: int) -> None:
    async_task("stoat.scans.tasks.run_scan", job_id, task_name=f"scan-{job_id}")


def split_batches(items: Sequence[ReadItem]) -> list[list[ItemTuple]]:
    """Cut the files to read into batches: few enough that a cancel drains the queue quickly."""
    count = min(settings.STOAT_MAX_BATCHES, math.ceil(len(items) / settings.STOAT_BATCH_MIN))
    if count <= 1:
        return [[(i.path, i.size, i.mtime_ns, i.existing) for i in items]] if items else []
    size = math.ceil(len(items) / count)
    return [
        [(i.path, i.size, i.mtime_ns, i.existing) for i in items[start : start + size]]
        for start in range(0, len(items), size)
    ]


def fail(job_id: int, error: BaseException) -> None:
    log.exception("scan %s failed", job_id)
    lifecycle.finish(job_id, Status.FAILED, error=f"{type(error).__name__}: {error}")


def run_scan(job_id: int) -> str:
    """Find the files of a pending scan, then read them here or fan them out as batches."""
    if not lifecycle.claim(job_id):
        return "not claimed: the job was cancelled or is already running"
    job = Job.objects.get(pk=job_id)
    scanner = Scanner(job)
    try:
        found = scanner.find()
        if found is None:
            return str(lifecycle.conclude(job_id, timed_out=scanner.timed_out))
        plan = scanner.plan(*found)
        scanner.record_plan(plan)
        if scanner.should_stop():
            # Cancelled (or out of time) while planning: no batch needs to be queued.
            return str(lifecycle.conclude(job_id, timed_out=scanner.timed_out))
        batches = split_batches(plan.to_read)
        if len(batches) <= 1:
            scanner.read(plan.to_read)
            return str(lifecycle.conclude(job_id, timed_out=scanner.timed_out))
        if not lifecycle.progress(job_id, batches_total=len(batches)):
            return "ended while planning"
        for number, batch in enumerate(batches, start=1):
            async_task(
                "stoat.scans.tasks.run_batch",
                job_id,
                batch,
                task_name=f"scan-{job_id}-batch-{number}",
            )
        return f"fanned out into {len(batches)} batches"
    except JobEnded:
        return "the job ended elsewhere"
    except Exception as error:
        fail(job_id, error)
        return "failed"


def run_batch(job_id: int, items: list[ItemTuple]) -> str:
    """Read one batch of a fanned-out scan; the last batch to end concludes the job."""
    if not lifecycle.start_batch(job_id):
        # Cancelled or ended before this batch began: it reads nothing, only counts itself.
        outcome = lifecycle.end_batch(job_id, started=False)
        return f"batch skipped; job {outcome or 'ended'}"
    scanner = Scanner(Job.objects.get(pk=job_id))
    try:
        scanner.read(ReadItem(*item) for item in items)
    except JobEnded:
        return "the job ended elsewhere"
    except Exception as error:
        fail(job_id, error)
        return "failed"
    outcome = lifecycle.end_batch(job_id, timed_out=time.time() > scanner.deadline)
    return f"batch done; job {outcome or 'still running'}"
