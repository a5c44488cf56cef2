from __future__ import annotations

from django.apps import AppConfig


class LibraryConfig(AppConfig):
    name = "stoat.library"
    label = "library"
    verbose_name = "Library"
