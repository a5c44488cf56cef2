"""The URL patterns for /api/v1/: ninja's, with every error answered in the API's shape."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, re_path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from stoat.api.api import api
from stoat.api.errors import json_errors, unknown_route
from stoat.api.routing import answer_head_and_options


def api_patterns() -> list[URLPattern | URLResolver]:
    patterns, _app_name, _namespace = api.urls
    wrapped: list[URLPattern | URLResolver] = []
    for pattern in patterns:
        assert isinstance(pattern, URLPattern)
        view = pattern.callback
        if pattern.name in ("openapi-json", "openapi-view"):
            # The schema and the docs page are read-only, like any page.
            view = require_safe(view)
        # ninja exempts its operations from CSRF (its cookie auth checks it itself); the schema,
        # the docs and the catch-all change nothing, so a POST to them gets a JSON 405 or 404.
        view = csrf_exempt(answer_head_and_options(json_errors(view)))
        wrapped.append(URLPattern(pattern.pattern, view, pattern.default_args, pattern.name))
    # Anything else under /api/v1/ is an unknown endpoint, answered as JSON (not Django's page).
    unknown = answer_head_and_options(json_errors(unknown_route))
    wrapped.append(re_path(r"", csrf_exempt(unknown), name="unknown"))
    return wrapped


urls = (api_patterns(), "ninja", api.urls_namespace)
