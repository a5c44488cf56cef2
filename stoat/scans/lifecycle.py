"""The job state machine. Every transition is one conditional UPDATE whose row count decides it."""

from __future__ import annotations

import enum
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from stoat.library.models import Library
from stoat.scans.models import (
    ACTIVE,
    BatchStatus,
    Job,
    Kind,
    Origin,
    Phase,
    ScanBatch,
    ScanError,
    SkippedFile,
    Status,
)
from stoat.scans.within import is_within


@dataclass(frozen=True)
class ScanStart:
    job: Job
    created: bool  # False: an active scan already covers the folder, and this is that job


def covering_scan(path: str) -> Job | None:
    """The active scan of the same folder, or of a parent folder scanned with its subfolders."""
    candidates = Job.objects.filter(kind=Kind.SCAN, status__in=ACTIVE).only(
        "path", "recursive", "status"
    )
    for job in candidates.order_by("created_at"):
        # One active scan per folder: a deeper request waits for the shallow one to end.
        if job.path == path or (job.recursive and is_within(path, [job.path])):
            return job
    return None


def active_scan_of(library: Library | None, path: str) -> Job | None:
    """The library's active scan, else the active scan that covers the folder."""
    if library is not None:
        job = Job.objects.filter(library=library, status__in=ACTIVE).first()
        if job is not None:
            return job
    return covering_scan(path)


def create_scan(
    path: str,
    recursive: bool = True,
    *,
    library: Library | None = None,
    origin: Origin = Origin.MANUAL,
    label: str = "",
) -> ScanStart:
    """A new pending scan job, or the active one that already covers the folder (or library).

    The unique constraints on active scans decide races between processes and hosts. Nobody is
    told: `services.start_scan` hands a new job to the workers once it is committed.
    """
    path = os.path.normpath(path)
    try:
        with transaction.atomic():
            existing = active_scan_of(library, path)
            if existing is not None:
                return ScanStart(existing, created=False)
            job = Job.objects.create(
                path=path, recursive=recursive, library=library, origin=origin, label=label
            )
    except IntegrityError:
        # Another request created an active scan of the same folder between our check and insert.
        existing = active_scan_of(library, path)
        if existing is None:
            raise
        return ScanStart(existing, created=False)
    return ScanStart(job, created=True)


def claim(job_id: int) -> bool:
    """pending → running. False when the job was cancelled, claimed already, or is gone."""
    now = timezone.now()
    won = Job.objects.filter(pk=job_id, status=Status.PENDING).update(
        status=Status.RUNNING, started_at=now, heartbeat_at=now
    )
    return won == 1


def should_stop(job_id: int) -> bool:
    """True once a cancel was asked for, or the job is no longer running (ended elsewhere)."""
    # Asked before every file: plain SQL, as building the ORM query costs ~10x the read itself.
    table = connection.ops.quote_name(Job._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT status, cancel_requested_at IS NOT NULL FROM {table} WHERE id = %s", [job_id]
        )
        row = cursor.fetchone()
    return row is None or row[0] != Status.RUNNING or bool(row[1])


def progress(job_id: int, **changes: object) -> bool:
    """Write counters and the heartbeat of a running job; False when it is no longer running.

    Integer counters are added to the stored ones, so parallel batches never overwrite each other.
    """
    values: dict[str, object] = {"heartbeat_at": timezone.now()}
    for name, value in changes.items():
        if isinstance(value, int) and not isinstance(value, bool):
            if value:
                values[name] = F(name) + value
        else:
            values[name] = value
    return Job.objects.filter(pk=job_id, status=Status.RUNNING).update(**values) == 1


WORKER_LOST = (
    "worker lost: the scan stopped reporting (its worker was killed or the machine restarted); "
    "the files read before that are kept"
)
RAN_TOO_LONG = "the scan ran past its time limit; the files read before that are kept"
COUNTERS = (
    "found",
    "to_read",
    "processed",
    "new",
    "updated",
    "unchanged",
    "skipped",
    "error_count",
)


def stale_before() -> datetime:
    """A running job whose last heartbeat is older than this has lost its worker."""
    return timezone.now() - timedelta(seconds=settings.STOAT_HEARTBEAT_STALE)


def silent_since(bound: datetime) -> Q:
    # A job claimed but never heard from again counts from its start.
    return Q(heartbeat_at__lt=bound) | Q(heartbeat_at=None, started_at__lt=bound)


def time_limit() -> float:
    """Seconds a scan task may run: the scanner's own limit, or the worker's if that is shorter."""
    task_timeout = settings.Q_CLUSTER.get("timeout") or settings.STOAT_JOB_TIME_LIMIT
    return float(min(settings.STOAT_JOB_TIME_LIMIT, task_timeout))


def is_silent(job: Job) -> bool:
    """The job is running but its worker has not been heard from within the bound."""
    last = job.heartbeat_at or job.started_at
    return job.status == Status.RUNNING and last is not None and last < stale_before()


