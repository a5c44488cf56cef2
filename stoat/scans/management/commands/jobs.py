from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from stoat.core.commands import StoatCommand, whole_number
from stoat.scans import services
from stoat.scans.models import Status


class Command(StoatCommand):
    help = "List scan jobs, newest first."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--status", choices=Status.values, help="only jobs in this state")
        parser.add_argument(
            "--limit", type=whole_number(1), default=50, help="how many to list (default 50)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        rows = list(services.list_jobs(options["status"])[: options["limit"]])
        if not rows:
            self.stdout.write("no jobs")
            return
        self.stdout.write(
            f"{'id':>6}  {'status':<9}  {'found':>7}  {'done':>7}  {'new':>6}  "
            f"{'errors':>6}  {'created':<19}  path"
        )
        for job in rows:
            created = job.created_at.strftime("%Y-%m-%d %H:%M:%S")
            self.stdout.write(
                f"{job.pk:>6}  {job.status:<9}  {job.found:>7}  {job.processed:>7}  "
                f"{job.new:>6}  {job.error_count:>6}  {created:<19}  {job.path}"
            )
