from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from stoat.core.commands import StoatCommand
from stoat.scans import services
from stoat.scans.lifecycle import CancelOutcome


class Command(StoatCommand):
    help = "Cancel a scan job, with the same rules as the Cancel button."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("job_id", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        job_id = options["job_id"]
        result = services.cancel_job(job_id)
        if result.job is None:
            raise CommandError(f"Job {job_id} not found.", returncode=4)
        if result.outcome is CancelOutcome.TERMINAL:
            raise CommandError(f"Job {job_id}: {result.message}", returncode=9)
        self.stdout.write(f"Job {job_id}: {result.message}")
