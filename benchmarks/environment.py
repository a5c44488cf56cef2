"""Point Django at a throw-away data folder before anything imports the settings."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path


def prepare(keep: bool) -> Path:
    """A fresh temp folder holding the data folder (SQLite DB, thumbnails) and the libraries.

    Everything else (DATABASE_URL, STOAT_BROKER_URL, STOAT_PROGRESS_INTERVAL, ...) is read from the
    environment as the app reads it, so the same run measures any configured database and broker.
    """
    base = Path(tempfile.mkdtemp(prefix="stoat-bench-"))
    if keep:
        print(f"working folder (kept): {base}")
    return setup(base)


def prepare_kept(base: Path) -> Path:
    """Like `prepare`, in a folder a later run reuses: its database keeps what it holds."""
    base.mkdir(parents=True, exist_ok=True)
    return setup(base)


def setup(base: Path) -> Path:
    os.environ["STOAT_DATA_DIR"] = str(base / "data")
    # The libraries live under the working folder; a configured scan root would refuse them.
    os.environ["STOAT_SCAN_ROOTS"] = str(base)
    # Measure the app as it is deployed: DEBUG makes Django keep every query's SQL text.
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stoat.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    # django-q2 logs every enqueued task; the figures are the output here.
    logging.getLogger("django-q").setLevel(logging.WARNING)
    return base


def describe() -> str:
    """One line naming the database, broker and worker settings in effect."""
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    broker = "redis" if "redis" in settings.Q_CLUSTER else "orm"
    return (
        f"database {engine}, broker {broker}, DEBUG {settings.DEBUG}, "
        f"progress interval {settings.STOAT_PROGRESS_INTERVAL:g} s, "
        f"batch min {settings.STOAT_BATCH_MIN}, max batches {settings.STOAT_MAX_BATCHES}, "
        f"{os.cpu_count()} cores"
    )
