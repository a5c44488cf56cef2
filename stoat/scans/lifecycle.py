"""The job state machine. Every transition is one conditional UPDATE whose row count decides it."""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, Exists, F, OuterRef, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from stoat.library.models import Library
from stoat.scans.models import (
    ACTIVE,
    Job,
    Kind,
    Origin,
    Phase,
    ScanArrival,
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
    """pending → running. False when the job was cancelled, claimed already, or is gone.

    A job that was fanned out into batches is never walked again: its batches resume it.
    """
    now = timezone.now()
    won = Job.objects.filter(pk=job_id, status=Status.PENDING, batches_total=0).update(
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


# A part of a scan (the walk, or one batch) lost this many times ends it: something in it kills
# its workers.
MAX_WORKER_LOSSES = 3


def lost_too_often(times: int) -> str:
    return (
        f"worker lost {times} times: the scan stopped reporting each time (its worker was killed "
        "or the machine restarted); the files read before that are kept"
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
    "moved",
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


def reap_lost(job_id: int | None = None) -> list[int]:
    """Hand back the scans whose worker went silent before fanning out (while walking or
    planning); returns the jobs to give to a worker again.

    running → pending, its counters and errors cleared, as the walk starts over (nothing was
    read yet). A cancel that was asked for ends it cancelled, a job past its time limit timeout,
    and a walk lost for the MAX_WORKER_LOSSES-th time failed. Fanned-out jobs are the
    batches' (`batches.release_lost`, `batches.wait_for_workers`).
    """
    now = timezone.now()
    lost = Job.objects.filter(silent_since(stale_before()), status=Status.RUNNING, batches_total=0)
    if job_id is not None:
        lost = lost.filter(pk=job_id)
    if not lost.exists():
        return []
    too_old = now - timedelta(seconds=time_limit())
    ended = {"finished_at": now, "current_file": "", "phase": Phase.DONE}
    lost.filter(cancel_requested_at__isnull=False).update(status=Status.CANCELLED, **ended)
    lost.filter(started_at__lt=too_old).update(
        status=Status.TIMEOUT, failure_reason=RAN_TOO_LONG, **ended
    )
    lost.filter(worker_losses__gte=MAX_WORKER_LOSSES - 1).update(
        status=Status.FAILED,
        failure_reason=lost_too_often(MAX_WORKER_LOSSES),
        worker_losses=MAX_WORKER_LOSSES,
        worker_lost_at=Coalesce("heartbeat_at", "started_at"),
        **ended,
    )
    handed_back: list[int] = []
    for pk in lost.values_list("pk", flat=True):
        with transaction.atomic():
            won = Job.objects.filter(
                silent_since(stale_before()), pk=pk, status=Status.RUNNING, batches_total=0
            ).update(
                status=Status.PENDING,
                phase=Phase.QUEUED,
                found_final=False,
                current_file="",
                missing=0,
                worker_losses=F("worker_losses") + 1,
                worker_lost_at=Coalesce("heartbeat_at", "started_at"),
                **dict.fromkeys(COUNTERS, 0),
            )
            if won:
                # The files that failed are read again, so their errors are recorded again.
                ScanError.objects.filter(job_id=pk).delete()
                SkippedFile.objects.filter(job_id=pk).delete()
                # Files it set aside are found and set aside again.
                ScanArrival.objects.filter(job_id=pk).delete()
                handed_back.append(pk)
    return handed_back


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


def cancel_if_idle(job_id: int) -> bool:
    """running → cancelled for a fanned-out job asked to stop while no batch is reading.

    Batches still queued then find the job ended and do nothing, so nobody waits for them. A job
    that set files aside (or is settling them) is left to the batch that settles it
    (`batches.conclude_if_idle`): cancel keeps what was read.
    """
    return (
        Job.objects.filter(pk=job_id, status=Status.RUNNING, batches_total__gt=0, batches_reading=0)
        .exclude(cancel_requested_at=None)
        .exclude(phase=Phase.SETTLING)
        .exclude(Exists(ScanArrival.objects.filter(job_id=OuterRef("pk"))))
        .update(
            status=Status.CANCELLED, finished_at=timezone.now(), current_file="", phase=Phase.DONE
        )
        == 1
    )


class CancelOutcome(enum.Enum):
    CANCELLED = "cancelled"  # was pending: cancelled at once
    REQUESTED = "requested"  # was running: the worker stops at its next file
    TERMINAL = "terminal"  # had already ended
    NOT_FOUND = "not_found"


def request_cancel(job_id: int) -> CancelOutcome | None:
    """pending → cancelled, or ask a running job to stop; None when neither applied."""
    now = timezone.now()
    kept = Exists(ScanArrival.objects.filter(job_id=OuterRef("pk")))
    if (
        Job.objects.filter(pk=job_id, status=Status.PENDING)
        .exclude(kept)
        .update(status=Status.CANCELLED, cancel_requested_at=now, finished_at=now, phase=Phase.DONE)
    ):
        return CancelOutcome.CANCELLED
    # A fanned-out scan waiting for a worker that set files aside: its next batch settles it.
    asked = Q(status=Status.RUNNING) | (Q(status=Status.PENDING) & Q(kept))
    if Job.objects.filter(asked, pk=job_id).update(
        cancel_requested_at=Coalesce(F("cancel_requested_at"), now)
    ):
        # A fanned-out scan between batches has nothing to stop: it ends now.
        cancel_if_idle(job_id)
        return CancelOutcome.REQUESTED
    return None
