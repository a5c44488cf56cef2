from __future__ import annotations

import os
import signal
import threading
from types import FrameType
from typing import Any

from django.conf import settings

from stoat.core.commands import StoatCommand
from stoat.library.models import Library
from stoat.watch.watcher import Watcher


class Command(StoatCommand):
    help = "Watch every library for new, changed and removed videos until stopped (Ctrl-C)."

    def handle(self, *args: Any, **options: Any) -> None:
        # The watcher retries what fails while it runs (a database briefly away); a database
        # never migrated is said once, here, by StoatCommand.
        Library.objects.exists()
        holder = f"{settings.STOAT_WORKER_NAME}:{os.getpid()}"
        stopping = threading.Event()

        def stop(signum: int, frame: FrameType | None) -> None:
            stopping.set()

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        self.stdout.write(f"watcher {holder} running")
        self.stdout.flush()
        try:
            Watcher(holder).run(stopping)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write(f"watcher {holder} stopped")
