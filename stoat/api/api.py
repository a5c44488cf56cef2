"""The JSON API under /api/v1/: the endpoints and answers of the service stoat replaces."""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI
from ninja.openapi.schema import OpenAPISchema
from ninja.operation import Operation

from stoat.api import duplicates, jobs, libraries, stats, videos
from stoat.api.auth import SessionOrToken, document_auth
from stoat.api.docs import ServerRenderedDocs
from stoat.api.errors import install_error_handlers, reject_unknown_query

DESCRIPTION = (
    "Scan folders for videos, follow the scan jobs, and read the library. "
    "Every error has a 4xx status and the shape "
    '`{"detail": {"code": "NOT_FOUND", "message": "..."}}`; '
    "each operation lists the statuses it may answer. "
    "Every GET also answers HEAD (the same headers, no body)."
)


class StoatAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        """The view's own name (`list_videos`), as generated clients name their methods."""
        return operation.view_func.__name__

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> OpenAPISchema:
        schema = super().get_openapi_schema(*args, **kwargs)
        for item in schema.get("paths", {}).values():
            # HEAD repeats its GET (same operation id): the description says so once for all.
            item.pop("head", None)
        document_auth(schema)
        return schema


# One `auth=` here covers every router below: reads need a user, writes the manage right.
api = StoatAPI(
    title="stoat API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api-1",
    docs=ServerRenderedDocs(),
    auth=SessionOrToken(),
)
install_error_handlers(api)
# Applied first, so it still sees ninja's operation when more decorators wrap it later.
api.add_decorator(reject_unknown_query, mode="view")
api.add_router("/videos", videos.router)
api.add_router("/jobs", jobs.router)
api.add_router("/stats", stats.router)
api.add_router("/libraries", libraries.router)
api.add_router("/duplicates", duplicates.router)
