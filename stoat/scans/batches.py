"""The life of one batch of a fanned-out scan, and its hand-over when its worker is lost.

Every step is a conditional UPDATE. A batch is owned by the run that claimed it: the run's
worker name and the batch's loss count together, so a run that was given up for lost (a frozen
process that wakes up) can no longer store anything. `Job.batches_reading` always equals the
number of running batches, because each step that starts or stops one changes both at once.
Knows the database, nothing of django-q2.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Greatest
from django.utils import timezone

from stoat.library.models import Video, display_path, path_key
from stoat.scans import lifecycle
from stoat.scans.lifecycle import MAX_WORKER_LOSSES, lost_too_often
from stoat.scans.models import (
    ACTIVE,
    BatchStatus,
    Job,
    Phase,
    ScanArrival,
    ScanBatch,
    ScanError,
    SkippedFile,
    Status,
)

Item = tuple[str, int, int, bool]


class BatchLost(Exception):
    """This run's batch was handed to another worker: it must stop without storing more."""


@dataclass(frozen=True)
class Claim:
    """One run's hold on a batch: what it reads, from where, and the proof it still owns it."""

    job_id: int
    number: int
    worker: str
    losses: int
    items: list[Item]
    start: int  # files stored by earlier runs of this batch
    reading: bool  # False: the job had ended or a cancel was asked, the batch was only counted

    def owned(self) -> Q:
        return Q(
            job_id=self.job_id,
            number=self.number,
            status=BatchStatus.RUNNING,
            worker=self.worker,
            losses=self.losses,
        )

    @property
    def to_read(self) -> list[Item]:
        """Its files that no earlier run of the batch stored (all of them on a first run).

        Readers may take a batch's files out of order (the ones that may be moves first), so
        this asks what each file left behind: a row as it is now, an error, a skip or an arrival.
        """
        if not self.start:
            return self.items
        paths = [display_path(path) for path, *_ in self.items]
        stored: set[tuple[str, int, int]] = set()
        left: set[str] = set()
        for first in range(0, len(self.items), 500):
            chunk = self.items[first : first + 500]
            keys = [path_key(path) for path, *_ in chunk]
            shown = paths[first : first + 500]
            rows = Video.objects.filter(path_key__in=keys)
            stored.update(rows.values_list("path_key", "size", "mtime_ns"))
            for model in (ScanError, SkippedFile):
                left.update(
                    model.objects.filter(job_id=self.job_id, path__in=shown).values_list(
                        "path", flat=True
                    )
                )
            arrivals = ScanArrival.objects.filter(
                job_id=self.job_id, path__in=[path for path, *_ in chunk]
            )
            left.update(display_path(path) for path in arrivals.values_list("path", flat=True))
        return [
            item
            for item, shown_path in zip(self.items, paths, strict=True)
            if (path_key(item[0]), item[1], item[2]) not in stored and shown_path not in left
        ]


def encode_items(items: Sequence[Item]) -> str:
    # ASCII JSON keeps the surrogate escapes of non-UTF-8 file names intact in any database.
    return json.dumps([list(item) for item in items])


def decode_items(text: str) -> list[Item]:
    return [(path, size, mtime_ns, existing) for path, size, mtime_ns, existing in json.loads(text)]


def plan(job_id: int, batches: Sequence[Sequence[Item]]) -> bool:
    """Record the batches a running scan fans out into; False when it is no longer running."""
    with transaction.atomic():
        if not lifecycle.progress(job_id, batches_total=len(batches)):
            return False
        ScanBatch.objects.bulk_create(
            ScanBatch(job_id=job_id, number=number, files=len(items), items=encode_items(items))
            for number, items in enumerate(batches, start=1)
        )
    return True


def claim(job_id: int, number: int | None, worker: str) -> Claim | None:
    """pending → running for batch `number` (None: the first one still pending), once.

    A job waiting for a worker after a loss runs again. A job that ended or was asked to cancel
    gets its batch counted as done at once, unread (`reading` False); the caller then ends it.
    """
    now = timezone.now()
    pending = ScanBatch.objects.filter(job_id=job_id, status=BatchStatus.PENDING)
    numbers = [number] if number is not None else pending.values_list("number", flat=True)[:20]
    for candidate in numbers:
        with transaction.atomic():
            won = pending.filter(number=candidate).update(
                status=BatchStatus.RUNNING, worker=worker, started_at=now, heartbeat_at=now
            )
            if not won:
                continue
            reading = Job.objects.filter(
                pk=job_id, status__in=ACTIVE, batches_total__gt=0, cancel_requested_at=None
            ).update(
                status=Status.RUNNING,
                phase=Phase.READING,
                heartbeat_at=now,
                batches_reading=F("batches_reading") + 1,
            )
            batch = ScanBatch.objects.values_list("losses", "read", "items").get(
                job_id=job_id, number=candidate
            )
            if not reading:
                ScanBatch.objects.filter(job_id=job_id, number=candidate).update(
                    status=BatchStatus.DONE, finished_at=now
                )
                Job.objects.filter(pk=job_id).update(batches_done=F("batches_done") + 1)
        losses, read, items = batch
        return Claim(job_id, candidate, worker, losses, decode_items(items), read, bool(reading))
    return None


