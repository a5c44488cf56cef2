"""Pages that belong to the whole site rather than to one app."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponsePermanentRedirect, JsonResponse
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from stoat.core.health import check_broker, check_database, check_worker


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database and the broker answer, 503 (saying which failed) otherwise.

    A worker that has not checked in recently makes the status "degraded", still 200: pages are
    served, and a web host is not taken out of a load balancer for workers elsewhere.
    """
    database = check_database()
    broker = check_broker()
    worker = check_worker()
    healthy = database.reachable and broker.reachable
    body = {
        "status": ("ok" if worker.reachable else "degraded") if healthy else "unavailable",
        "database": {"reachable": database.reachable, "detail": database.detail},
        "broker": {"reachable": broker.reachable, "detail": broker.detail},
        "worker": {"checked_in": worker.reachable, "detail": worker.detail},
    }
    return JsonResponse(body, status=200 if healthy else 503)


@login_not_required
@require_GET
def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """Browsers ask for /favicon.ico on pages that name no icon (images, JSON): send stoat's."""
    return HttpResponsePermanentRedirect(static("stoat/favicon.svg"))
