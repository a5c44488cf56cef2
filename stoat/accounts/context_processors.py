from __future__ import annotations

from django.http import HttpRequest

from stoat.accounts.permissions import can_manage_scans


def permissions(request: HttpRequest) -> dict[str, bool]:
    """`can_manage_scans` for templates, which hide the buttons a read-only user cannot use."""
    user = getattr(request, "user", None)
    return {"can_manage_scans": user is not None and can_manage_scans(user)}
