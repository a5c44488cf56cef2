"""Answers that would otherwise be a blank page get one of stoat's own."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from stoat.core.http import is_api


class MethodNotAllowedPageMiddleware:
    """`@require_POST` answers 405 with an empty body; a person opening such an address reads why.

    The JSON API has its own 405 in its error shape and is left alone.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code != 405 or response.content or is_api(request):
            return response
        allowed = response.get("Allow", "")
        page = render(
            request,
            "405.html",
            {"allowed": " or ".join(allowed.split(", ")) or "another method"},
            status=405,
        )
        if allowed:
            page["Allow"] = allowed
        return page
