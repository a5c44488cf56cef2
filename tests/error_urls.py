"""stoat's URLs plus one view that fails, to see what a 500 shows."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from stoat.urls import urlpatterns as stoat_urlpatterns

SECRET_DETAIL = "the-failing-view-detail-7f3a"


def failing_view(request: HttpRequest) -> HttpResponse:
    raise RuntimeError(SECRET_DETAIL)


urlpatterns = [*stoat_urlpatterns, path("fail/", failing_view)]
