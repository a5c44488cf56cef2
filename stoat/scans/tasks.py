"""django-q2 tasks: claim a job, run the scanner, end the job. Only this module knows django-q2."""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.exceptions import TimeoutException
from django_q.models import Schedule
from django_q.tasks import async_task

from stoat.library.models import Library, Video
from stoat.scans import batches, lifecycle
from stoat.scans.batches import BatchLost, Claim
from stoat.scans.maybe_moved import mark_maybe_moved
from stoat.scans.models import Job, Origin
from stoat.scans.runner import record_failure
from stoat.scans.scanner import ReadItem, Scanner
from stoat.scans.store import JobEnded

log = logging.getLogger(__name__)

ItemTuple = tuple[str, int, int, bool]
# A batch task waiting to take over a quiet batch looks at it this often.
WAIT_FOR_OTHERS_SECONDS = 0.5


def enqueue_scan(job_id: int) -> None:
    async_task("stoat.scans.tasks.run_scan", job_id, task_name=f"scan-{job_id}")


def enqueue_confirm(video_id: int) -> None:
    """Hash a video and its copies in full on a worker (files may be large)."""
    async_task("stoat.scans.tasks.confirm_copies", video_id, task_name=f"confirm-{video_id}")


def confirm_copies(video_id: int) -> str:
    from stoat.library.duplicates import confirm_group_of

    video = Video.objects.filter(pk=video_id).first()
    if video is None:
        return "the video is gone"
    group = confirm_group_of(video)
    return f"{len(group.videos)} files hashed; identical: {group.confirmed}"


def queued_tasks() -> int:
    """How many tasks wait in the broker; raises when the broker cannot be reached."""
    return int(get_broker().queue_size())


def broker_name() -> str:
    return "redis" if settings.STOAT_BROKER_URL else "orm"


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


def run_scan(job_id: int) -> str:
    """Find the files of a pending scan, then read them here or fan them out as batches.

    A re-delivered task (its worker was lost while walking) starts the walk over.
    """
    if lifecycle.claim(job_id):
        prefix = ""
    elif hand_back_lost(job_id) >= 0 and lifecycle.claim(job_id):
        # Re-delivered after its worker was lost: the walk starts over (by us, or the reaper).
        prefix = "resumed; "
    else:
        return "not claimed: the job was cancelled, ended, or is running elsewhere"
    job = Job.objects.get(pk=job_id)
    scanner = Scanner(job)
    try:
        return prefix + scan_in_task(job_id, scanner)
    except TimeoutException:
        # django-q2's task timeout fired (SIGALRM): keep what was stored, end as timeout.
        return f"stopped by the task timeout; job {lifecycle.conclude(job_id, timed_out=True)}"


def scan_in_task(job_id: int, scanner: Scanner) -> str:
    planned = fan_out(job_id, scanner)
    if isinstance(planned, str):
        return planned
    # The first batch is read here and now: a task queued for it would wait for the queue's
    # next poll (0.1 s with the database broker) while this worker sat idle.
    read = run_batch(job_id, 1)
    return read if planned == 1 else f"fanned out into {planned} batches; {read}"


def fan_out(job_id: int, scanner: Scanner) -> int | str:
    """Walk and plan a claimed scan, record its batches and queue a task for each but the first
    (its caller reads that one): how many batches, or why the scan needs none."""
    try:
        found = scanner.find()
        if found is None:
            return str(lifecycle.conclude(job_id, timed_out=scanner.timed_out))
        plan = scanner.plan(*found)
        scanner.record_plan(plan)
        parts = split_batches(plan.to_read)
        if not parts or scanner.should_stop():
            # Nothing to read, or cancelled (or out of time) while planning: no batch needs to
            # be queued, and the renamed files it set aside are settled all the same.
            scanner.settle()
            return str(lifecycle.conclude(job_id, timed_out=scanner.timed_out))
        # Even one batch is recorded: a worker lost while reading it is taken over from its row.
        if not batches.plan(job_id, parts):
            return "ended while planning"
        # Batch 1 has no task: if this worker is lost before it claims it, a worker done with
        # another batch takes it (run_batch), or the reaper queues it with the job's others.
        for number in range(2, len(parts) + 1):
            enqueue_batch(job_id, number)
        return len(parts)
    except JobEnded:
        return "the job ended elsewhere"
    except Exception as error:
        record_failure(job_id, error)
        return "failed"


