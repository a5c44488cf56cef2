"""Django's model backend, reading a user's permissions in one query instead of two."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser, Permission
from django.db.models import Q


class OneQueryModelBackend(ModelBackend):
    """Same answers as ModelBackend; own and group permissions come from a single query.

    Every poll of a running job's progress asks whether the user may cancel it, so the
    second query showed up in the load test.
    """

    def get_all_permissions(
        self, user_obj: AbstractBaseUser | AnonymousUser, obj: Any = None
    ) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        cached: set[str] | None = getattr(user_obj, "_perm_cache", None)
        if cached is None:
            permissions = Permission.objects.all()
            if not getattr(user_obj, "is_superuser", False):
                permissions = permissions.filter(Q(user=user_obj) | Q(group__user=user_obj))
            cached = {
                f"{app_label}.{codename}"
                for app_label, codename in permissions.values_list(
                    "content_type__app_label", "codename"
                )
            }
            user_obj._perm_cache = cached  # type: ignore[attr-defined]
        return cached
