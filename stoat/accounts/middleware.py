"""Every request is signed in or refused, and every response carries the security headers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import resolve_url
from django_htmx.http import HttpResponseClientRedirect

from stoat.accounts.tokens import authenticate_token, bearer_token

logger = logging.getLogger("stoat.accounts")

Handler = Callable[[HttpRequest], HttpResponse]


def api_error(status: int, code: str, message: str) -> JsonResponse:
    """An error in the JSON API's shape: {"detail": {"code": ..., "message": ...}}."""
    response = JsonResponse({"detail": {"code": code, "message": message}}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="stoat"'
    return response


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(settings.STOAT_API_PREFIX)


def is_public(request: HttpRequest) -> bool:
    # Static files never get here: WhiteNoise answers them before any view is found.
    return (request.path_info.rstrip("/") or "/") in settings.STOAT_PUBLIC_PATHS


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or the META key a trusted proxy fills in."""
    header = settings.STOAT_CLIENT_IP_HEADER
    if header:
        forwarded = str(request.META.get(header, "")).split(",")[-1].strip()
        if forwarded:
            return forwarded
    return str(request.META.get("REMOTE_ADDR", "") or "unknown")


class BearerTokenMiddleware:
    """Signs an API request in as the owner of its `Authorization: Bearer` token.

    A request with a token carries no cookie-based credentials, so it needs no CSRF token;
    a token that is present but wrong is refused at once, never treated as anonymous.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        header = request.headers.get("Authorization", "")
        raw = bearer_token(header) if header and is_api(request) else None
        if raw is not None:
            token = authenticate_token(raw)
            if token is None:
                logger.warning("refused API token from %s for %s", client_ip(request), request.path)
                return api_error(401, "INVALID_TOKEN", "The API token is unknown or revoked.")
            request.user = token.user
            request.auth_token = token  # type: ignore[attr-defined]
            # The documented flag CsrfViewMiddleware honours (as the test client sets it).
            request._dont_enforce_csrf_checks = True  # type: ignore[attr-defined]
        return self.get_response(request)


class LoginRequiredMiddleware:
    """Nothing but the login page, static files and the health check is open to strangers.

    Pages redirect to the login page (HTMX requests are told to do so with HX-Redirect);
    the JSON API answers 401 in its error shape.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        if request.user.is_authenticated or is_public(request):
            return None
        if not getattr(view_func, "login_required", True):
            return None
        if is_api(request):
            return api_error(
                401,
                "NOT_AUTHENTICATED",
                "Sign in, or send an API token as 'Authorization: Bearer <token>'.",
            )
        login_url = resolve_url(settings.LOGIN_URL)
        if request.headers.get("HX-Request") == "true":
            # A poll after the session ended: load the login page instead of swapping it in.
            return HttpResponseClientRedirect(login_url)
        return redirect_to_login(request.get_full_path(), login_url)


class SecurityHeadersMiddleware:
    """Adds the Content-Security-Policy and Permissions-Policy headers to every response.

    The policy allows scripts, styles and requests from this site only: no inline script,
    no eval (htmx is configured not to need either), no framing, no plugins.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response
        self.policy = "; ".join(
            f"{name} {' '.join(sources)}" for name, sources in settings.STOAT_CSP.items()
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"
        )
        return response
