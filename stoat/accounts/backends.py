"""Django's model backend, reading a user's permissions in one query written once."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser, Permission, User
from django.db import connections, router
from django.db.models import Q

from stoat.core.prepared import RowByKey

# Stands for the user's id while Django writes the query; no user has it.
PLACEHOLDER_ID = -1


@cache
def permissions_sql(alias: str) -> tuple[str, int]:
    """The SQL of "this user's own and group permissions" on one database, and its slot count.

    Building this query (three joins) took Django longer than the rest of a progress poll;
    written once, each poll only binds the user's id.
    """
    query = Permission.objects.filter(
        Q(user__id=PLACEHOLDER_ID) | Q(group__user__id=PLACEHOLDER_ID)
    ).values_list("content_type__app_label", "codename")
    sql, params = query.query.get_compiler(using=alias).as_sql()
    if any(param != PLACEHOLDER_ID for param in params):
        raise RuntimeError(f"unexpected parameters in the permissions query: {params!r}")
    return sql, len(params)


@cache
def user_by_pk() -> RowByKey[User]:
    return RowByKey(get_user_model())


class OneQueryModelBackend(ModelBackend):
    """Same answers as ModelBackend; own and group permissions come from a single query.

    Every poll of a running job's progress loads its user and asks whether they may cancel it.
    """

    def get_user(self, user_id: Any) -> User | None:
        user = user_by_pk().get(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

    def get_all_permissions(
        self, user_obj: AbstractBaseUser | AnonymousUser, obj: Any = None
    ) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        cached: set[str] | None = getattr(user_obj, "_perm_cache", None)
        if cached is None:
            if getattr(user_obj, "is_superuser", False):
                rows = list(Permission.objects.values_list("content_type__app_label", "codename"))
            else:
                alias = router.db_for_read(Permission)
                sql, slots = permissions_sql(alias)
                with connections[alias].cursor() as cursor:
                    cursor.execute(sql, [user_obj.pk] * slots)
                    rows = cursor.fetchall()
            cached = {f"{app_label}.{codename}" for app_label, codename in rows}
            user_obj._perm_cache = cached  # type: ignore[attr-defined]
        return cached
