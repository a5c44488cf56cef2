"""The sign-in gate: Django's LoginRequiredMiddleware, answering the API and HTMX in their terms."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import middleware
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django_htmx.http import HttpResponseClientRedirect

from stoat.api.errors import error_response
from stoat.core.http import is_api


class LoginRequiredMiddleware(middleware.LoginRequiredMiddleware):
    """Every view needs a signed-in user unless marked `@login_not_required` (sign-in, /healthz).

    Pages redirect to the login page (HTMX requests are told to with HX-Redirect); the JSON API
    answers 401 in its error shape.
    """

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        # The mark before the user: reading the user loads the session, and /healthz must answer
        # (503) when the database that holds sessions is down.
        if not getattr(view_func, "login_required", True) or request.user.is_authenticated:
            return None
        if is_api(request):
            return error_response(
                401,
                "NOT_AUTHENTICATED",
                "Sign in, or send an API token as 'Authorization: Bearer <token>'.",
            )
        if request.headers.get("HX-Request") == "true":
            # A poll after the session ended: load the login page instead of swapping it in.
            return HttpResponseClientRedirect(resolve_url(settings.LOGIN_URL))
        return self.handle_no_permission(request, view_func)

    def get_login_url(self, view_func: Callable[..., Any]) -> str:
        # One sign-in page for everything, the admin's pages too (they name their own).
        return str(settings.LOGIN_URL)
