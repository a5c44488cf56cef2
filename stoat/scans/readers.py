"""The reader processes of a foreground scan: each reads one file at a time, never the database.

Imported by a fresh process before Django is set up, so it imports no model at module level.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.conf import settings

from stoat.library.allocator import keep_freed_memory
from stoat.library.probe import NotAVideo, ProbeError
from stoat.scans.steps import (
    OutOfTime,
    ReadersStalled,
    decoder_threads,
    reader_steps,
    run_within_limits,
)

if TYPE_CHECKING:
    from stoat.library.models import Video
    from stoat.scans.scanner import ReadItem

log = logging.getLogger(__name__)

# What a reader needs of the parent's settings (which tests and the environment may change);
# the database to look up possible moves in.
READER_SETTINGS = (
    "DATABASES",
    "STOAT_THUMB_DIR",
    "STOAT_THUMB_SIZE",
    "STOAT_FILE_TIME_LIMIT",
    "STOAT_HEARTBEAT_INTERVAL",
)


def settings_for_readers() -> dict[str, Any]:
    return {name: getattr(settings, name) for name in READER_SETTINGS}


def start_reader(overrides: dict[str, Any]) -> None:
    """Set up one reader process: Django with the parent's settings, Ctrl-C ignored."""
    # Ctrl-C reaches the whole process group; the parent alone decides what it means.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stoat.settings")
    # Before setup, so nothing set up reads the settings this process would have had alone.
    for name, value in overrides.items():
        setattr(settings, name, value)
    import django

    django.setup()
    # A reader is one of the processes the person asked for: it decodes on one core.
    decoder_threads.set(1)
    keep_freed_memory()  # forked readers have it from their parent already; spawned ones not


def ready() -> int:
    """A first task that only makes the pool start a reader."""
    return os.getpid()


def no_beat() -> None:
    """Readers do not beat: the parent does, while it waits for them."""


def read_one(item: ReadItem, deadline: float) -> Video | Exception:
    """Read one file within the time limits: its row, or the reason it has none."""
    from stoat.scans.scanner import read_video

    def limited(work: Callable[[], Any], what: str) -> Any:
        return run_within_limits(work, what, deadline=deadline, beat=no_beat)

    token = reader_steps.set(limited)
    try:
        return read_video(item)
    except (NotAVideo, ProbeError, OutOfTime, ReadersStalled) as reason:
        return reason
    except Exception as error:  # a reader bug must not end the whole scan
        log.exception("unexpected error reading %s", item.path)
        return RuntimeError(str(error))
    finally:
        reader_steps.reset(token)
