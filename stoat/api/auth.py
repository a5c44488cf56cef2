"""Who may call the API: a signed-in browser session (with CSRF on writes) or a Bearer token.

BearerTokenMiddleware has already turned a valid token into `request.user` (and answered 401
to a wrong one); this checks what the operation needs: any user to read, and the right to
manage scans (staff or `accounts.manage_scans`) to start, cancel or delete.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest
from ninja.security.http import HttpAuthBase
from ninja.utils import check_csrf

from stoat.accounts.permissions import can_manage_scans
from stoat.api.errors import ApiError

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SessionOrToken(HttpAuthBase):
    # Shown in the OpenAPI document; a browser's session cookie works as well.
    openapi_scheme = "bearer"
    openapi_description = (
        "An API token (`manage.py token create USER`) as `Authorization: Bearer <token>`, "
        "or a signed-in browser session sending its CSRF token as `X-CSRFToken` on writes."
    )

    def __call__(self, request: HttpRequest) -> AbstractBaseUser:
        user = request.user
        if not user.is_authenticated:
            raise ApiError(
                401,
                "NOT_AUTHENTICATED",
                "Sign in, or send an API token as 'Authorization: Bearer <token>'.",
            )
        if request.method in READ_METHODS:
            return user
        # A token is not sent by browsers on their own, so only a session needs the CSRF check.
        if getattr(request, "auth_token", None) is None and check_csrf(request) is not None:
            raise ApiError(
                403,
                "CSRF_FAILED",
                "Send the page's CSRF token as the X-CSRFToken header, or use an API token.",
            )
        if not can_manage_scans(user):
            raise ApiError(
                403,
                "FORBIDDEN",
                f"{user.get_username()} may only read: starting, cancelling and deleting "
                "need a staff user or the manage_scans permission.",
            )
        return user


def document_auth(schema: dict[str, Any]) -> dict[str, Any]:
    """Lists 401 on every operation and 403 on every write, in the API's error shape."""
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}}
    for item in schema.get("paths", {}).values():
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            responses.setdefault("401", {"description": "Not signed in, or a wrong token", **error})
            if method.upper() not in READ_METHODS:
                responses.setdefault("403", {"description": "Not allowed", **error})
    return schema
