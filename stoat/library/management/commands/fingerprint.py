from __future__ import annotations

import signal
import time
from types import FrameType
from typing import Any

from django.core.management.base import CommandParser

from stoat.core.commands import StoatCommand
from stoat.library.backfill import Backfill, fingerprint_videos

BAR_WIDTH = 30
# Seconds between progress updates: redrawn in place on a terminal, whole lines in a log.
TERMINAL_INTERVAL = 0.2
LOG_INTERVAL = 2.0


def progress_line(progress: Backfill) -> str:
    fraction = progress.done / progress.total if progress.total else 1.0
    filled = int(fraction * BAR_WIDTH)
    return (
        f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {fraction:4.0%} "
        f"{progress.done:,}/{progress.total:,} files"
    )


class Command(StoatCommand):
    help = (
        "Fingerprint the videos that have none (read at most 192 KiB of each), so moves and "
        "copies of files stored before are recognised. Ctrl-C stops; run again to go on."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--all",
            action="store_true",
            help="fingerprint every video again, not only those without",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        interrupted = False

        def on_interrupt(signum: int, frame: FrameType | None) -> None:
            nonlocal interrupted
            interrupted = True

        redraw = self.stdout.isatty()
        interval = TERMINAL_INTERVAL if redraw else LOG_INTERVAL
        last_line = 0.0

        def on_progress(progress: Backfill) -> None:
            nonlocal last_line
            if time.monotonic() - last_line >= interval:
                last_line = time.monotonic()
                if redraw:
                    self.stdout.write("\r" + progress_line(progress), ending="")
                    self.stdout.flush()
                else:
                    self.stdout.write(progress_line(progress))

        previous = signal.signal(signal.SIGINT, on_interrupt)
        try:
            result = fingerprint_videos(
                everything=options["all"], should_stop=lambda: interrupted, on_progress=on_progress
            )
        finally:
            signal.signal(signal.SIGINT, previous)
        self.stdout.write(("\r" if redraw else "") + progress_line(result))
        self.stdout.write(
            f"{'cancelled' if interrupted else 'done'}: {result.fingerprinted:,} fingerprinted, "
            f"{result.skipped:,} skipped (gone, changed or unreadable: the next scan reads them), "
            f"{result.bytes_read / 1024:,.0f} KiB read"
        )
        if interrupted:
            raise SystemExit(2)