def beat(job_id: int) -> bool:
    """Prove the worker of a running job is alive; False when the job is no longer running."""
    return (
        Job.objects.filter(pk=job_id, status=Status.RUNNING).update(heartbeat_at=timezone.now())
        == 1
    )


def resume(job_id: int) -> bool:
    """running, silent → running under the calling (re-delivered) task, once, never after a reap.

    The counters start again: files stored before the worker was lost count as unchanged.
    """
    with transaction.atomic():
        won = Job.objects.filter(
            silent_since(stale_before()), pk=job_id, status=Status.RUNNING, batches_total=0
        ).update(
            heartbeat_at=timezone.now(),
            phase=Phase.QUEUED,
            found_final=False,
            current_file="",
            missing=0,
            **dict.fromkeys(COUNTERS, 0),
        )
        if won:
            # The files that failed are read again, so their errors are recorded again.
            ScanError.objects.filter(job_id=job_id).delete()
            SkippedFile.objects.filter(job_id=job_id).delete()
    return won == 1


def resume_batch(job_id: int) -> bool:
    """A fanned-out job whose workers all went silent goes on under a re-delivered batch, once."""
    return (
        Job.objects.filter(
            silent_since(stale_before()), pk=job_id, status=Status.RUNNING, batches_total__gt=0
        ).update(heartbeat_at=timezone.now())
        == 1
    )


def reap_lost(job_id: int | None = None, *, waiting_batches_may_be_queued: bool = True) -> int:
    """End the running jobs whose worker went silent; how many were ended.

    A cancel that was asked for ends as cancelled, a job past its time limit as timeout (both keep
    their partial result), any other as failed "worker lost". It is one conditional UPDATE on
    status=running and a stale heartbeat, so a re-delivered task that resumed the job first wins.
    A fanned-out job with batches still to end is silent, too, while its batches wait in a busy
    queue: it is spared unless the caller knows the queue is empty.
    """
    now = timezone.now()
    lost = Job.objects.filter(silent_since(stale_before()), status=Status.RUNNING)
    if job_id is not None:
        lost = lost.filter(pk=job_id)
    if waiting_batches_may_be_queued:
        lost = lost.exclude(batches_total__gt=F("batches_done"))
    if not lost.exists():
        return 0
    too_old = now - timedelta(seconds=time_limit())
    cancelling = Q(cancel_requested_at__isnull=False)
    # One UPDATE, so a cancel landing meanwhile is seen by all of it or none of it.
    return lost.update(
        status=Case(
            When(cancelling, then=Value(Status.CANCELLED.value)),
            When(started_at__lt=too_old, then=Value(Status.TIMEOUT.value)),
            default=Value(Status.FAILED.value),
        ),
        failure_reason=Case(
            When(cancelling, then=Value("")),
            When(started_at__lt=too_old, then=Value(RAN_TOO_LONG)),
            default=Value(WORKER_LOST),
        ),
        finished_at=now,
        current_file="",
        phase=Phase.DONE,
    )


def finish(job_id: int, outcome: Status, failure_reason: str = "") -> bool:
    """running → complete | cancelled | failed | timeout, once."""
    return (
        Job.objects.filter(pk=job_id, status=Status.RUNNING).update(
            status=outcome,
            finished_at=timezone.now(),
            failure_reason=failure_reason,
            current_file="",
            phase=Phase.DONE,
        )
        == 1
    )


def conclude(job_id: int, *, timed_out: bool = False) -> Status | None:
    """End a running scan by what happened to it: cancelled, timed out, or complete.

    One UPDATE decides between them, so a cancel that lands while the scan ends is either seen
    (cancelled) or comes too late (complete, and the cancel is answered 409): never in between.
    """
    rules = [When(cancel_requested_at__isnull=False, then=Value(Status.CANCELLED.value))]
    if timed_out:
        unfinished = Q(found_final=False) | Q(processed__lt=F("found"))
        rules.append(When(unfinished, then=Value(Status.TIMEOUT.value)))
    outcome = Case(*rules, default=Value(Status.COMPLETE.value))
    with transaction.atomic():
        ended = Job.objects.filter(pk=job_id, status=Status.RUNNING).update(
            status=outcome, finished_at=timezone.now(), current_file="", phase=Phase.DONE
        )
        if not ended:
            return None
        status = Job.objects.values_list("status", flat=True).get(pk=job_id)
    return Status(status)


def plan_batches(job_id: int, sizes: list[int]) -> bool:
    """Record the batches a running scan fans out into; False when it is no longer running."""
    with transaction.atomic():
        if not progress(job_id, batches_total=len(sizes)):
            return False
        ScanBatch.objects.bulk_create(
            ScanBatch(job_id=job_id, number=number, files=files)
            for number, files in enumerate(sizes, start=1)
        )
    return True


