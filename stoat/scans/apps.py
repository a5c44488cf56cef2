from __future__ import annotations

from django.apps import AppConfig


class ScansConfig(AppConfig):
    name = "stoat.scans"
    label = "scans"
    verbose_name = "Scans"