def worker_name() -> str:
    """Who runs this task, as batch records show it: the host (or its configured name) and pid."""
    return f"{settings.STOAT_WORKER_NAME}:{os.getpid()}"


def enqueue_batch(job_id: int, number: int) -> None:
    async_task(
        "stoat.scans.tasks.run_batch", job_id, number, task_name=f"scan-{job_id}-batch-{number}"
    )


def hand_back_lost(job_id: int | None = None) -> int:
    """Give the work of lost workers to the live ones (all jobs, or one); how much was handed.

    A walk starts over, a lost batch goes on from its files not yet stored, and a job no live
    worker reads waits as pending with all its unfinished batches queued again (the tasks that
    held them may have died with their worker: a second copy of a task only finds it taken).
    """
    walks = lifecycle.reap_lost(job_id)
    for pk in walks:
        enqueue_scan(pk)
    released = batches.release_lost(job_id)
    # The lost worker may have held the tasks of batches it had not begun (Redis hands a task
    # out once): every batch still pending of those jobs is queued again.
    for pk in sorted({pk for pk, _ in released}):
        for number in batches.unfinished(pk):
            enqueue_batch(pk, number)
    waiting, unsettled = batches.wait_for_workers(job_id)
    for pk in waiting:
        for number in batches.unfinished(pk):
            enqueue_batch(pk, number)
    for pk in unsettled:
        async_task("stoat.scans.tasks.settle_scan", pk, task_name=f"scan-{pk}-settle")
    return len(walks) + len(released) + len(waiting) + len(unsettled)


def settler(scanner: Scanner) -> Callable[[], None]:
    """The scan's reconcile, run by whoever ends its last batch: all its files are known then."""

    def settle() -> None:
        scanner.buffer.batch = None  # the batch is done: what settling reads is the job's
        try:
            scanner.settle()
        except JobEnded:
            pass
        except Exception as error:
            record_failure(scanner.job.pk, error)

    return settle