def claim_batch(job_id: int, number: int, worker: str) -> bool:
    """pending → running for one batch, once: a task delivered twice reads its files once."""
    won = ScanBatch.objects.filter(job_id=job_id, number=number, status=BatchStatus.PENDING).update(
        status=BatchStatus.RUNNING, worker=worker, started_at=timezone.now()
    )
    return won == 1


def take_over_batch(job_id: int, number: int, worker: str, *, job_silent: bool) -> bool:
    """A re-delivered task takes over a batch whose run was lost, once.

    The run is known lost when its job went silent (a reading batch keeps the heartbeat going),
    or when it claimed the batch longer ago than the task timeout (django-q2 ends a task then).
    """
    timeout = float(settings.Q_CLUSTER.get("timeout") or settings.STOAT_JOB_TIME_LIMIT)
    lost = Q(started_at__lt=timezone.now() - timedelta(seconds=timeout)) | Q(started_at=None)
    batches = ScanBatch.objects.filter(job_id=job_id, number=number, status=BatchStatus.RUNNING)
    if not job_silent:
        batches = batches.filter(lost)
    previous = batches.values_list("worker", flat=True).first()
    if previous is None:
        return False
    with transaction.atomic():
        if not batches.filter(worker=previous).update(worker=worker, started_at=timezone.now()):
            return False
        # The lost run was counted as reading; this run counts itself again in start_batch.
        Job.objects.filter(pk=job_id, batches_reading__gt=0).update(
            batches_reading=F("batches_reading") - 1
        )
    return True


def start_batch(job_id: int) -> bool:
    """Let one batch read: only while its job runs and no cancel was asked for; counts it."""
    return (
        Job.objects.filter(pk=job_id, status=Status.RUNNING, cancel_requested_at=None).update(
            batches_reading=F("batches_reading") + 1
        )
        == 1
    )


def cancel_if_idle(job_id: int) -> bool:
    """running → cancelled for a fanned-out job asked to stop while no batch is reading.

    Batches still queued then find the job ended and do nothing, so nobody waits for them.
    """
    return (
        Job.objects.filter(pk=job_id, status=Status.RUNNING, batches_total__gt=0, batches_reading=0)
        .exclude(cancel_requested_at=None)
        .update(
            status=Status.CANCELLED, finished_at=timezone.now(), current_file="", phase=Phase.DONE
        )
        == 1
    )


def end_batch(
    job_id: int,
    number: int,
    *,
    read: int,
    started: bool = True,
    timed_out: bool = False,
    settle: Callable[[], None] | None = None,
) -> Status | None:
    """Count one claimed batch as done (`started`: it had begun reading, `read`: files it went
    through); the job ends with its last batch, or once a cancel was asked for and no batch reads.
    The last batch runs `settle` (the scan's reconcile) before the job ends.
    """
    changes: dict[str, Any] = {"batches_done": F("batches_done") + 1}
    if started:
        changes["batches_reading"] = F("batches_reading") - 1
    with transaction.atomic():
        ended = ScanBatch.objects.filter(
            job_id=job_id, number=number, status=BatchStatus.RUNNING
        ).update(status=BatchStatus.DONE, read=read, finished_at=timezone.now())
        if not ended:
            return None
        Job.objects.filter(pk=job_id).update(**changes)
    if cancel_if_idle(job_id):
        return Status.CANCELLED
    counts = Job.objects.filter(pk=job_id).values_list("batches_done", "batches_total").first()
    if counts is None or counts[0] < counts[1]:
        return None
    # Two batches ending together may both see the count complete: one UPDATE picks the one
    # that settles and concludes.
    settling = Job.objects.filter(pk=job_id, status=Status.RUNNING).exclude(phase=Phase.SETTLING)
    if not settling.update(phase=Phase.SETTLING):
        return None
    if settle is not None:
        settle()
    return conclude(job_id, timed_out=timed_out)


class CancelOutcome(enum.Enum):
    CANCELLED = "cancelled"  # was pending: cancelled at once
    REQUESTED = "requested"  # was running: the worker stops at its next file
    TERMINAL = "terminal"  # had already ended
    NOT_FOUND = "not_found"


def request_cancel(job_id: int) -> CancelOutcome | None:
    """pending → cancelled, or ask a running job to stop; None when neither applied."""
    now = timezone.now()
    if Job.objects.filter(pk=job_id, status=Status.PENDING).update(
        status=Status.CANCELLED, cancel_requested_at=now, finished_at=now, phase=Phase.DONE
    ):
        return CancelOutcome.CANCELLED
    if Job.objects.filter(pk=job_id, status=Status.RUNNING).update(
        cancel_requested_at=Coalesce(F("cancel_requested_at"), now)
    ):
        # A fanned-out scan between batches has nothing to stop: it ends now.
        cancel_if_idle(job_id)
        return CancelOutcome.REQUESTED
    return None
