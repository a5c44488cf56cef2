"""stoat's URLs plus a stand-in health check (the real one lives in another module)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from stoat.urls import urlpatterns as stoat_urlpatterns


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("healthz", healthz), *stoat_urlpatterns]
