from __future__ import annotations

import hashlib
import re
import sys
from fractions import Fraction
from typing import Any

from django.db import models

from stoat.library.names import container_kind_expression, resolution_class_expression

# os.fsencode's codec, called directly: moves and rescans key tens of thousands of paths.
FS_CODEC = (sys.getfilesystemencoding(), sys.getfilesystemencodeerrors())


def path_key(path: str) -> str:
    """A fixed-length key for a path: the unique index stays small however long the path is."""
    return hashlib.sha256(path.encode(*FS_CODEC)).hexdigest()


NAME_KEY_LENGTH = 255
DIGITS = re.compile(r"\d+")


def name_key(filename: str) -> str:
    """A key that sorts names as a person does: `clip2` before `clip10`, case ignored.

    Each run of digits is written as its length (two digits) and then the number without
    leading zeros, so a longer number sorts after a shorter one and equal lengths compare
    digit by digit.
    """

    def number(found: re.Match[str]) -> str:
        digits = found.group(0).lstrip("0") or "0"
        return f"{min(len(digits), 99):02d}{digits}"

    return DIGITS.sub(number, filename.casefold())[:NAME_KEY_LENGTH]


def storable_inode(inode: int) -> int | None:
    """An inode number as the signed 64-bit column holds it (the top bit of a rare huge one is
    dropped: it only breaks ties between candidates)."""
    return inode & (2**63 - 1) or None


def display_path(path: str) -> str:
    """The path as text that any database stores: bytes that are not UTF-8 are shown escaped."""
    return path.encode(*FS_CODEC).decode("utf-8", errors="backslashreplace")


class VideoQuerySet(models.QuerySet["Video"]):
    def present(self) -> VideoQuerySet:
        return self.filter(missing=False)

    def search(self, query: str) -> VideoQuerySet:
        query = query.strip()
        if not query:
            return self
        # The file name is the end of the path, so one condition covers both; on PostgreSQL
        # it is answered by the trigram index on UPPER(path) (migration 0002).
        return self.filter(path__icontains=query)


class Video(models.Model):
    path = models.TextField()
    path_key = models.CharField(max_length=64, unique=True, editable=False)
    # Indexed per database in migration 0003: a B-tree on PostgreSQL refuses values over 2704
    # bytes, and a folder path may be up to 4096.
    folder = models.TextField()
    filename = models.CharField(max_length=1024, db_index=True)
    # name_key(filename), written with the row: the library and the admin sort by it.
    name_order = models.CharField(max_length=NAME_KEY_LENGTH, default="", editable=False)
    size = models.BigIntegerField(db_index=True)
    mtime_ns = models.BigIntegerField()
    container = models.CharField(max_length=64, blank=True)
    duration = models.FloatField(null=True, db_index=True)
    duration_frames = models.BigIntegerField(null=True)
    frame_rate_num = models.IntegerField(null=True)
    frame_rate_den = models.IntegerField(null=True)
    width = models.IntegerField()
    height = models.IntegerField()
    video_codec = models.CharField(max_length=64)
    audio_codec = models.CharField(max_length=64, null=True, blank=True)
    bit_rate = models.BigIntegerField(null=True)
    thumbnail = models.CharField(max_length=255, blank=True)
    # Set when a scan of its folder no longer finds the file; cleared when it comes back.
    missing = models.BooleanField(default=False, db_index=True)
    # The scan that found it gone (its page lists the files it missed).
    missing_job = models.ForeignKey(
        "scans.Job",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="missing_videos",
        editable=False,
    )
    # Who the file is, whatever its name (stoat.library.fingerprint): size + sampled XXH3-128,
    # empty until the file is read (or `manage.py fingerprint` runs).
    fingerprint = models.CharField(max_length=32, blank=True, default="")
    # XXH3-128 of every byte, once something asked to confirm a duplicate; empty until then.
    content_hash = models.CharField(max_length=32, blank=True, default="")
    # The file's inode when it was read: a rename on one file system keeps it (a tie-break).
    inode = models.BigIntegerField(null=True, blank=True)
    # Where the file was before its last move, and when the scan noticed it (history: VideoMove).
    moved_from = models.TextField(blank=True, default="")
    moved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    # What the filters and facet counts group by, kept by the database itself (names.py).
    container_kind = models.GeneratedField(
        expression=container_kind_expression(),
        output_field=models.CharField(max_length=64),
        db_persist=True,
    )
    resolution_class = models.GeneratedField(
        expression=resolution_class_expression(),
        output_field=models.CharField(max_length=8),
        db_persist=True,
    )

    objects = VideoQuerySet.as_manager()

    class Meta:
        ordering = ["name_order", "id"]
        indexes = [
            # The library's default listing (present videos, queries.SORTS["name"]) reads this
            # index in order; partial, so a deep page skips its offset without reading rows.
            models.Index(
                fields=["name_order", "id"],
                name="video_present_name_order",
                condition=models.Q(missing=False),
            ),
            # Every video, in either direction: the admin and "Show missing files".
            models.Index(fields=["name_order", "id"], name="video_name_order"),
            # Present videos only, like the pages' queries (`NOT missing`), which then read the
            # index alone: the facet counts and the stats' sums of size and duration.
            models.Index(
                fields=[
                    "video_codec",
                    "audio_codec",
                    "container_kind",
                    "resolution_class",
                    "size",
                    "duration",
                ],
                name="video_present_facets",
                condition=models.Q(missing=False),
            ),
            # Moves and duplicates are found by equal size and fingerprint.
            models.Index(fields=["size", "fingerprint"], name="video_size_fingerprint"),
        ]

    def __str__(self) -> str:
        return self.path

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.name_order = name_key(self.filename)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "filename" in update_fields:
            kwargs["update_fields"] = {*update_fields, "name_order"}
        super().save(*args, **kwargs)

    @property
    def frame_rate(self) -> Fraction | None:
        if not self.frame_rate_num or not self.frame_rate_den:
            return None
        return Fraction(self.frame_rate_num, self.frame_rate_den)


