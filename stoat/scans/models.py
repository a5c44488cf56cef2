from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import models
from django.utils import timezone

from stoat.library.models import Library, path_key


class Status(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETE = "complete"
    FAILED = "failed"
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"


ACTIVE = (Status.PENDING, Status.RUNNING)
TERMINAL = (Status.COMPLETE, Status.FAILED, Status.TIMEOUT, Status.CANCELLED)


class Phase(models.TextChoices):
    QUEUED = "queued"
    FINDING = "finding", "finding files"
    READING = "reading", "reading files"
    SETTLING = "settling", "matching moved files"
    DONE = "done"


# Time left is shown once this many files were read over at least this many seconds.
ESTIMATE_AFTER_FILES = 5
ESTIMATE_AFTER = 2.0


class Kind(models.TextChoices):
    SCAN = "scan"


class Origin(models.TextChoices):
    MANUAL = "manual", "by hand"
    SCHEDULE = "schedule", "on schedule"
    WATCH = "watch", "by the watcher"


class Job(models.Model):
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.SCAN)
    # The saved folder this scan keeps current, if any: at most one active scan each.
    library = models.ForeignKey(
        Library, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.MANUAL)
    # What the job history calls it ("watch: 3 files in /srv/videos/holidays"); else its path.
    label = models.TextField(blank=True)
    path = models.TextField()
    # What the one-active-scan constraint compares: a path may be longer than an index entry.
    path_key = models.CharField(max_length=64, editable=False, default="")
    recursive = models.BooleanField(default=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    phase = models.CharField(max_length=16, choices=Phase.choices, default=Phase.QUEUED)
    # `found` grows while the walk runs; `found_final` says the count is complete.
    found = models.IntegerField(default=0)
    found_final = models.BooleanField(default=False)
    # Files that changed or are new, so need reading (known once the walk ends).
    to_read = models.IntegerField(default=0)
    processed = models.IntegerField(default=0)
    new = models.IntegerField(default=0)
    updated = models.IntegerField(default=0)
    unchanged = models.IntegerField(default=0)
    skipped = models.IntegerField(default=0)
    error_count = models.IntegerField(default=0)
    missing = models.IntegerField(default=0)
    # Files found at a new path that are videos the library already knew (stoat.scans.reconcile).
    moved = models.IntegerField(default=0)
    # A large scan is read by several batch tasks; the last one to end finishes the job.
    batches_total = models.IntegerField(default=0)
    batches_done = models.IntegerField(default=0)
    # Batches reading files right now: a cancelled job ends once none is, not when the queue drains.
    batches_reading = models.IntegerField(default=0)
    current_file = models.TextField(blank=True)
    # Why the scan failed or timed out; empty otherwise.
    failure_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # When the walk and the comparison were done and files began to be read.
    reading_started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    # When a worker of this job was last lost (its last sign of life), and the most times one
    # part of the scan (the walk, or one batch) was lost: the job fails at MAX_WORKER_LOSSES.
    worker_lost_at = models.DateTimeField(null=True, blank=True)
    worker_losses = models.IntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # At most one active scan per folder, even when two requests race.
            models.UniqueConstraint(
                fields=["kind", "path_key"],
                condition=models.Q(status__in=["pending", "running"]),
                name="one_active_scan_per_folder",
            ),
            # A schedule or a burst of events never starts a second scan of one library.
            models.UniqueConstraint(
                fields=["library"],
                condition=models.Q(status__in=["pending", "running"], library__isnull=False),
                name="one_active_scan_per_library",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} {self.path} ({self.status})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.path_key:
            self.path_key = path_key(self.path)
        super().save(*args, **kwargs)

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE

    @property
    def waits_after_loss(self) -> bool:
        """Its workers were lost and none has taken it on again yet."""
        return self.status == Status.PENDING and self.worker_lost_at is not None

    @property
    def fraction(self) -> float | None:
        """Share of the found files already read, or None while the count is not known."""
        if not self.found_final:
            return None
        if self.found == 0:
            return 1.0 if self.is_terminal else 0.0
        return min(1.0, self.processed / self.found)

    @property
    def percent(self) -> int | None:
        fraction = self.fraction
        return None if fraction is None else int(fraction * 100)

    @property
    def elapsed(self) -> float | None:
        if self.started_at is None:
            return None
        end: datetime = self.finished_at or timezone.now()
        return max(0.0, (end - self.started_at).total_seconds())

    @property
    def files_per_second(self) -> float | None:
        elapsed = self.elapsed
        if not elapsed or not self.processed:
            return None
        return self.processed / elapsed

    @property
    def files_read(self) -> int:
        """Files opened and read so far (new, changed, not video or unreadable), not compared."""
        return max(0, self.processed - self.unchanged)

    @property
    def reading_seconds(self) -> float | None:
        if self.reading_started_at is None:
            return None
        end: datetime = self.finished_at or timezone.now()
        return max(0.0, (end - self.reading_started_at).total_seconds())

    @property
    def reading_speed(self) -> float | None:
        """Files read per second since reading began: what the time left depends on."""
        seconds = self.reading_seconds
        if not seconds or not self.files_read:
            return None
        return self.files_read / seconds

    @property
    def seconds_left(self) -> float | None:
        """Time left to read the rest, once enough files and seconds make the speed trustworthy."""
        if self.status != Status.RUNNING or self.phase != Phase.READING:
            return None
        speed = self.reading_speed
        seconds = self.reading_seconds or 0.0
        if speed is None or self.files_read < ESTIMATE_AFTER_FILES or seconds < ESTIMATE_AFTER:
            return None
        return max(0, self.to_read - self.files_read) / speed

    @property
    def skipped_total(self) -> int:
        return self.skipped + self.unchanged


class ScanError(models.Model):
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="file_errors")
    path = models.TextField()
    message = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class SkippedFile(models.Model):
    """A file a scan read but left out: not a video (audio only, cover art, a still image)."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="skipped_files")
    path = models.TextField()
    reason = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


class BatchStatus(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"


class ScanBatch(models.Model):
    """One batch task of a fanned-out scan: which worker took it, when, and how far it got."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="batches")
    number = models.PositiveIntegerField()
    files = models.IntegerField()
    status = models.CharField(
        max_length=16, choices=BatchStatus.choices, default=BatchStatus.PENDING
    )
    # "host:pid" of the process that claimed it: where to look when a batch never ends.
    worker = models.CharField(max_length=255, blank=True)
    # Its files in reading order, as JSON [[path, size, mtime_ns, existing], ...]: whoever takes
    # the batch over after a lost worker reads them from here, not from the lost task.
    items = models.TextField(default="[]")
    # Files of `items` already stored (as a row, an error, a skip or an arrival), counted in the
    # same transaction as their rows.
    read = models.IntegerField(default=0)
    # Times its worker was lost and the batch handed to another one.
    losses = models.IntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["job", "number"]
        constraints = [
            models.UniqueConstraint(fields=["job", "number"], name="one_row_per_batch"),
        ]

    def __str__(self) -> str:
        return f"job #{self.job_id} batch {self.number} ({self.status})"


class ScanArrival(models.Model):
    """A file a scan found at a new path whose fingerprint matches a video that left its path.

    Not read further: once the scan's reading ends, reconcile decides between them all at once
    whether it is that video moved (the row takes the new path) or a new file to read.
    """

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="arrivals")
    path = models.TextField()
    size = models.BigIntegerField()
    mtime_ns = models.BigIntegerField()
    inode = models.BigIntegerField(null=True)
    fingerprint = models.CharField(max_length=32)
    # True when the path already has a row (its file changed): read it again if nothing matches.
    existing = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"job #{self.job_id}: {self.path}"
