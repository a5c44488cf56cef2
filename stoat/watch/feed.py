"""One thread per watched library: watchfiles' events (or its polling) as batches of changes.

Knows watchfiles and the file system; the database is the main thread's, so a feed only sends
messages: how it watches (events, polling, or why not) and what changed.
"""

from __future__ import annotations

import errno
import os
import queue
import re
import threading
from dataclasses import dataclass

from django.conf import settings
from watchfiles._rust_notify import RustNotify

from stoat.watch.models import Mode
from stoat.watch.mounts import events_work_on, mount_type

# How long a feed that could not watch at all waits before it tries again.
RETRY_SECONDS = 30.0
OS_ERROR = re.compile(r"\(os error (\d+)\)")
LIMIT_OF_WATCHES = (
    "the system's limit of watched folders is reached (raise fs.inotify.max_user_watches)"
)
LIMIT_OF_WATCHERS = (
    "the system's limit of file-system watchers or open files is reached "
    "(raise fs.inotify.max_user_instances or the open-file limit)"
)


@dataclass(frozen=True)
class Target:
    """What a library asks to be watched as; a change to any of it restarts its feed."""

    library_id: int
    path: str
    recursive: bool
    watch: str
    poll_seconds: int


@dataclass(frozen=True)
class ModeMessage:
    library_id: int
    mode: Mode
    reason: str


@dataclass(frozen=True)
class ChangesMessage:
    library_id: int
    changes: frozenset[tuple[int, str]]


Message = ModeMessage | ChangesMessage


def os_error_number(error: BaseException) -> int | None:
    """The errno of a refusal, from an OSError or from watchfiles' "(os error 28)" text."""
    number = getattr(error, "errno", None)
    if isinstance(number, int):
        return number
    found = OS_ERROR.search(str(error))
    return int(found[1]) if found else None


def refusal(error: BaseException) -> str | None:
    """Why the system refused file-system events, in words, or None for another failure."""
    number = os_error_number(error)
    if number == errno.ENOSPC or "watch limit" in str(error).lower():
        return LIMIT_OF_WATCHES
    if number in (errno.EMFILE, errno.ENFILE):
        return LIMIT_OF_WATCHERS
    return None


def first_mode(target: Target) -> tuple[bool, str]:
    """Whether to poll from the start, and why (auto: polling on network and unknown mounts)."""
    if target.watch == "poll":
        return True, ""
    if target.watch == "events":
        return False, ""
    kind = mount_type(target.path)
    if events_work_on(kind):
        return False, ""
    where = f"a {kind} file system" if kind else "a file system of unknown type"
    return True, f"the folder is on {where}, which does not report changes"


class Feed(threading.Thread):
    def __init__(self, target: Target, out: queue.Queue[Message]) -> None:
        super().__init__(name=f"watch-library-{target.library_id}", daemon=True)
        self.target = target
        self.out = out
        self.halt = threading.Event()

    def stop(self) -> None:
        self.halt.set()

    def say(self, mode: Mode, reason: str = "") -> None:
        self.out.put(ModeMessage(self.target.library_id, mode, reason))

    def open(self, polling: bool) -> RustNotify:
        refused = settings.STOAT_WATCH_REFUSE_EVENTS
        if not polling and refused:
            # Set on purpose to try the fallback: the system refusing more watches, as it would.
            number = getattr(errno, refused)
            raise OSError(
                number, f"{errno.errorcode[number]} (refused by STOAT_WATCH_REFUSE_EVENTS)"
            )
        if not os.path.isdir(self.target.path):
            # watchfiles would watch nothing quietly; the page should say the folder is away.
            raise FileNotFoundError(errno.ENOENT, "the folder is not there (or not reachable)")
        poll_ms = self.target.poll_seconds * 1000
        return RustNotify([self.target.path], False, polling, poll_ms, self.target.recursive, True)

    def run(self) -> None:
        polling, reason = first_mode(self.target)
        while not self.halt.is_set():
            try:
                notify = self.open(polling)
            except Exception as error:  # watchfiles raises its own error type for most refusals
                why = refusal(error)
                if why and not polling:
                    polling, reason = True, f"file-system events were refused: {why}"
                    continue
                self.say(Mode.FAILED, f"{self.target.path}: {error}; trying again in 30 s")
                self.halt.wait(RETRY_SECONDS)
                continue
            self.say(Mode.POLL if polling else Mode.EVENTS, reason)
            try:
                self.pump(notify)
            except Exception as error:
                why = refusal(error)
                if why and not polling:
                    polling, reason = True, f"file-system events were refused: {why}"
                    continue
                self.say(Mode.FAILED, f"{self.target.path}: {error}; trying again in 30 s")
                self.halt.wait(RETRY_SECONDS)
            finally:
                notify.close()

    def pump(self, notify: RustNotify) -> None:
        debounce = settings.STOAT_WATCH_DEBOUNCE_MS
        while not self.halt.is_set():
            # Waits a second at most, so a stop is seen promptly; the GIL is free meanwhile.
            result = notify.watch(debounce, 50, 1000, self.halt)
            if isinstance(result, set) and result:
                self.out.put(ChangesMessage(self.target.library_id, frozenset(result)))
