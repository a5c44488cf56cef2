"""`manage.py check --deploy` also asks for the settings only stoat knows about."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.security, deploy=True)
def scan_roots_are_set(
    app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> list[CheckMessage]:
    if settings.STOAT_SCAN_ROOTS:
        return []
    return [
        Warning(
            "STOAT_SCAN_ROOTS is empty, so any folder the server can read may be scanned "
            "and no video may be deleted with its file.",
            hint="Set STOAT_SCAN_ROOTS to the folders that hold your videos.",
            id="stoat.W001",
        )
    ]
