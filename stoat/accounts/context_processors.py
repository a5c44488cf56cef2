from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from stoat.accounts.permissions import can_manage_scans


def permissions(request: HttpRequest) -> dict[str, object]:
    """`can_manage_scans` for templates, which hide the buttons a read-only user cannot use.

    Lazy: a progress poll of a finished job never shows a button, so it never asks.
    """
    user = getattr(request, "user", None)
    return {
        "can_manage_scans": SimpleLazyObject(lambda: user is not None and can_manage_scans(user))
    }