def beat(claim: Claim, read: int = 0) -> None:
    """The batch's heartbeat and `read` more files stored; raises BatchLost if no longer ours.

    Called inside the transaction that stores those files, so a lost run stores none of them.
    """
    changes: dict[str, object] = {"heartbeat_at": timezone.now()}
    if read:
        changes["read"] = F("read") + read
    if not ScanBatch.objects.filter(claim.owned()).update(**changes):
        raise BatchLost(claim.number)


def end(
    claim: Claim, *, timed_out: bool = False, settle: Callable[[], None] | None = None
) -> Status | None:
    """running → done for this run's batch, then the job's end if it was its last batch (or a
    cancel was asked and no batch reads). None while the job goes on (or the batch was lost)."""
    if claim.reading and not finish_batch(claim):
        return None
    return conclude_if_idle(claim.job_id, timed_out=timed_out, settle=settle)


def finish_batch(claim: Claim) -> bool:
    """running → done for this run's batch, counted; False when it is no longer this run's."""
    with transaction.atomic():
        ended = ScanBatch.objects.filter(claim.owned()).update(
            status=BatchStatus.DONE, finished_at=timezone.now()
        )
        if ended:
            Job.objects.filter(pk=claim.job_id).update(
                batches_done=F("batches_done") + 1, batches_reading=F("batches_reading") - 1
            )
    return bool(ended)


def conclude_if_idle(
    job_id: int, *, timed_out: bool = False, settle: Callable[[], None] | None = None
) -> Status | None:
    """End the job once its last batch is done, or once a cancel was asked and no batch reads;
    `settle`, the scan's reconcile, runs first, so a cancelled scan keeps the files it set aside."""
    if settle is None and lifecycle.cancel_if_idle(job_id):
        return Status.CANCELLED
    done = Job.objects.filter(pk=job_id).values_list("batches_done", "batches_total").first()
    if done is None:
        return None
    # Two batches ending together may both see the count complete: one UPDATE picks the one
    # that settles and concludes.
    settling = Job.objects.filter(pk=job_id).exclude(phase=Phase.SETTLING)
    # Asked to cancel and no batch reads: a job waiting for a worker runs again to settle.
    cancelled = Q(status__in=ACTIVE, batches_total__gt=0, batches_reading=0) & ~Q(
        cancel_requested_at=None
    )
    if done[0] < done[1]:
        if settle is None:
            return None
        # Batches left unread only count themselves when they come.
        settling = settling.filter(cancelled)
    else:
        settling = settling.filter(Q(status=Status.RUNNING) | cancelled)
    if not settling.update(
        status=Status.RUNNING, phase=Phase.SETTLING, heartbeat_at=timezone.now()
    ):
        return None
    if settle is not None:
        settle()
    return lifecycle.conclude(job_id, timed_out=timed_out)


def release_lost(job_id: int | None = None) -> list[tuple[int, int]]:
    """Hand the batches whose worker went silent back to the queue: running → pending.

    Returns the (job, batch) pairs to hand to the workers again. A batch lost for the
    MAX_WORKER_LOSSES-th time fails its job instead; a job asked to cancel ends once none reads.
    """
    bound = lifecycle.stale_before()
    silent = ScanBatch.objects.filter(
        status=BatchStatus.RUNNING, heartbeat_at__lt=bound, job__status=Status.RUNNING
    )
    if job_id is not None:
        silent = silent.filter(job_id=job_id)
    released: list[tuple[int, int]] = []
    rows = silent.values_list("job_id", "number", "worker", "losses", "heartbeat_at")
    for job, number, worker, losses, last_seen in rows:
        with transaction.atomic():
            won = ScanBatch.objects.filter(
                job_id=job,
                number=number,
                status=BatchStatus.RUNNING,
                worker=worker,
                losses=losses,
                heartbeat_at__lt=bound,
            ).update(status=BatchStatus.PENDING, worker="", losses=F("losses") + 1)
            if not won:
                continue
            Job.objects.filter(pk=job).update(
                batches_reading=F("batches_reading") - 1,
                worker_lost_at=last_seen,
                worker_losses=Greatest(F("worker_losses"), losses + 1),
            )
            if losses + 1 >= MAX_WORKER_LOSSES:
                lifecycle.finish(job, Status.FAILED, lost_too_often(losses + 1))
                continue
        if lifecycle.cancel_if_idle(job):
            continue
        released.append((job, number))
    return released


