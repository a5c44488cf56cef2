"""Pages that belong to the whole site rather than to one app."""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponsePermanentRedirect, JsonResponse
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from stoat.core.health import check_broker, check_database, check_worker

logger = logging.getLogger("stoat.health")


def sees_details(request: HttpRequest) -> bool:
    # Reading the user loads the session: with the database down, nobody is known.
    try:
        return bool(request.user.is_staff)
    except DatabaseError:
        return False


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database and the broker answer, 503 (saying which failed) otherwise.

    A worker that has not checked in recently makes the status "degraded", still 200: pages are
    served, and a web host is not taken out of a load balancer for workers elsewhere. Anyone
    learns ok or failing per part; why a part fails goes to the log and to signed-in staff.
    """
    checks = {"database": check_database(), "broker": check_broker(), "worker": check_worker()}
    healthy = checks["database"].reachable and checks["broker"].reachable
    for name, check in checks.items():
        if not check.reachable:
            # A missing worker is normal on a web-only host; a missing database or broker is not.
            level = logging.INFO if name == "worker" else logging.WARNING
            logger.log(level, "health check: %s failing: %s", name, check.detail)
    body: dict[str, object] = {
        "status": ("ok" if checks["worker"].reachable else "degraded") if healthy else "unavailable"
    }
    if sees_details(request):
        body["database"] = {
            "reachable": checks["database"].reachable,
            "detail": checks["database"].detail,
        }
        body["broker"] = {
            "reachable": checks["broker"].reachable,
            "detail": checks["broker"].detail,
        }
        body["worker"] = {
            "checked_in": checks["worker"].reachable,
            "detail": checks["worker"].detail,
        }
    else:
        body.update({name: "ok" if c.reachable else "failing" for name, c in checks.items()})
    return JsonResponse(body, status=200 if healthy else 503)


@login_not_required
@require_GET
def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """Browsers ask for /favicon.ico on pages that name no icon (images, JSON): send stoat's."""
    return HttpResponsePermanentRedirect(static("stoat/favicon.svg"))
