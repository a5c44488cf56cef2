"""A job's progress panel, rendered once per state and second in each web process.

A hundred open pages of one job poll it every second, and the job changes about twice a
second: between two changes they all get the same panel. Only the cancel button depends on
who asks, so it stays out of the shared part.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Min, QuerySet
from django.template.defaultfilters import pluralize
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from stoat.core.checkin import is_recent, last_checkin
from stoat.library.models import Video
from stoat.scans.models import Job, ScanError, SkippedFile

ERRORS_SHOWN = 500
# While a scan runs, each poll re-sends only its latest errors.
ERRORS_SHOWN_WHILE_RUNNING = 20
# Reasons listed when an ended scan's errors are grouped, and missing files named.
REASONS_SHOWN = 20
MISSING_SHOWN = 200
# Panels kept per process: a few seconds of every job being watched.
KEPT = 256

_panels: OrderedDict[tuple[Any, ...], Panel] = OrderedDict()
_lock = threading.Lock()


@dataclass(frozen=True)
class Panel:
    state: SafeString
    errors: SafeString
    missing: SafeString
    not_video: SafeString


def shown_errors(job: Job) -> list[ScanError]:
    """Errors in the order they happened: the first ones of an ended scan, the latest of a
    running one."""
    errors = job.file_errors.all()
    if not job.error_count:
        # The counter is committed with the rows it counts: none counted, none to read.
        return []
    if job.is_active:
        return list(errors.order_by("-id")[:ERRORS_SHOWN_WHILE_RUNNING])[::-1]
    return list(errors.order_by("id")[:ERRORS_SHOWN])


def error_reasons(job: Job) -> list[dict[str, Any]]:
    """An ended scan's errors counted by reason, the most frequent first (one grouped query)."""
    if job.is_active or job.error_count < 2:
        return []
    grouped = (
        job.file_errors.values("message")
        .annotate(files=Count("id"), first=Min("id"))
        .order_by("-files", "first")
    )
    return list(grouped[:REASONS_SHOWN])


def skipped_files(job: Job) -> list[SkippedFile]:
    """Files that were not videos: the first ones of an ended scan, the latest of a running one."""
    if not job.skipped:
        return []
    if job.is_active:
        return list(job.skipped_files.order_by("-id")[:ERRORS_SHOWN_WHILE_RUNNING])[::-1]
    return list(job.skipped_files.order_by("id")[:ERRORS_SHOWN])


def missing_files(job: Job) -> QuerySet[Video]:
    if not job.missing:
        return Video.objects.none()
    return job.missing_videos.filter(missing=True).order_by("path")[:MISSING_SHOWN]


def render_panel(job: Job) -> Panel:
    # No request: nothing that depends on the user can leak into a shared panel.
    context = {
        "job": job,
        "file_errors": shown_errors(job),
        "reasons": error_reasons(job),
        "missing_files": missing_files(job),
        "skipped_files": skipped_files(job),
        # A scan that waits while no worker is alive would wait for ever: say what to start.
        "no_worker": job.status == "pending" and not is_recent(last_checkin()),
    }
    return Panel(
        state=mark_safe(render_to_string("scans/_progress_state.html", context)),
        errors=mark_safe(render_to_string("scans/_progress_errors.html", context)),
        missing=mark_safe(render_to_string("scans/_progress_missing.html", context)),
        not_video=mark_safe(render_to_string("scans/_progress_skipped.html", context)),
    )


def said_key(job: Job) -> str:
    """What the live region last said, in a word: it changes only when the sentence does."""
    return f"{job.status}-stopping" if job.cancel_requested_at and job.is_active else job.status


def announcement(job: Job) -> str:
    """The sentence a screen reader hears when the scan's state changes (and only then)."""
    counts = f"{job.processed:,} file{pluralize(job.processed)} read, " + (
        f"{job.error_count:,} error{pluralize(job.error_count)}"
    )
    if job.status == "pending":
        return f"Scan {job.pk} is waiting for a worker."
    if job.is_active:
        if job.cancel_requested_at:
            return f"Cancelling scan {job.pk}: it stops at the next file."
        return f"Scan {job.pk} started."
    if job.status == "failed":
        return f"Scan {job.pk} failed: {job.failure_reason or 'no reason given'}."
    ended = {"complete": "complete", "cancelled": "cancelled", "timeout": "timed out"}
    return f"Scan {job.pk} {ended.get(job.status, job.status)}: {counts}."


def job_panel(job: Job) -> Panel:
    """The panel for this state of the job, rendered at most once per second.

    Every column is in the key, so a change (a count, an error, the end) shows at the next
    poll; times shown relative to now ("elapsed", "3 min ago") are at most a second old.
    """
    key = (int(time.time()), *(getattr(job, field.attname) for field in Job._meta.concrete_fields))
    panel = _panels.get(key)
    if panel is None:
        panel = render_panel(job)
        with _lock:
            _panels[key] = panel
            while len(_panels) > KEPT:
                _panels.popitem(last=False)
    return panel


def forget_panels() -> None:
    """Drop every kept panel (tests that reuse ids and freeze time start clean)."""
    with _lock:
        _panels.clear()
