from __future__ import annotations

import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from django.core.management.base import CommandError, CommandParser

from stoat.core.commands import StoatCommand, most_processes, whole_number
from stoat.library.allocator import keep_freed_memory
from stoat.library.collector import freeze_loaded
from stoat.scans import services
from stoat.scans.lifecycle import ScanStart
from stoat.scans.models import Job, Status
from stoat.scans.paths import InvalidPath, PathNotAllowed
from stoat.scans.runner import run_here

EXIT_CODES = {Status.COMPLETE: 0, Status.FAILED: 1, Status.CANCELLED: 2, Status.TIMEOUT: 3}
BAR_WIDTH = 30
# Seconds between progress updates: redrawn in place on a terminal, whole lines in a log.
TERMINAL_INTERVAL = 0.2
LOG_INTERVAL = 2.0


def counted(number: int, word: str) -> str:
    return f"{number:,} {word}{'' if number == 1 else 's'}"


def progress_line(job: Job) -> str:
    fraction = job.fraction
    if fraction is None:
        return f"finding files: {job.found:,} so far"
    filled = int(fraction * BAR_WIDTH)
    rate = job.files_per_second
    speed = f" {rate:,.1f} files/s" if rate else ""
    return (
        f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {fraction:4.0%} "
        f"{job.processed:,}/{job.found:,}{speed} {counted(job.error_count, 'error')}"
    )


class Command(StoatCommand):
    help = "Scan a folder into the library: here with a progress bar, or on the workers (--queue)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="folder to scan")
        parser.add_argument("--no-recursive", action="store_true", help="skip subfolders")
        parser.add_argument(
            "--queue", action="store_true", help="hand the scan to the workers and print its id"
        )
        parser.add_argument(
            "--processes",
            type=whole_number(1, most_processes()),
            default=os.cpu_count() or 1,
            help="reader processes in the foreground (default: one per core)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["queue"]:
            self.queue(options["path"], not options["no_recursive"])
            return
        interrupted = False

        def on_interrupt(signum: int, frame: FrameType | None) -> None:
            nonlocal interrupted
            interrupted = True

        # Caught from the start: a Ctrl-C while the job is made or the readers are prepared
        # cancels the scan instead of leaving it pending, and every later scan refused.
        previous = signal.signal(signal.SIGINT, on_interrupt)
        try:
            code = self.scan_here(options, stop=lambda: interrupted)
        finally:
            signal.signal(signal.SIGINT, previous)
        if code:
            sys.exit(code)

    def queue(self, path: str, recursive: bool) -> None:
        """Hand the scan to the workers; print its id (that of the scan already covering it)."""
        # django-q2 logs each task it queues ("Enqueued [stoat] 2", its own count, not the job's
        # id) on stderr: the id printed here is all a script or a person needs.
        queue_log = logging.getLogger("django-q")
        level = queue_log.level
        queue_log.setLevel(logging.WARNING)
        try:
            start = self.start(path, recursive, queue=True)
        finally:
            queue_log.setLevel(level)
        if not start.created:
            self.stderr.write(
                f"a scan covering {start.job.path} is already active: job {start.job.pk}"
            )
        self.stdout.write(str(start.job.pk))

    def start(self, path: str, recursive: bool, *, queue: bool) -> ScanStart:
        try:
            return services.start_scan(path, recursive, queue=queue)
        except (InvalidPath, PathNotAllowed) as error:
            raise CommandError(str(error)) from error

    def scan_here(self, options: dict[str, Any], stop: Callable[[], bool]) -> int:
        """Scan in this process with a progress bar; the exit code of how it ended."""
        start = self.start(options["path"], not options["no_recursive"], queue=False)
        job = start.job
        if not start.created:
            raise CommandError(
                f"A scan covering {job.path} is already active: job {job.pk}. "
                f"Wait for it, or stop it with `manage.py cancel {job.pk}`."
            )
        processes = options["processes"]
        readers = f"{processes} reader process{'' if processes == 1 else 'es'}"
        self.stdout.write(f"scan #{job.pk} of {job.path}, {readers}")
        # For the files read here, and in the readers it forks.
        keep_freed_memory()
        freeze_loaded()
        last_line = 0.0
        # A log file or a pipe gets one line per update, not carriage returns run together.
        redraw = self.stdout.isatty()
        interval = TERMINAL_INTERVAL if redraw else LOG_INTERVAL

        def on_progress(current: Job) -> None:
            nonlocal last_line
            if time.monotonic() - last_line >= interval:
                last_line = time.monotonic()
                if redraw:
                    self.stdout.write("\r" + progress_line(current), ending="")
                    self.stdout.flush()
                else:
                    self.stdout.write(progress_line(current))

        outcome = run_here(job, stop=stop, on_progress=on_progress, processes=processes)
        job.refresh_from_db()
        self.stdout.write(("\r" if redraw else "") + progress_line(job))
        self.stdout.write(
            f"{job.status}: {job.new:,} new, {job.updated:,} updated, "
            f"{job.unchanged:,} unchanged, {job.skipped:,} not video, "
            f"{counted(job.error_count, 'error')}, {job.missing:,} missing"
        )
        for scan_error in job.file_errors.all()[:20]:
            self.stderr.write(f"  {scan_error.path}: {scan_error.message}")
        return EXIT_CODES.get(Status(job.status), 1) if outcome else 1
