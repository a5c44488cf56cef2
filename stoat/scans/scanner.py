"""The scan itself: find files, decide which need reading, read them, store rows and counters.

Knows the database and calls the walker, the probe and the thumbnailer; knows nothing of django-q2.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, TypeVar

from django.conf import settings
from django.utils import timezone

from stoat.library.fingerprint import Fingerprint, fingerprint_file
from stoat.library.models import Video, display_path, name_key, path_key, storable_inode
from stoat.library.probe import (
    NotAVideo,
    ProbeError,
    VideoFile,
    VideoInfo,
    check_regular_file,
    describe_os_error,
    open_video,
)
from stoat.library.thumbnails import thumbnail_name, write_thumbnail
from stoat.scans import arrivals, batches, compare, lifecycle, parallel, reconcile
from stoat.scans import moves as moves_
from stoat.scans.batches import BatchLost, Claim
from stoat.scans.maybe_moved import mark_maybe_moved
from stoat.scans.models import Job, Phase, Status
from stoat.scans.steps import (
    OutOfTime,
    ReadersStalled,
    decoder_threads,
    reader_steps,
    run_within_limits,
)
from stoat.scans.store import MAX_BUFFER, Buffer, JobEnded
from stoat.scans.walker import FileStat, walk_chunks

log = logging.getLogger(__name__)

# While only comparing sizes and dates (no reading), look at the cancel flag this often.
CANCEL_CHECK_SECONDS = 0.05
# A batch task looks for batches of lost workers this often (one indexed query).
WATCH_SECONDS = 1.0
StopCheck = Callable[[], bool]
ProgressHook = Callable[[Job], None]
T = TypeVar("T")


class ReadItem(NamedTuple):
    path: str
    size: int
    mtime_ns: int
    existing: bool
    # A known video has this size: fingerprint first, and set the file aside if it may be moved.
    maybe_moved: bool = False
    # Its fingerprint, when it was taken before the read (stoat.scans.arrivals).
    known_print: Fingerprint | None = None


@dataclass
class Plan:
    to_read: list[ReadItem]
    unchanged: int
    missing: int
    set_aside: int = 0  # renamed files found by inode: moved now, or set aside for reconcile


def video_row(
    item: ReadItem, info: VideoInfo, thumbnail: str, print_: Fingerprint | None = None
) -> Video:
    rate = info.frame_rate
    filename = display_path(os.path.basename(item.path))
    return Video(
        path=display_path(item.path),
        path_key=path_key(item.path),
        folder=display_path(os.path.dirname(item.path)),
        filename=filename,
        name_order=name_key(filename),
        size=info.size,
        mtime_ns=info.mtime_ns,
        container=info.container,
        duration=info.duration,
        duration_frames=info.duration_frames,
        frame_rate_num=rate.numerator if rate else None,
        frame_rate_den=rate.denominator if rate else None,
        width=info.width,
        height=info.height,
        video_codec=info.video_codec,
        audio_codec=info.audio_codec,
        bit_rate=info.bit_rate,
        thumbnail=thumbnail,
        missing=False,
        fingerprint=print_.digest if print_ else "",
        content_hash="",
        inode=storable_inode(print_.inode) if print_ else None,
    )


def thumbnail_then_close(video: VideoFile, dest: Path, threads: int | None = None) -> None:
    with video:
        write_thumbnail(video, dest, settings.STOAT_THUMB_SIZE, threads)


def take_fingerprint(path: str) -> Fingerprint:
    try:
        return fingerprint_file(path)
    except OSError as error:
        raise ProbeError(describe_os_error(error)) from error


def read_video(item: ReadItem) -> Video:
    """Open one file once, fingerprint and probe it, make its thumbnail; raises NotAVideo or
    ProbeError."""
    run = reader_steps.get()
    # One stat here refuses empty files, pipes and vanished files without a reader thread.
    check_regular_file(item.path)
    key = path_key(item.path)
    print_ = item.known_print
    if print_ is not None or not settings.STOAT_FINGERPRINTS:
        video = run(lambda: open_video(item.path), "reading the file")
    else:
        print_, video = run(
            lambda: (take_fingerprint(item.path), open_video(item.path)), "reading the file"
        )
    name = thumbnail_name(key)
    dest, threads = settings.STOAT_THUMB_DIR / name, decoder_threads.get()
    # The thumbnail step closes the file itself: if it times out, its thread still uses it. If
    # the step never starts, dropping the last reference closes the file.
    run(lambda: thumbnail_then_close(video, dest, threads), "making its thumbnail")
    return video_row(item, video.info, name, print_)


class Scanner:
    """Runs the phases of one job in this process, flushing progress as it goes."""

    def __init__(
        self,
        job: Job,
        *,
        stop: StopCheck | None = None,
        on_progress: ProgressHook | None = None,
        processes: int = 1,
        batch: Claim | None = None,
        watch: Callable[[], object] | None = None,
        foreground: bool = False,
    ) -> None:
        self.job = job
        # Reader processes: more than one only for a scan run in the foreground.
        self.processes = processes
        # In the foreground each reader decodes on one core (see steps.decoder_threads).
        self.decoder_threads = 1 if foreground else None
        self.readers: parallel.ReaderPool | None = None
        # Called now and then while reading, to hand on the batches of workers that were lost.
        self.watch = watch
        self.last_watch = time.monotonic()
        self.local_stop = stop
        self.on_progress = on_progress
        self.interval = settings.STOAT_PROGRESS_INTERVAL
        started = job.started_at or timezone.now()
        self.deadline = started.timestamp() + settings.STOAT_JOB_TIME_LIMIT
        self.buffer = Buffer(batch=batch)
        self.last_flush = time.monotonic()
        self.last_check = 0.0
        self.stopped = False
        self.timed_out = False
        # Settling: the files set aside were gone through already, so no stop leaves them unread.
        self.keeping = False
        self.files_read = 0
        # Each found file's inode in the walk's order, from its own stat, until the plan is made.
        self.inodes: list[int] = []

    # -- checks -------------------------------------------------------------------------------
    def should_stop(self) -> bool:
        """Look at the cancel flag (one primary-key read) and the time limit."""
        self.last_check = time.monotonic()
        if self.keeping:
            return False
        if time.time() > self.deadline:
            self.timed_out = True
        elif not (self.local_stop is not None and self.local_stop()) and not lifecycle.should_stop(
            self.job.pk
        ):
            return False
        self.stopped = True
        return True

    def should_stop_soon(self) -> bool:
        if time.monotonic() - self.last_check < CANCEL_CHECK_SECONDS:
            return False
        return self.should_stop()

    def beat(self) -> None:
        if not lifecycle.beat(self.job.pk):
            raise JobEnded(self.job.pk)
        if self.buffer.batch is not None:
            batches.beat(self.buffer.batch)

    def run_step(self, work: Callable[[], T], what: str) -> T:
        """One reader step within the per-file limit (and the job's), beating while it waits."""
        try:
            return run_within_limits(work, what, deadline=self.deadline, beat=self.beat)
        except OutOfTime:
            self.timed_out = True
            raise

    def maybe_flush(self, **fields: object) -> None:
        now = time.monotonic()
        if now - self.last_flush >= self.interval or len(self.buffer) >= MAX_BUFFER:
            self.flush(**fields)

    def flush(self, **fields: object) -> None:
        self.buffer.flush(self.job.pk, **fields)
        self.last_flush = time.monotonic()
        if self.watch is not None and self.last_flush - self.last_watch >= WATCH_SECONDS:
            self.last_watch = self.last_flush
            self.watch()
        if self.on_progress is not None:
            self.job.refresh_from_db()
            self.on_progress(self.job)

    # -- phase 1: find -------------------------------------------------------------------------
    def find(self) -> tuple[list[FileStat], list[str]] | None:
        """Walk the folder: the files and the unlistable folders, or None if stopped."""
        job = self.job
        entries: list[FileStat] = []
        failed: list[str] = []
        lifecycle.progress(job.pk, phase=Phase.FINDING)
        found_flushed = 0
        for files, errors in walk_chunks(
            job.path,
            recursive=job.recursive,
            extensions=settings.STOAT_VIDEO_EXTENSIONS,
            allowed_roots=settings.STOAT_SCAN_ROOTS,
            # A library is kept current by itself, so it leaves out what its NAS keeps beside it.
            skip_system=job.library_id is not None,
            inodes=self.inodes,
        ):
            for error in errors:
                if error.folder:
                    failed.append(error.path)
                self.buffer.add_error(job.pk, error.path, error.message)
            entries.extend(files)
            if self.readers is None and self.processes > 1 and len(entries) >= parallel.MIN_FILES:
                # Started now, the readers are ready by the time the walk ends.
                self.readers = parallel.ReaderPool(self.processes)
            now = time.monotonic()
            if now - self.last_check >= CANCEL_CHECK_SECONDS and self.should_stop():
                break
            if now - self.last_flush >= self.interval:
                self.flush(found=len(entries) - found_flushed)
                found_flushed = len(entries)
        self.flush(found=len(entries) - found_flushed, found_final=not self.stopped)
        return None if self.stopped else (entries, failed)

    # -- phase 2: decide -----------------------------------------------------------------------
    def plan(self, entries: Sequence[FileStat], failed_folders: Iterable[str]) -> Plan:
        """Compare with what the library knows and mark vanished files missing."""
        job = self.job
        changes = compare.compare(entries, display_path(job.path), job.recursive, failed_folders)
        to_read = [
            ReadItem(path, size, mtime_ns, existing)
            for (path, size, mtime_ns), existing in changes.to_read
        ]
        # Renamed files are set aside without a byte read; the rest may still be moves.
        to_read, renamed, sources, direct = arrivals.renamed(
            to_read,
            self.should_stop_soon,
            set(changes.gone),
            arrivals.WalkedInodes(entries, self.inodes).get,
        )
        self.inodes = []
        if direct:
            # Certain already (arrivals.settled): a moved folder is moved here, in one go.
            moves_.apply_moves(job, direct)
        self.buffer.arrivals.extend(renamed)
        # The videos they match are left as they are: reconcile moves them, or marks them
        # missing then (a row marked missing and back costs every present-only index twice).
        changes.gone = [path for path in changes.gone if path not in sources]
        compare.record(changes, job.pk)
        return Plan(
            to_read=mark_maybe_moved(to_read, self.should_stop_soon),
            unchanged=changes.unchanged,
            missing=len(changes.gone),
            set_aside=len(renamed) + len(direct),
        )

    def record_plan(self, plan: Plan) -> None:
        self.buffer.counts["processed"] += plan.unchanged + plan.set_aside
        self.buffer.counts["unchanged"] += plan.unchanged
        self.buffer.counts["missing"] += plan.missing
        self.flush(
            phase=Phase.READING, to_read=len(plan.to_read), reading_started_at=timezone.now()
        )

    # -- phase 3: read -------------------------------------------------------------------------
    def read(self, items: Sequence[ReadItem], counted: bool = False) -> None:
        """Read each file, stopping before the next one once asked to; flushes what it read."""
        token = reader_steps.set(self.run_step)
        threads = decoder_threads.set(self.decoder_threads)
        try:
            items = arrivals.set_aside_moves(self, items, counted)
            if self.readers is not None and len(items) >= parallel.MIN_FILES:
                parallel.read_in_processes(self, items, self.readers, counted)
            else:
                self.read_each(items, counted)
        except ReadersStalled:
            self.flush()  # what was read before the disk stalled is kept
            raise
        finally:
            decoder_threads.reset(threads)
            reader_steps.reset(token)
        self.buffer.current_file = ""
        self.flush()

    def settle(self) -> None:
        """Once the whole scan's reading has ended (done, cancelled or out of time): decide the
        files set aside, and read those that are no move, whatever stopped the scan."""
        outcome = reconcile.reconcile(self.job)
        if outcome.unmatched:
            # Cancel keeps what was read: each still gets the per-file limit, not the job's.
            self.keeping = True
            self.deadline = math.inf
            # They were counted as processed when they were set aside.
            items = [ReadItem(a.path, a.size, a.mtime_ns, a.existing) for a in outcome.unmatched]
            self.read(items, counted=True)

    def read_each(self, items: Iterable[ReadItem], counted: bool = False) -> None:
        for item in items:
            if self.should_stop():
                break
            self.buffer.current_file = display_path(item.path)
            try:
                outcome: Video | Exception = read_video(item)
            except OutOfTime:
                self.stopped = True
                break
            except (JobEnded, BatchLost, ReadersStalled):
                raise
            except (NotAVideo, ProbeError) as reason:
                outcome = reason
            except Exception as error:  # a reader bug must not end the whole scan
                log.exception("unexpected error reading %s", item.path)
                outcome = error
            self.record(item, outcome, counted)

    def count_set_aside(self, counted: bool) -> None:
        """One file set aside for reconcile: it was gone through, but is not counted as read."""
        if not counted:
            self.buffer.counts["processed"] += 1
        self.files_read += 1

    def record(self, item: ReadItem, outcome: Video | Exception, counted: bool = False) -> None:
        """Count and buffer what reading one file gave: its row, or why it has none."""
        counts = self.buffer.counts
        if isinstance(outcome, Video):
            self.buffer.videos.append(outcome)
            counts["updated" if item.existing else "new"] += 1
        elif isinstance(outcome, NotAVideo):
            log.info("skipped %s: %s", display_path(item.path), outcome)
            self.buffer.add_skipped(self.job.pk, item.path, str(outcome))
        elif isinstance(outcome, ProbeError):
            self.buffer.add_error(self.job.pk, item.path, str(outcome))
        else:
            self.buffer.add_error(self.job.pk, item.path, f"unexpected error: {outcome}")
        if not counted:
            counts["processed"] += 1
        self.files_read += 1
        self.maybe_flush()

    def outcome(self) -> Status:
        if self.timed_out:
            return Status.TIMEOUT
        if self.stopped:
            return Status.CANCELLED
        return Status.COMPLETE

    def run(self) -> Status:
        """All phases in this process; returns how the scan ended (the caller finishes the job)."""
        try:
            found = self.find()
            if found is not None:
                plan = self.plan(*found)
                self.record_plan(plan)
                self.read(plan.to_read)
                self.settle()
        finally:
            if self.readers is not None:
                self.readers.close()
        return self.outcome()
