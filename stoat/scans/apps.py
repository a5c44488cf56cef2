from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ScansConfig(AppConfig):
    name = "stoat.scans"
    label = "scans"
    verbose_name = "Scans"

    def ready(self) -> None:
        # Every deployment migrates before it starts a worker: the reaper's schedule is made then.
        from django_q.signals import post_spawn

        from stoat.library.allocator import keep_freed_memory_in_worker
        from stoat.library.collector import freeze_loaded_in_worker
        from stoat.scans.priority import lower_worker_priority
        from stoat.scans.tasks import hand_back_on_start, schedule_reaper

        post_migrate.connect(schedule_reaper, sender=self)
        post_spawn.connect(lower_worker_priority, dispatch_uid="stoat-worker-priority")
        post_spawn.connect(hand_back_on_start, dispatch_uid="stoat-hand-back-on-start")
        post_spawn.connect(keep_freed_memory_in_worker, dispatch_uid="stoat-keep-freed-memory")
        post_spawn.connect(freeze_loaded_in_worker, dispatch_uid="stoat-freeze-loaded")
