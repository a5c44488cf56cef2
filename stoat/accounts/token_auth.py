"""Signing API requests in by their `Authorization: Bearer` token."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from stoat.accounts.tokens import authenticate_token, bearer_token
from stoat.api.errors import error_response
from stoat.core.http import client_ip, is_api

logger = logging.getLogger("stoat.accounts")

Handler = Callable[[HttpRequest], HttpResponse]


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
                return error_response(401, "INVALID_TOKEN", "The API token is unknown or revoked.")
            request.user = token.user
            request.auth_token = token  # type: ignore[attr-defined]
            # The documented flag CsrfViewMiddleware honours (as the test client sets it).
            request._dont_enforce_csrf_checks = True  # type: ignore[attr-defined]
        return self.get_response(request)
