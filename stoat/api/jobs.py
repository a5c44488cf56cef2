"""/api/v1/jobs: scan jobs, their progress and results, and cancelling them."""

from __future__ import annotations

from typing import Literal

from django.db.models import Prefetch, prefetch_related_objects
from django.http import HttpRequest
from ninja import P, PathEx, QueryEx

from stoat.api.errors import ApiError, not_found
from stoat.api.routing import ApiRouter
from stoat.api.schemas import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    MAX_OFFSET,
    ErrorOut,
    JobListOut,
    JobOut,
    JobResultOut,
    NotVideoOut,
    ScanErrorOut,
    id_named,
)
from stoat.scans import services
from stoat.scans.lifecycle import CancelOutcome
from stoat.scans.models import Job, ScanError, SkippedFile, Status

router = ApiRouter(tags=["jobs"])

# Job ids are strings (as the older service's UUIDs were); one that names no job is a 404.
JOB_ID = P(description="The job's id, as returned by a scan.")
# A job's result lists this many file errors (and files that are no video); the counts count all.
ERRORS_LISTED = 1000
LISTED_ERRORS = "listed_file_errors"
LISTED_NOT_VIDEO = "listed_not_video"
# States whose counters are a result worth reporting (timeout keeps its partial result too).
HAS_RESULT = (Status.COMPLETE, Status.CANCELLED, Status.TIMEOUT)


def with_file_errors(jobs: list[Job]) -> list[Job]:
    """Load the listed file errors and files that are no video of every job with a result, in
    one query each for them all."""
    listed = ScanError.objects.only("job_id", "path", "message").order_by("id")[:ERRORS_LISTED]
    left_out = SkippedFile.objects.only("job_id", "path", "reason").order_by("id")[:ERRORS_LISTED]
    prefetch_related_objects(
        [job for job in jobs if job.status in HAS_RESULT],
        # A sliced prefetch must land in an attribute of its own.
        Prefetch("file_errors", listed, to_attr=LISTED_ERRORS),
        Prefetch("skipped_files", left_out, to_attr=LISTED_NOT_VIDEO),
    )
    return jobs


def job_result(job: Job) -> JobResultOut | None:
    if job.status not in HAS_RESULT:
        return None
    return JobResultOut(
        scanned=job.processed,
        new=job.new,
        updated=job.updated,
        skipped=job.skipped_total,
        unchanged=job.unchanged,
        not_video=job.skipped,
        not_video_files=[
            NotVideoOut(path=f.path, reason=f.reason) for f in getattr(job, LISTED_NOT_VIDEO)
        ],
        errors=[ScanErrorOut(path=e.path, error=e.message) for e in getattr(job, LISTED_ERRORS)],
        # The counter is written with the rows, in one transaction: it is their count.
        errors_total=job.error_count,
        moved=job.moved,
        missing=job.missing,
    )


def job_json(job: Job) -> JobOut:
    return JobOut(
        job_id=str(job.pk),
        status=Status(job.status),
        progress=job.fraction,
        result=job_result(job),
        error=job.failure_reason or None,
        path=job.path,
        recursive=job.recursive,
        cancel_requested=job.cancel_requested_at is not None,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        worker_lost_at=job.worker_lost_at,
        worker_losses=job.worker_losses,
    )


@router.get("", response={200: JobListOut, 400: ErrorOut, 422: ErrorOut}, summary="The job history")
def list_jobs(
    request: HttpRequest,
    status: QueryEx[Status | Literal[""] | None, P(description="Only jobs in this state.")] = None,
    limit: QueryEx[int, P(ge=1, le=MAX_LIMIT, description="Jobs per page.")] = DEFAULT_LIMIT,
    offset: QueryEx[int, P(ge=0, le=MAX_OFFSET, description="Jobs to skip.")] = 0,
) -> JobListOut:
    """Jobs, newest first."""
    jobs = services.list_jobs(status or None)
    page = with_file_errors(list(jobs[offset : offset + limit]))
    return JobListOut(
        jobs=[job_json(job) for job in page], total=jobs.count(), limit=limit, offset=offset
    )


@router.get(
    "/{job_id}",
    response={200: JobOut, 400: ErrorOut, 404: ErrorOut},
    summary="A job's status, progress and result",
)
def job_detail(request: HttpRequest, job_id: PathEx[str, JOB_ID]) -> JobOut:
    pk = id_named(job_id)
    job = None if pk is None else Job.objects.filter(pk=pk).first()
    if job is None:
        raise not_found(f"Job {job_id} not found")
    return job_json(with_file_errors([services.current(job)])[0])


@router.post(
    "/{job_id}/cancel",
    response={200: JobOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Cancel a pending or running job",
)
def cancel_job(request: HttpRequest, job_id: PathEx[str, JOB_ID]) -> JobOut:
    """A pending job ends at once; a running one stops at its next file."""
    pk = id_named(job_id)
    if pk is None:
        raise not_found(f"Job {job_id} not found")
    result = services.cancel_job(pk)
    if result.job is None:
        raise not_found(f"Job {job_id} not found")
    if result.outcome is CancelOutcome.TERMINAL:
        raise ApiError(409, "ALREADY_TERMINAL", f"Job {job_id}: {result.message}")
    return job_json(with_file_errors([result.job])[0])
