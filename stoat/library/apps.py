from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate


def restore_write_marks(using: str = "default", **kwargs: Any) -> None:
    from stoat.library.summary import ensure_triggers

    ensure_triggers(connections[using])


class LibraryConfig(AppConfig):
    name = "stoat.library"
    label = "library"
    verbose_name = "Library"

    def ready(self) -> None:
        # A migration that rebuilds the videos' table on SQLite drops its triggers.
        post_migrate.connect(restore_write_marks, sender=self)
