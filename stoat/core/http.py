"""The request type the views are written against, and what every layer asks of a request."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def is_api(request: HttpRequest) -> bool:
    """Requests under this prefix are the JSON API: 401 instead of a login redirect, tokens."""
    return request.path_info.startswith(settings.STOAT_API_PREFIX)


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or the META key a trusted proxy fills in."""
    header = settings.STOAT_CLIENT_IP_HEADER
    if header:
        forwarded = str(request.META.get(header, "")).split(",")[-1].strip()
        if forwarded:
            return forwarded
    return str(request.META.get("REMOTE_ADDR", "") or "unknown")
