from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from stoat.core.commands import StoatCommand
from stoat.library.libraries import (
    LibraryError,
    LibrarySpec,
    describe_schedule,
    next_runs,
    remove_library,
    save_library,
    scan_library,
)
from stoat.library.models import DEFAULT_POLL_SECONDS, Library, WatchMode
from stoat.watch.state import describe_watch

# A library that does not exist, as `cancel` answers an unknown job.
EXIT_UNKNOWN = 4
# The request is refused as it conflicts with what exists (overlap, name taken).
EXIT_CONFLICT = 9


class Command(StoatCommand):
    help = "Add, list, scan and remove libraries: saved folders that keep themselves current."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="save a folder as a library")
        add.add_argument("name")
        add.add_argument("path")
        when = add.add_mutually_exclusive_group()
        when.add_argument("--every", default="6h", help="rescan interval: 30m, 6h, 1d or off")
        when.add_argument("--cron", default="", help='rescan at cron times, e.g. "0 3 * * *"')
        add.add_argument("--watch", default=WatchMode.AUTO, help="auto, events, poll or off")
        add.add_argument("--poll-seconds", type=int, default=DEFAULT_POLL_SECONDS)
        add.add_argument("--no-recursive", action="store_true", help="skip subfolders")
        add.add_argument("--no-scan", action="store_true", help="do not scan it now")
        sub.add_parser("list", help="every library with its last and next scan")
        scan = sub.add_parser("scan", help="queue a scan of a library now; prints the job id")
        scan.add_argument("name")
        remove = sub.add_parser("remove", help="delete a library (its scans stay in the history)")
        remove.add_argument("name")
        keep = remove.add_mutually_exclusive_group(required=True)
        keep.add_argument("--keep-videos", action="store_true", help="keep its videos listed")
        keep.add_argument("--forget-videos", action="store_true", help="remove its videos too")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "add":
            self.add(options)
        elif action == "list":
            self.list()
        elif action == "scan":
            start = scan_library(self.find(options["name"]))
            if not start.created:
                self.stderr.write(f"a scan of this library is already active: job {start.job.pk}")
            self.stdout.write(str(start.job.pk))
        else:
            library = self.find(options["name"])
            forgotten = remove_library(library, forget_videos=options["forget_videos"])
            self.stdout.write(f"removed library {library.name}; {forgotten} videos forgotten")

    def find(self, name: str) -> Library:
        library = Library.objects.filter(name=name).first()
        if library is None:
            self.stderr.write(f"No library is named {name!r}; `library list` shows them.")
            sys.exit(EXIT_UNKNOWN)
        return library

    def add(self, options: dict[str, Any]) -> None:
        spec = LibrarySpec(
            name=options["name"],
            path=options["path"],
            recursive=not options["no_recursive"],
            every=None if options["cron"] else options["every"],
            cron=options["cron"],
            watch=options["watch"],
            poll_seconds=options["poll_seconds"],
        )
        try:
            library = save_library(spec)
        except LibraryError as error:
            if error.status == 409:
                self.stderr.write(error.message)
                sys.exit(EXIT_CONFLICT)
            raise CommandError(error.message) from error
        self.stdout.write(
            f"library {library.name}: {library.path}, rescan {describe_schedule(library)}, "
            f"watch {library.watch}"
        )
        if not options["no_scan"]:
            self.stdout.write(f"first scan: job {scan_library(library).job.pk}")

    def list(self) -> None:
        libraries = list(Library.objects.all())
        runs = next_runs(libraries)
        if not libraries:
            self.stdout.write("no libraries yet: add one with `library add NAME PATH`")
        for library in libraries:
            last = library.jobs.order_by("-created_at", "-id").first()
            last_text = "never scanned"
            if last is not None:
                when = timezone.localtime(last.created_at)
                last_text = (
                    f"last scan #{last.pk} {last.status} {when:%Y-%m-%d %H:%M} "
                    f"({last.new} new, {last.error_count} errors)"
                )
            upcoming = runs.get(library.pk)
            next_text = (
                f"next {timezone.localtime(upcoming):%Y-%m-%d %H:%M %Z}"
                if upcoming
                else "no next run"
            )
            self.stdout.write(
                f"{library.name}\t{library.path}\t{describe_schedule(library)}, {next_text}\t"
                f"{last_text}\t{describe_watch(library)}"
            )
