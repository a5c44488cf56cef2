"""One error shape for the whole API: `{"detail": {"code": "...", "message": "..."}}`.

The clients of the service stoat replaces read `detail.code`, so every failure under /api/v1/ —
ninja's own validation errors, unknown routes, wrong methods — is answered in this shape.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from ninja.errors import HttpError, ValidationError

from stoat.api.routing import allowed_methods

if TYPE_CHECKING:
    from ninja import NinjaAPI

logger = logging.getLogger("stoat.api")

View = Callable[..., HttpResponseBase]

# The code each plain HTTP status is reported with when nothing more specific applies.
CODES_BY_STATUS = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "REQUEST_TOO_LARGE",
    416: "RANGE_NOT_SATISFIABLE",
    422: "VALIDATION_ERROR",
    429: "TOO_MANY_REQUESTS",
}


class ApiError(Exception):
    """An answer other than success: its status, its code and a sentence for people."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def not_found(message: str) -> ApiError:
    return ApiError(404, "NOT_FOUND", message)


def error_response(status: int, code: str, message: str) -> HttpResponse:
    """Every error the API answers, from a view or from a middleware before any view."""
    body = json.dumps({"detail": {"code": code, "message": message}})
    response = HttpResponse(body, status=status, content_type="application/json; charset=utf-8")
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="stoat"'
    return response


# pydantic's errors for a value outside a fixed set of choices (an Enum, a Literal).
CHOICE_ERRORS = frozenset({"enum", "literal_error"})
# Where a parameter came from; the client wrote only its name, so choice messages leave it out.
SOURCES = frozenset({"query", "path", "header", "cookie"})
QUOTED = re.compile(r"'([^']*)'")
# pydantic names each member of a union in an error's location: `str-enum[Status]`, `literal['']`.
UNION_MEMBER = re.compile(r"^[a-z][a-z-]*\[.*\]$")


# pydantic's errors for a number outside its bounds, as words after "must be".
BOUNDS = {
    "greater_than_equal": ("ge", "{} or more"),
    "greater_than": ("gt", "more than {}"),
    "less_than_equal": ("le", "{} or less"),
    "less_than": ("lt", "less than {}"),
}


def parameter_name(loc: list[str]) -> str:
    """The name as the client wrote it: `limit`, not `query.limit`; a body field keeps `body.`."""
    return ".".join(loc[1:] if loc[0] in SOURCES and len(loc) > 1 else loc)


def bound_sentence(error: dict[str, Any], loc: list[str]) -> str:
    """`limit must be 1 or more` for a number out of bounds in the query or path; else ''."""
    kind = BOUNDS.get(str(error.get("type")))
    if kind is None or len(loc) < 2 or loc[0] not in SOURCES:
        return ""
    key, words = kind
    limit = error.get("ctx", {}).get(key)
    if limit is None:
        return ""
    return f"{parameter_name(loc)} must be {words.format(limit)}"


def describe_validation_errors(errors: list[dict[str, Any]]) -> str:
    """ninja's list of field errors as one sentence: `query.limit: Input should be ...`.

    A value outside a set of choices reads `status must be one of: pending, running, ...`,
    once per parameter even when its type is a union of several sets.
    """
    # Each part: a finished sentence, or the name of a parameter whose choices are collected.
    parts: list[tuple[str, bool]] = []
    choices: dict[str, list[str]] = {}
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        if loc[:2] == ["body", "body"]:
            # ninja nests the body under its parameter name; the client never saw that name.
            loc = loc[1:]
        loc = [part for part in loc if not UNION_MEMBER.match(part)]
        if error.get("type") in CHOICE_ERRORS and loc:
            name = parameter_name(loc)
            if name not in choices:
                choices[name] = []
                parts.append((name, True))
            said = str(error.get("ctx", {}).get("expected", ""))
            expected = QUOTED.findall(said) or [said]
            # An empty choice means "no filter"; saying so would only confuse.
            choices[name] += [value for value in expected if value and value not in choices[name]]
            continue
        bound = bound_sentence(error, loc)
        if bound:
            parts.append((bound, False))
            continue
        where = ".".join(loc)
        text = f"{where}: {error.get('msg', 'invalid value')}" if where else error["msg"]
        parts.append((text, False))
    sentences = [
        f"{text} must be one of: {', '.join(choices[text])}" if is_choice else text
        for text, is_choice in parts
    ]
    return "; ".join(sentences) or "The request is not valid."


