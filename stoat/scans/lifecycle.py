"""The job state machine. Every transition is one conditional UPDATE whose row count decides it."""

from __future__ import annotations

import enum
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from stoat.scans.models import ACTIVE, Job, Kind, Phase, Status

Enqueue = Callable[[int], None]


def default_enqueue(job_id: int) -> None:
    from stoat.scans.tasks import enqueue_scan

    enqueue_scan(job_id)


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
        if job.path == path:
            return job
        if job.recursive and path.startswith(job.path.rstrip(os.sep) + os.sep):
            return job
    return None


def create_scan(path: str, recursive: bool = True, *, enqueue: Enqueue | None = None) -> ScanStart:
    """A new pending scan job, or the active one that already covers the folder.

    The worker is told once the new row is committed, never before.
    """
    path = os.path.normpath(path)
    try:
        with transaction.atomic():
            existing = covering_scan(path)
            if existing is not None:
                return ScanStart(existing, created=False)
            job = Job.objects.create(path=path, recursive=recursive)
            send = enqueue or default_enqueue
            transaction.on_commit(lambda: send(job.pk))
    except IntegrityError:
        # Another request created an active scan of the same folder between our check and insert.
        existing = covering_scan(path)
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


def finish(job_id: int, outcome: Status, error: str = "") -> bool:
    """running → complete | cancelled | failed | timeout, once."""
    return (
        Job.objects.filter(pk=job_id, status=Status.RUNNING).update(
            status=outcome,
            finished_at=timezone.now(),
            error=error,
            current_file="",
            phase=Phase.DONE,
        )
        == 1
    )


def conclude(job_id: int, *, timed_out: bool = False) -> Status | None:
    """End a running scan by what happened to it: cancelled, timed out, or complete."""
    running = Job.objects.filter(pk=job_id, status=Status.RUNNING)
    steps = [(running.exclude(cancel_requested_at=None), Status.CANCELLED)]
    if timed_out:
        unfinished = Q(found_final=False) | Q(processed__lt=F("found"))
        steps.append((running.filter(unfinished), Status.TIMEOUT))
    steps.append((running, Status.COMPLETE))
    for rows, outcome in steps:
        if rows.update(
            status=outcome, finished_at=timezone.now(), current_file="", phase=Phase.DONE
        ):
            return outcome
    return None


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


def end_batch(job_id: int, *, started: bool = True, timed_out: bool = False) -> Status | None:
    """Count one batch as done (`started`: start_batch let it read); the job ends with its last
    batch, or as soon as a cancel was asked for and no batch is reading any more."""
    changes: dict[str, Any] = {"batches_done": F("batches_done") + 1}
    if started:
        changes["batches_reading"] = F("batches_reading") - 1
    Job.objects.filter(pk=job_id).update(**changes)
    if cancel_if_idle(job_id):
        return Status.CANCELLED
    counts = Job.objects.filter(pk=job_id).values_list("batches_done", "batches_total").first()
    if counts is None or counts[0] < counts[1]:
        return None
    return conclude(job_id, timed_out=timed_out)


class CancelOutcome(enum.Enum):
    CANCELLED = "cancelled"  # was pending: cancelled at once
    REQUESTED = "requested"  # was running: the worker stops at its next file
    TERMINAL = "terminal"  # had already ended
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class CancelResult:
    outcome: CancelOutcome
    job: Job | None

    @property
    def accepted(self) -> bool:
        return self.outcome in (CancelOutcome.CANCELLED, CancelOutcome.REQUESTED)


def request_cancel(job_id: int) -> CancelResult:
    """Cancel a job as the view, the API and the command all do it."""
    now = timezone.now()
    outcome = CancelOutcome.NOT_FOUND
    if Job.objects.filter(pk=job_id, status=Status.PENDING).update(
        status=Status.CANCELLED, cancel_requested_at=now, finished_at=now, phase=Phase.DONE
    ):
        outcome = CancelOutcome.CANCELLED
    elif Job.objects.filter(pk=job_id, status=Status.RUNNING).update(
        cancel_requested_at=Coalesce(F("cancel_requested_at"), now)
    ):
        outcome = CancelOutcome.REQUESTED
        # A fanned-out scan between batches has nothing to stop: it ends now.
        cancel_if_idle(job_id)
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        return CancelResult(CancelOutcome.NOT_FOUND, None)
    if outcome is CancelOutcome.NOT_FOUND:
        outcome = CancelOutcome.TERMINAL
    return CancelResult(outcome, job)
