"""What a scan has read, stored together with its counters. Knows the database, not files."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import connection, transaction

from stoat.library import summary
from stoat.library.models import Video, display_path
from stoat.scans import batches, lifecycle
from stoat.scans.batches import Claim
from stoat.scans.models import ScanArrival, ScanError, SkippedFile
from stoat.scans.reconcile import Arrival

# Rows buffered before a flush even when the time to flush has not come.
MAX_BUFFER = 500
VIDEO_UPDATE_FIELDS = [
    "path",
    "folder",
    "filename",
    "name_order",
    "size",
    "mtime_ns",
    "container",
    "duration",
    "duration_frames",
    "frame_rate_num",
    "frame_rate_den",
    "width",
    "height",
    "video_codec",
    "audio_codec",
    "bit_rate",
    "thumbnail",
    "missing",
    "fingerprint",
    "content_hash",
    "inode",
    "updated_at",
]


class JobEnded(Exception):
    """The job stopped running elsewhere (cancelled while pending, reaped); stop writing."""


@dataclass
class Buffer:
    """What a scan has read since its last flush."""

    videos: list[Video] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    # Files set aside for reconcile (stoat.scans.arrivals).
    arrivals: list[Arrival] = field(default_factory=list)
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("processed", "new", "updated", "unchanged", "skipped", "error_count", "missing"), 0
        )
    )
    current_file: str = ""
    # The batch these files belong to, when a batch task reads them.
    batch: Claim | None = None

    def __len__(self) -> int:
        return len(self.videos) + len(self.errors) + len(self.skipped) + len(self.arrivals)

    def add_error(self, job_id: int, path: str, message: str) -> None:
        self.errors.append(ScanError(job_id=job_id, path=display_path(path), message=message))
        self.counts["error_count"] += 1

    def add_skipped(self, job_id: int, path: str, reason: str) -> None:
        self.skipped.append(SkippedFile(job_id=job_id, path=display_path(path), reason=reason))
        self.counts["skipped"] += 1

    def flush(self, job_id: int, **fields: object) -> None:
        """Store rows and counters together, so the counters always equal the rows stored."""
        with transaction.atomic():
            if not lifecycle.progress(
                job_id, **self.counts, current_file=self.current_file, **fields
            ):
                raise JobEnded(job_id)
            if self.batch is not None:
                # The batch's own heartbeat, refused (rolling all this back) if it was handed on.
                batches.beat(self.batch, read=self.counts["processed"])
            if self.videos:
                # Rows locked in one global order: two scans upserting the same files on
                # PostgreSQL wait for each other instead of deadlocking.
                self.videos.sort(key=lambda video: video.path_key)
                with summary.one_mark():
                    Video.objects.bulk_create(
                        self.videos,
                        update_conflicts=True,
                        unique_fields=["path_key"],
                        update_fields=VIDEO_UPDATE_FIELDS,
                    )
            if self.errors:
                ScanError.objects.bulk_create(self.errors)
            if self.skipped:
                SkippedFile.objects.bulk_create(self.skipped)
            if self.arrivals:
                insert_arrivals(job_id, self.arrivals)
        self.videos.clear()
        self.errors.clear()
        self.skipped.clear()
        self.arrivals.clear()
        for name in self.counts:
            self.counts[name] = 0


def chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def insert_arrivals(job_id: int, arrivals: Sequence[Arrival]) -> None:
    # executemany: a moved folder sets aside thousands, and the ORM's insert costs 10x this.
    table = connection.ops.quote_name(ScanArrival._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (job_id, path, size, mtime_ns, inode, fingerprint, existing)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [
                (job_id, a.path, a.size, a.mtime_ns, a.inode, a.fingerprint, a.existing)
                for a in arrivals
            ],
        )