def wait_for_workers(job_id: int | None = None) -> tuple[list[int], list[int]]:
    """running → pending for fanned-out jobs that no live worker reads ("waiting for a worker").

    A job is waiting when nobody wrote its progress within the heartbeat bound and none of its
    batches is running. Its unfinished batches must be handed out again: the tasks that held
    them may have died with their worker. Returns those jobs, and the jobs whose worker was lost
    after their last batch ended (they only need settling and concluding). A cancel asked
    meanwhile ends it cancelled, a job past its time limit timeout (both keep what was read).
    """
    now = timezone.now()
    reading = ScanBatch.objects.filter(job=OuterRef("pk"), status=BatchStatus.RUNNING)
    idle = Job.objects.filter(
        lifecycle.silent_since(lifecycle.stale_before()),
        status=Status.RUNNING,
        batches_total__gt=0,
    ).exclude(Exists(reading))
    if job_id is not None:
        idle = idle.filter(pk=job_id)
    waiting: list[int] = []
    unsettled: list[int] = []
    # The scan's own limit: its batches are many tasks, so one task's timeout does not bound it.
    too_old = now - timedelta(seconds=settings.STOAT_JOB_TIME_LIMIT)
    for job, started, done, total in idle.values_list(
        "pk", "started_at", "batches_done", "batches_total"
    ):
        if lifecycle.cancel_if_idle(job):
            continue
        if done >= total:
            # Its last batch ended, but the worker was lost before the job did (while settling):
            # settle and conclude it again.
            lost = Job.objects.filter(
                lifecycle.silent_since(lifecycle.stale_before()), pk=job, status=Status.RUNNING
            )
            if lost.update(phase=Phase.READING, heartbeat_at=now):
                unsettled.append(job)
            continue
        kept = ScanArrival.objects.filter(job_id=job).exists()
        if started is not None and started < too_old and not kept:
            lifecycle.finish(job, Status.TIMEOUT)
            continue
        # Out of time but with files set aside: its batches come back, read nothing, and the
        # last settles them before the job ends as timeout.
        # Checked on the job's own row too: PostgreSQL re-reads that row after a batch claimed
        # meanwhile commits, but not the subquery, which would miss the new running batch.
        still_idle = Job.objects.filter(
            lifecycle.silent_since(lifecycle.stale_before()),
            pk=job,
            status=Status.RUNNING,
            batches_reading=0,
        ).exclude(Exists(reading))
        if still_idle.update(
            status=Status.PENDING,
            # A cancelled job lost while settling settles again when its batches come.
            phase=Phase.READING,
            current_file="",
            worker_lost_at=F("heartbeat_at"),
        ):
            waiting.append(job)
    return waiting, unsettled


def unfinished(job_id: int) -> list[int]:
    """The numbers of the job's batches that still wait for a worker."""
    return list(
        ScanBatch.objects.filter(job_id=job_id, status=BatchStatus.PENDING).values_list(
            "number", flat=True
        )
    )


def quiet_since() -> datetime:
    """A reading batch writes progress every few tenths of a second: one silent since this
    moment has lost its worker, or is inside a slow file (which beats only now and then)."""
    quiet = timezone.now() - timedelta(seconds=max(2.0, 4 * settings.STOAT_PROGRESS_INTERVAL))
    return max(quiet, lifecycle.stale_before())


def needs_help(job_id: int) -> bool:
    """Some batch of the running job went quiet, or was handed back after its worker was lost:
    a worker done with its own batch stays to take on such work instead of leaving."""
    batches = ScanBatch.objects.filter(job_id=job_id, job__status__in=ACTIVE)
    return (
        batches.filter(status=BatchStatus.RUNNING, heartbeat_at__lt=quiet_since()).exists()
        or batches.filter(status=BatchStatus.PENDING, losses__gt=0).exists()
    )


def quiet() -> list[tuple[int, int]]:
    """One running batch of each job whose batches all went quiet: their workers may have just
    died (a host restarting), or may be inside slow files."""
    bound = quiet_since()
    recent = ScanBatch.objects.filter(
        job=OuterRef("job"), status=BatchStatus.RUNNING, heartbeat_at__gte=bound
    )
    rows = (
        ScanBatch.objects.filter(
            status=BatchStatus.RUNNING, heartbeat_at__lt=bound, job__status=Status.RUNNING
        )
        .exclude(Exists(recent))
        .values_list("job_id", "number")
    )
    first: dict[int, int] = {}
    for job_id, number in rows:
        first.setdefault(job_id, number)
    return list(first.items())
