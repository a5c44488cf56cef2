"""Who may change things: viewing needs a login, changing needs staff or `manage_scans`."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, PermissionsMixin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

MANAGE_SCANS = "accounts.manage_scans"

View = TypeVar("View", bound=Callable[..., Any])


def can_manage_scans(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether the user may start and cancel scans and delete videos."""
    if not user.is_authenticated or not user.is_active:
        return False
    if getattr(user, "is_staff", False):
        return True
    return isinstance(user, PermissionsMixin) and user.has_perm(MANAGE_SCANS)


def manager_required(view: View) -> View:
    """Answers 403 to a signed-in user who may only look (the login itself is the middleware's)."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if not can_manage_scans(request.user):
            raise PermissionDenied("Only staff (or users allowed to manage scans) may do this.")
        return view(request, *args, **kwargs)

    return guarded  # type: ignore[return-value]
