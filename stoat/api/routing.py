"""HEAD and OPTIONS on every API endpoint, as HTTP expects of them, declared once for all routes.

Every operation declared for GET also answers HEAD (ninja runs the same view, whose headers
stay and whose body is dropped); OPTIONS answers 204 with the `Allow` header of the path.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from ninja import Router

View = Callable[..., HttpResponseBase]


class ApiRouter(Router):
    """A ninja router whose GET operations answer HEAD as well."""

    def add_api_operation(
        self, path: str, methods: list[str], view_func: Callable[..., Any], **kwargs: Any
    ) -> None:
        if "GET" in methods and "HEAD" not in methods:
            methods = [*methods, "HEAD"]
        super().add_api_operation(path, methods, view_func, **kwargs)


def allowed_methods(response: HttpResponseBase) -> str:
    """A 405's `Allow`, in a stable order (ninja builds it from a set), OPTIONS included."""
    named = {m.strip() for m in str(response.get("Allow", "")).split(",") if m.strip()}
    return ", ".join(sorted(named | {"OPTIONS"}))


def answer_head_and_options(view: View) -> View:
    """Wrap a URL's view: OPTIONS gets 204 and `Allow`; HEAD gets the GET's headers, no body."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        if request.method == "OPTIONS" and response.status_code == 405:
            answer = HttpResponse(status=204)
            # No body, so no type of one.
            del answer["Content-Type"]
            answer["Allow"] = allowed_methods(response)
            return answer
        if request.method == "HEAD":
            drop_body(response)
        return response

    return wrapped


def drop_body(response: HttpResponseBase) -> None:
    """Empty the body and keep the headers a GET would have sent, Content-Length among them."""
    if isinstance(response, HttpResponse):
        if not response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))
        response.content = b""
    elif isinstance(response, StreamingHttpResponse):
        # Never started, so a file or a query behind it is not read; its closers still run.
        response.streaming_content = iter(())