class VideoMove(models.Model):
    """One move or rename of a video's file, as a scan noticed it."""

    video = models.ForeignKey(Video, on_delete=models.CASCADE, related_name="moves")
    from_path = models.TextField()
    to_path = models.TextField()
    moved_at = models.DateTimeField(db_index=True)
    # The scan that noticed it (a plain number: the scans app depends on this one, not back).
    job_id = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-moved_at", "-id"]

    def __str__(self) -> str:
        return f"{self.from_path} → {self.to_path}"


class WatchMode(models.TextChoices):
    AUTO = "auto", "events on local disks, polling on network shares"
    EVENTS = "events", "file-system events"
    POLL = "poll", "polling"
    OFF = "off", "not watched"


# A new library is rescanned every 6 hours unless told otherwise.
DEFAULT_EVERY_MINUTES = 6 * 60
DEFAULT_POLL_SECONDS = 60


class Library(models.Model):
    """A saved folder that keeps itself current: rescanned on a schedule, and watched."""

    name = models.CharField(max_length=100, unique=True)
    path = models.TextField()
    # One library per folder, whatever the path's length.
    path_key = models.CharField(max_length=64, unique=True, editable=False)
    recursive = models.BooleanField(default=True)
    # The rescan schedule: every N minutes, or a cron expression, or neither (only by hand).
    every_minutes = models.PositiveIntegerField(
        null=True, blank=True, default=DEFAULT_EVERY_MINUTES
    )
    cron = models.CharField(max_length=100, blank=True)
    watch = models.CharField(max_length=8, choices=WatchMode.choices, default=WatchMode.AUTO)
    poll_seconds = models.PositiveIntegerField(default=DEFAULT_POLL_SECONDS)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "libraries"

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.path_key = path_key(self.path)
        super().save(*args, **kwargs)

    def videos(self) -> VideoQuerySet:
        """The videos stored under this library's folder (present and missing)."""
        root = display_path(self.path)
        scope = models.Q(folder=root)
        if self.recursive:
            scope |= models.Q(folder__startswith=root.rstrip("/") + "/")
        return Video.objects.filter(scope)
