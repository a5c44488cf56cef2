from __future__ import annotations

from django.apps import AppConfig


class WatchConfig(AppConfig):
    name = "stoat.watch"
    label = "watch"
    verbose_name = "Watching"
