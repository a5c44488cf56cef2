from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from stoat.scans import lifecycle
from stoat.scans.lifecycle import CancelOutcome


class Command(BaseCommand):
    help = "Cancel a scan job, with the same rules as the Cancel button."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("job_id", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        job_id = options["job_id"]
        result = lifecycle.request_cancel(job_id)
        if result.job is None:
            raise CommandError(f"Job {job_id} not found.", returncode=4)
        if result.outcome is CancelOutcome.TERMINAL:
            raise CommandError(
                f"Job {job_id} already ended as {result.job.status}; nothing to cancel.",
                returncode=9,
            )
        if result.outcome is CancelOutcome.CANCELLED:
            self.stdout.write(f"Job {job_id} cancelled before it started.")
        else:
            self.stdout.write(f"Cancel requested: job {job_id} stops at its next file.")