def settle_scan(job_id: int) -> str:
    """Settle and conclude a scan whose worker was lost after its last batch ended."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        return "no such job"
    outcome = batches.conclude_if_idle(job_id, settle=settler(Scanner(job)))
    return f"job {outcome or 'not concluded here'}"


def read_batch(claim: Claim) -> str:
    """Read the rest of a claimed batch and end it (the job with it, if it was the last);
    returns why this run stopped early, "" when it did not."""
    if not claim.reading:
        # Cancelled or ended before this batch began: it reads nothing, only counts itself
        # (and settles what the others set aside, if it ends the job).
        job = Job.objects.filter(pk=claim.job_id).first()
        batches.end(claim, settle=settler(Scanner(job)) if job is not None else None)
        return "skipped"
    job_id = claim.job_id
    scanner = Scanner(Job.objects.get(pk=job_id), batch=claim, watch=lambda: hand_back_lost(job_id))
    note = ""
    try:
        # Which files may be moves is asked here, so the batch keeps plain tuples.
        items = [ReadItem(*item) for item in claim.to_read]
        scanner.read(mark_maybe_moved(items, scanner.should_stop_soon))
    except BatchLost:
        # Given up for lost while it was slow: the batch is someone else's now.
        return "lost"
    except JobEnded:
        note = "the job ended elsewhere"
    except TimeoutException:
        scanner.timed_out = True
    except Exception as error:
        record_failure(job_id, error)
        note = "failed"
    # Every claimed batch is ended, so only a lost worker leaves one running.
    timed_out = scanner.timed_out or time.time() > scanner.deadline
    batches.end(claim, timed_out=timed_out, settle=settler(scanner))
    return note


def next_claim(job_id: int, worker: str) -> Claim | None:
    """More work of the job for a worker done with its batch: a batch still pending (its task
    not yet run, lost with a worker, or never queued: the first), then, while a worker of the
    job seems lost, the batch it held once it goes stale. None when all is read or being read
    by live workers: this worker is free to stop."""
    # Taken from the database at once: its own task may be queued behind this one, or on a
    # worker busy with a batch that costs more. Workers so end together, whatever each batch costs.
    claim = batches.claim(job_id, None, worker)
    if claim is not None:
        return claim
    while batches.needs_help(job_id):
        hand_back_lost(job_id)
        claim = batches.claim(job_id, None, worker)
        if claim is not None:
            return claim
        # Nothing to take yet: wait for the quiet batch to go stale (or to speak again).
        time.sleep(WAIT_FOR_OTHERS_SECONDS)
    return None


def run_batch(job_id: int, number: int, items: object = None) -> str:
    """Read batch `number` of a fanned-out scan, then any batch of the job still pending, then,
    while a worker of the job seems lost, the batches it held; the last batch to end concludes
    the job.

    (`items`: tasks queued by an older stoat carried their files; the batch row holds them now.)
    """
    worker = worker_name()
    claim = batches.claim(job_id, number, worker)
    read: list[str] = []
    while True:
        if claim is None:
            claim = next_claim(job_id, worker)
            if claim is None:
                break
        note = read_batch(claim)
        read.append(f"{claim.number}" + (f" ({note})" if note else ""))
        if note in ("lost", "failed", "the job ended elsewhere"):
            break
        claim = None
    if not read:
        return "batch already taken"
    status = Job.objects.filter(pk=job_id).values_list("status", flat=True).first()
    return f"batches {', '.join(read)}; job {status}"


REAPER_SCHEDULE = "stoat: end scans whose worker was lost"


def schedule_reaper(**kwargs: Any) -> None:
    """Create (or correct) the django-q2 schedule that runs the reaper every minute.

    Connected to post_migrate, so the schedule exists once per database however many workers
    start; update_or_create keeps it idempotent.
    """
    Schedule.objects.update_or_create(
        name=REAPER_SCHEDULE,
        defaults={
            "func": "stoat.scans.tasks.reap_lost_jobs",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )


def reap_lost_jobs() -> str:
    """Run by a django-q2 schedule: hand the work of lost workers to the live ones."""
    return f"handed back {hand_back_lost()} lost scan(s) or batch(es)"


def hand_back_on_start(**kwargs: Any) -> None:
    """django-q2's `post_spawn`: a worker that starts (after a reboot, say) takes on lost work.

    Work lost longer ago than the heartbeat bound is handed back now. A batch only quiet so far
    (its worker died moments before this restart) gets a task that waits to take it over: the
    tasks that held it may have died with that worker.
    """
    try:
        hand_back_lost()
        for job_id, number in batches.quiet():
            enqueue_batch(job_id, number)
    except Exception:  # a worker must start even when this fails; the schedule tries again
        log.exception("could not hand back the work of lost workers")


def library_schedule_name(library_id: int) -> str:
    return f"stoat: rescan library {library_id}"


def sync_library_schedule(library: Library) -> None:
    """Create, correct or drop the library's rescan schedule: one per library, by its name.

    The first run is one interval (or the next cron time) from now; an unchanged schedule keeps
    its next run, so saving a library or restarting never moves or duplicates it.
    """
    name = library_schedule_name(library.pk)
    if library.every_minutes is None and not library.cron:
        Schedule.objects.filter(name=name).delete()
        return
    if library.cron:
        wanted: dict[str, Any] = {
            "schedule_type": Schedule.CRON,
            "cron": library.cron,
            "minutes": None,
        }
    else:
        wanted = {"schedule_type": Schedule.MINUTES, "minutes": library.every_minutes, "cron": None}
    current = Schedule.objects.filter(name=name).first()
    if current is not None and all(getattr(current, k) == v for k, v in wanted.items()):
        return
    schedule = current or Schedule(
        name=name, func="stoat.scans.tasks.scan_library_on_schedule", args=repr(library.pk)
    )
    for key, value in wanted.items():
        setattr(schedule, key, value)
    schedule.repeats = -1
    schedule.next_run = schedule.calculate_next_run(timezone.now())
    schedule.save()


def remove_library_schedule(library_id: int) -> None:
    Schedule.objects.filter(name=library_schedule_name(library_id)).delete()


def library_next_runs(library_ids: list[int]) -> dict[int, datetime | None]:
    names = {library_schedule_name(pk): pk for pk in library_ids}
    found = dict(Schedule.objects.filter(name__in=names).values_list("name", "next_run"))
    return {pk: found.get(name) for name, pk in names.items()}


def scan_library_on_schedule(library_id: int) -> str:
    """Run by a library's schedule: start its scan, unless one is active (then that one counts)."""
    from stoat.library.libraries import scan_library

    library = Library.objects.filter(pk=library_id).first()
    if library is None:
        remove_library_schedule(library_id)
        return f"library {library_id} is gone; its schedule was removed"
    start = scan_library(library, origin=Origin.SCHEDULE)
    if not start.created:
        return f"library {library.name}: scan {start.job.pk} is already active; none added"
    return f"library {library.name}: scan {start.job.pk} started"