# What django-ninja says of a body it could not parse, whatever was wrong with it.
NINJA_UNPARSED = "Cannot parse request body"


def unreadable_body(request: HttpRequest) -> str:
    """Why a body could not be read, and what to send instead."""
    kind = request.content_type or "none"
    if kind != "application/json":
        return (
            f"Send the body as JSON with Content-Type: application/json (this one's type: {kind})."
        )
    return "The body is not valid JSON: send one JSON object, as UTF-8 text."


def install_error_handlers(api: NinjaAPI) -> None:
    """Replace ninja's default handlers (other shapes, tracebacks in DEBUG) with ours.

    ninja calls each handler with an instance of the class it was registered for.
    """

    def api_error(request: HttpRequest, exc: Any) -> HttpResponse:
        return error_response(exc.status, exc.code, exc.message)

    def validation_error(request: HttpRequest, exc: Any) -> HttpResponse:
        return error_response(422, "VALIDATION_ERROR", describe_validation_errors(exc.errors))

    def http_error(request: HttpRequest, exc: Any) -> HttpResponse:
        code = CODES_BY_STATUS.get(exc.status_code, "ERROR")
        if exc.status_code == 400 and str(exc.message).startswith(NINJA_UNPARSED):
            return error_response(400, code, unreadable_body(request))
        return error_response(exc.status_code, code, exc.message)

    def http_404(request: HttpRequest, exc: Any) -> HttpResponse:
        return error_response(404, "NOT_FOUND", str(exc) or "Not found.")

    def suspicious(request: HttpRequest, exc: Any) -> HttpResponse:
        # Django's own answer to these (a body too large, a bad host) is 400 as well.
        return error_response(400, "BAD_REQUEST", str(exc) or "The request was refused.")

    def unexpected(request: HttpRequest, exc: Any) -> HttpResponse:
        logger.error("API request %s %s failed", request.method, request.path, exc_info=exc)
        return error_response(500, "INTERNAL_ERROR", "stoat could not answer this request.")

    api.add_exception_handler(ApiError, api_error)
    api.add_exception_handler(ValidationError, validation_error)
    api.add_exception_handler(HttpError, http_error)
    api.add_exception_handler(Http404, http_404)
    api.add_exception_handler(SuspiciousOperation, suspicious)
    api.add_exception_handler(Exception, unexpected)


def json_errors(view: View) -> View:
    """Wrap a URL's view so that Django's plain 404 and 405 answers come in the API's shape."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            return unknown_route(request)
        if response.status_code == 405 and not is_json(response):
            allowed = allowed_methods(response)
            answer = error_response(
                405,
                "METHOD_NOT_ALLOWED",
                f"{request.method} is not allowed on {request.path}; use {allowed}.",
            )
            answer["Allow"] = allowed
            return answer
        return response

    return wrapped


def is_json(response: HttpResponseBase) -> bool:
    return str(response.get("Content-Type", "")).startswith("application/json")


def unknown_route(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Every path under /api/v1/ that names no endpoint."""
    return error_response(
        404, "NOT_FOUND", f"No API endpoint at {request.path}; the list is at /api/v1/docs."
    )


def reject_unknown_query(run: View) -> View:
    """Answer 400 when the query string holds a parameter the operation does not take.

    Applied to each operation's `run` (ninja's "view" decorator mode), before validation.
    """
    operation = getattr(run, "__self__", None)
    allowed = known_query_names(operation)

    @wraps(run)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        unknown = sorted(set(request.GET) - allowed)
        if unknown:
            names = ", ".join(repr(name) for name in unknown[:10])
            takes = ", ".join(sorted(allowed)) or "none"
            return error_response(
                400,
                "UNKNOWN_PARAMETER",
                f"Unknown query parameter {names}; this endpoint takes: {takes}.",
            )
        return run(request, *args, **kwargs)

    return checked


def known_query_names(operation: object) -> frozenset[str]:
    """The query parameter names a ninja operation declares (from its parameter models)."""
    names: set[str] = set()
    for model in getattr(operation, "models", ()):
        if getattr(model, "__ninja_param_source__", None) == "query":
            names.update(getattr(model, "__ninja_flatten_map__", None) or model.model_fields)
    return frozenset(names)
