from __future__ import annotations

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "stoat.core"
    label = "core"

    def ready(self) -> None:
        from django_q.signals import post_spawn

        from stoat.core.checkin import start_checking_in

        post_spawn.connect(start_checking_in, dispatch_uid="stoat-worker-checkin")
