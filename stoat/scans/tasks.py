"""django-q2 tasks: claim a job, run the scanner, end the job. Only this module knows django-q2."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.exceptions import TimeoutException
from django_q.models import Schedule
from django_q.tasks import async_task

from stoat.library.models import Library, Video, display_path, path_key
from stoat.scans import lifecycle
from stoat.scans.models import Job, Origin, ScanArrival, ScanError, SkippedFile
from stoat.scans.runner import record_failure
from stoat.scans.scanner import ReadItem, Scanner, mark_maybe_moved
from stoat.scans.store import JobEnded

ItemTuple = tuple[str, int, int, bool]


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

    A re-delivered task (its worker was lost) resumes the job if the reaper has not ended it.
    """
    if lifecycle.claim(job_id):
        prefix = ""
    elif lifecycle.resume(job_id):
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
            scanner.settle()
            return str(lifecycle.conclude(job_id, timed_out=scanner.timed_out))
        if not lifecycle.plan_batches(job_id, [len(batch) for batch in batches]):
            return "ended while planning"
        for number, batch in enumerate(batches, start=1):
            async_task(
                "stoat.scans.tasks.run_batch",
                job_id,
                number,
                batch,
                task_name=f"scan-{job_id}-batch-{number}",
            )
        return f"fanned out into {len(batches)} batches"
    except JobEnded:
        return "the job ended elsewhere"
    except Exception as error:
        record_failure(job_id, error)
        return "failed"


def worker_name() -> str:
    """Who runs this task, as batch records show it: the host (or its configured name) and pid."""
    return f"{settings.STOAT_WORKER_NAME}:{os.getpid()}"


def not_yet_read(job_id: int, items: list[ReadItem]) -> list[ReadItem]:
    """The items a lost run of this batch did not store (as a video or as an error) yet."""
    stored = set(
        Video.objects.filter(path_key__in=[path_key(i.path) for i in items]).values_list(
            "path_key", "size", "mtime_ns"
        )
    )
    failed = set(
        ScanError.objects.filter(
            job_id=job_id, path__in=[display_path(i.path) for i in items]
        ).values_list("path", flat=True)
    )
    failed.update(
        SkippedFile.objects.filter(
            job_id=job_id, path__in=[display_path(i.path) for i in items]
        ).values_list("path", flat=True)
    )
    # Files it set aside for reconcile are stored too (under their real path).
    failed.update(
        display_path(path)
        for path in ScanArrival.objects.filter(
            job_id=job_id, path__in=[i.path for i in items]
        ).values_list("path", flat=True)
    )
    return [
        i
        for i in items
        if (path_key(i.path), i.size, i.mtime_ns) not in stored
        and display_path(i.path) not in failed
    ]


def run_batch(job_id: int, number: int, items: list[ItemTuple]) -> str:
    """Read one batch of a fanned-out scan; the last batch to end concludes the job.

    A batch re-delivered after its worker was lost skips the files that run already stored.
    """
    # Which files may be moves is asked here, so the task's arguments stay plain tuples.
    to_read = mark_maybe_moved([ReadItem(*item) for item in items])
    job = Job.objects.filter(pk=job_id).first()
    silent = job is not None and lifecycle.is_silent(job)
    if lifecycle.claim_batch(job_id, number, worker_name()):
        taken_over = False
    elif lifecycle.take_over_batch(job_id, number, worker_name(), job_silent=silent):
        taken_over = True
    else:
        return "batch already taken"
    if taken_over or silent:
        # Re-delivered after its worker was lost (or long queued): revive the heartbeat unless
        # another batch did first; a reaped job is not running, so start_batch refuses it.
        lifecycle.resume_batch(job_id)
        to_read = not_yet_read(job_id, to_read)
    if not lifecycle.start_batch(job_id):
        # Cancelled or ended before this batch began: it reads nothing, only counts itself.
        outcome = lifecycle.end_batch(job_id, number, read=0, started=False)
        return f"batch skipped; job {outcome or 'ended'}"
    scanner = Scanner(Job.objects.get(pk=job_id))
    result = ""
    try:
        scanner.read(to_read)
    except JobEnded:
        result = "the job ended elsewhere"
    except TimeoutException:
        scanner.timed_out = True
    except Exception as error:
        record_failure(job_id, error)
        result = "failed"
    read = scanner.files_read

    def settle() -> None:
        # Only the last batch to end gets here: the whole scan's files are known now.
        try:
            scanner.settle()
        except JobEnded:
            pass
        except Exception as error:
            record_failure(job_id, error)

    # Every claimed batch is ended, so only a lost worker leaves one running.
    outcome = lifecycle.end_batch(
        job_id,
        number,
        read=read,
        timed_out=scanner.timed_out or time.time() > scanner.deadline,
        settle=settle,
    )
    return result or f"batch done; job {outcome or 'still running'}"


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
    """Run by a django-q2 schedule: end the running jobs whose worker went silent.

    Batches of a fanned-out job may sit in the queue behind other work; only once nothing waits
    there is such a job's silence proof that its workers were lost.
    """
    queued = get_broker().queue_size()
    ended = lifecycle.reap_lost(waiting_batches_may_be_queued=bool(queued))
    return f"ended {ended} lost job(s)"


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
