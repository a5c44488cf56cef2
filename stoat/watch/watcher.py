"""The watcher process: holds library leases, runs a feed per library, starts the small scans.

Every scan goes through the same service as a scan from the page (scan_library →
lifecycle.create_scan), so the one-active-scan-per-library rule holds here too: changes that come
while the library is being scanned wait here and start one scan after it.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import close_old_connections
from django.db.models import Q

from stoat.library.libraries import scan_library
from stoat.library.models import Library, Video, WatchMode, display_path
from stoat.scans.models import Origin
from stoat.watch import lease
from stoat.watch.changes import Scope, Settler, describe, scope_of, sort_changes
from stoat.watch.feed import ChangesMessage, Feed, Message, ModeMessage, Target

log = logging.getLogger(__name__)

# How often the list of libraries (and free leases) is read again.
REFRESH_SECONDS = 2.0
# How often a scan that waits for the library's active scan to end is tried again.
RETRY_SCAN_SECONDS = 1.0
TICK_SECONDS = 0.2


def target_of(library: Library) -> Target:
    return Target(library.pk, library.path, library.recursive, library.watch, library.poll_seconds)


def known_folder(path: str) -> bool:
    """Whether the library holds videos in or under this (now vanished) folder."""
    shown = display_path(path)
    under = Q(folder=shown) | Q(folder__startswith=shown.rstrip("/") + "/")
    return Video.objects.filter(under, missing=False).exists()


@dataclass
class Watched:
    """One library this process holds the lease of: its feed and the changes not yet scanned."""

    target: Target
    feed: Feed
    settler: Settler
    # Folders that appeared or vanished, and when something last changed under each.
    folders: dict[str, float] = field(default_factory=dict)
    # Settled files and quiet folders that wait for a scan to be started.
    ready_files: set[str] = field(default_factory=set)
    ready_folders: set[str] = field(default_factory=set)
    # After a (re)start: compare the whole folder with the database once.
    compare: bool = True
    renewed: float = field(default_factory=time.monotonic)
    next_try: float = 0.0


class Watcher:
    def __init__(self, holder: str) -> None:
        self.holder = holder
        self.out: queue.Queue[Message] = queue.Queue()
        self.watched: dict[int, Watched] = {}
        self.next_refresh = 0.0
        self.extensions = frozenset(e.lower() for e in settings.STOAT_VIDEO_EXTENSIONS)

    # -- leases and feeds --------------------------------------------------------------------
    def refresh(self) -> None:
        """Follow the libraries as they are now: start, restart or stop feeds; keep leases."""
        wanted = {
            library.pk: target_of(library)
            for library in Library.objects.exclude(watch=WatchMode.OFF)
        }
        for library_id in list(self.watched):
            current = self.watched[library_id]
            if wanted.get(library_id) != current.target:
                # Removed, switched off or changed: stop; a changed one starts again below.
                self.drop(library_id, release=library_id not in wanted)
            elif time.monotonic() - current.renewed >= settings.STOAT_WATCH_LEASE / 3:
                if lease.renew(library_id, self.holder):
                    current.renewed = time.monotonic()
                else:
                    log.warning("library %s: another watcher took the lease over", library_id)
                    self.drop(library_id, release=False)
        for library_id, target in wanted.items():
            if library_id not in self.watched and lease.take(library_id, self.holder):
                self.start(target)

    def start(self, target: Target) -> None:
        feed = Feed(target, self.out)
        self.watched[target.library_id] = Watched(
            target, feed, Settler(settings.STOAT_WATCH_SETTLE)
        )
        feed.start()
        log.info("watching library %s (%s)", target.library_id, target.path)

    def drop(self, library_id: int, *, release: bool) -> None:
        watched = self.watched.pop(library_id)
        watched.feed.stop()
        if release:
            lease.release(library_id, self.holder)

    def stop(self) -> None:
        for library_id in list(self.watched):
            self.drop(library_id, release=True)

    # -- changes -----------------------------------------------------------------------------
    def take_messages(self) -> None:
        while True:
            try:
                message = self.out.get_nowait()
            except queue.Empty:
                return
            watched = self.watched.get(message.library_id)
            if watched is None:
                continue  # a feed stopped since: its library is someone else's now
            if isinstance(message, ModeMessage):
                lease.report(message.library_id, self.holder, message.mode, message.reason)
            elif isinstance(message, ChangesMessage):
                self.note(watched, message)

    def note(self, watched: Watched, message: ChangesMessage) -> None:
        root = watched.target.path
        files, folders = sort_changes(message.changes, root, self.extensions, known_folder)
        watched.settler.add(files)
        now = time.monotonic()
        for folder in folders:
            watched.folders[folder] = now
        for _, path in message.changes:
            # A folder is quiet only once nothing under it changes any more.
            for folder in watched.folders:
                if path.startswith(folder.rstrip(os.sep) + os.sep):
                    watched.folders[folder] = now

    def settle(self, watched: Watched) -> None:
        if len(watched.settler):
            watched.ready_files.update(watched.settler.ready())
        quiet_since = time.monotonic() - settings.STOAT_WATCH_SETTLE
        for folder, changed in list(watched.folders.items()):
            if changed <= quiet_since:
                watched.ready_folders.add(folder)
                del watched.folders[folder]

    def start_scan(self, watched: Watched) -> None:
        """Start one scan covering what is ready; when the library is busy, try again later."""
        target = watched.target
        if not (watched.compare or watched.ready_files or watched.ready_folders):
            return
        if time.monotonic() < watched.next_try:
            return
        files, folders = sorted(watched.ready_files), sorted(watched.ready_folders)
        if watched.compare:
            scope = Scope(target.path, target.recursive)
            label = f"watch: comparing {target.path} with the library after the watcher started"
        else:
            scope = scope_of(files, folders, target.path, target.recursive)
            label = describe(files, folders, scope)
        library = Library.objects.filter(pk=target.library_id).first()
        if library is None:
            return
        start = scan_library(
            library,
            origin=Origin.WATCH,
            folder=scope.folder,
            recursive=scope.recursive,
            label=label,
        )
        if not start.created:
            # Folded into nothing yet: the active scan may have passed these files already.
            watched.next_try = time.monotonic() + RETRY_SCAN_SECONDS
            return
        log.info("%s: job %s", label, start.job.pk)
        watched.compare = False
        watched.ready_files.clear()
        watched.ready_folders.clear()

    # -- the loop ----------------------------------------------------------------------------
    def tick(self) -> None:
        if time.monotonic() >= self.next_refresh:
            close_old_connections()
            self.refresh()
            self.next_refresh = time.monotonic() + REFRESH_SECONDS
        self.take_messages()
        for watched in list(self.watched.values()):
            self.settle(watched)
            self.start_scan(watched)

    def run(self, stopping: threading.Event) -> None:
        try:
            while not stopping.is_set():
                try:
                    self.tick()
                except Exception:
                    # A database that is briefly away must not end the watcher: try again.
                    log.exception("watcher round failed; trying again")
                    close_old_connections()
                    stopping.wait(REFRESH_SECONDS)
                stopping.wait(TICK_SECONDS)
        finally:
            self.stop()
