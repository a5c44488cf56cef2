"""Requests generated from the API's own OpenAPI document, valid and invalid alike.

For each operation, Hypothesis draws parameters and bodies that fit the document's schemas, and
ones that do not (any text, any bytes, unknown names). No answer may be a
5xx, each status must be one the document lists for the operation, and each body must match the
schema listed for that status. The run is bounded: 17 operations × 30 examples.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from django.conf import LazySettings
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from ninja.responses import NinjaJSONEncoder

from stoat.accounts.models import ApiToken
from stoat.api.api import api
from stoat.library.models import Library, Video
from stoat.scans.models import Job, ScanError, Status
from tests.api.conftest import make_video
from tests.conftest import make_job

pytestmark = pytest.mark.django_db

# The document as /api/v1/openapi.json serves it, built without a request: fetching it needs a
# signed-in user, and there is no database at import time.
DOCUMENT: dict[str, Any] = json.loads(json.dumps(api.get_openapi_schema(), cls=NinjaJSONEncoder))
COMPONENTS = DOCUMENT["components"]
EXAMPLES_PER_OPERATION = 30


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    spec: dict[str, Any]

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"

    def parameters(self, where: str) -> list[dict[str, Any]]:
        return [p for p in self.spec.get("parameters", []) if p["in"] == where]

    @property
    def body_schema(self) -> dict[str, Any] | None:
        content = self.spec.get("requestBody", {}).get("content", {})
        schema: dict[str, Any] | None = content.get("application/json", {}).get("schema")
        return schema


OPERATIONS = [
    Operation(method, path, spec)
    for path, item in DOCUMENT["paths"].items()
    for method, spec in item.items()
]


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values that fit one of the document's schemas (the JSON Schema subset ninja writes)."""
    if "$ref" in schema:
        return from_schema(COMPONENTS["schemas"][schema["$ref"].rsplit("/", 1)[-1]])
    if "anyOf" in schema:
        return st.one_of([from_schema(option) for option in schema["anyOf"]])
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "string" and "pattern" in schema:
        return st.from_regex(schema["pattern"], fullmatch=True)
    if kind == "string":
        return st.text(min_size=schema.get("minLength", 0), max_size=schema.get("maxLength"))
    if kind == "array":
        return st.lists(from_schema(schema["items"]), max_size=3)
    if kind == "object":
        required = set(schema.get("required", []))
        fields = {name: from_schema(spec) for name, spec in schema["properties"].items()}
        return st.fixed_dictionaries(
            {k: v for k, v in fields.items() if k in required},
            optional={k: v for k, v in fields.items() if k not in required},
        )
    raise NotImplementedError(f"no strategy for the schema {schema}")


def with_components(schema: dict[str, Any]) -> dict[str, Any]:
    """A schema whose `#/components/...` references resolve on its own."""
    return {**schema, "components": COMPONENTS}


def as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def any_text() -> st.SearchStrategy[str]:
    """Text as an attacker sends it: empty, huge numbers, unicode, control characters."""
    return st.one_of(
        st.text(max_size=40),
        st.integers().map(str),
        st.floats(allow_nan=True).map(str),
        st.sampled_from(["", "0", "-1", "null", "true", "%ff", "\udcff", "9" * 40, "a" * 5000]),
    )


def value_for(parameter: dict[str, Any], ids: list[int]) -> st.SearchStrategy[str | None]:
    valid = from_schema(parameter["schema"]).map(as_text)
    if parameter["name"] in ("video_id", "job_id"):
        valid = st.one_of(valid, st.sampled_from(ids).map(str))
    invalid = any_text()
    if not parameter.get("required"):
        invalid = st.one_of(invalid, st.none())
    return st.one_of(valid, invalid)


def json_values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), any_text())
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(any_text(), inner, max_size=3)
        ),
        max_leaves=8,
    )


@dataclass(frozen=True)
class Request:
    url: str
    body: bytes | None


@st.composite
def requests_for(draw: st.DrawFn, operation: Operation, ids: list[int]) -> Request:
    path = operation.path
    for parameter in operation.parameters("path"):
        segment = draw(value_for(parameter, ids)) or "1"
        path = path.replace(
            "{" + parameter["name"] + "}", quote(segment, safe="", errors="replace")
        )
    query: dict[str, str] = {}
    for parameter in operation.parameters("query"):
        value = draw(value_for(parameter, ids))
        if value is not None:
            query[parameter["name"]] = value
    if draw(st.integers(0, 9)) == 0:
        query[draw(st.sampled_from(["page", "q2", "x", "LIMIT"]))] = draw(any_text())
    url = path + ("?" + urlencode(query, errors="replace") if query else "")
    body = None
    if operation.body_schema is not None:
        body = draw(
            st.one_of(
                from_schema(operation.body_schema).map(lambda v: json.dumps(v).encode()),
                json_values().map(lambda v: json.dumps(v).encode()),
                st.binary(max_size=60),
            )
        )
    return Request(url, body)


def check_answer(operation: Operation, request: Request, status: int, response: Any) -> None:
    where = f"{operation} → {request.url} {request.body!r:.200}: {status}"
    assert status < 500, where
    documented = operation.spec["responses"]
    assert str(status) in documented, f"undocumented status: {where}"
    content = documented[str(status)].get("content")
    if not content:
        assert response.content == b"", where
        return
    (media, spec), *_ = content.items()
    got = response["Content-Type"].split(";")[0]
    # A documented range such as video/* takes any subtype.
    assert got == media or (media.endswith("/*") and got.startswith(media[:-1])), where
    if media == "application/json":
        validator = Draft202012Validator(with_components(spec["schema"]))
        errors = [e.message for e in validator.iter_errors(response.json())]
        assert errors == [], f"{where}: {errors}"
    if status >= 400:
        assert set(response.json()["detail"]) == {"code", "message"}, where


@dataclass(frozen=True)
class Rows:
    ids: list[int]
    files: dict[Path, bytes]


@pytest.fixture
def some_rows(settings: LazySettings, clips: Callable[..., list[Path]], library_dir: Path) -> Rows:
    """A few videos and jobs, so that drawn ids sometimes name real rows."""
    settings.STOAT_SCAN_ROOTS = [str(library_dir)]
    made = clips(2)
    ids = [make_video(str(clip)).pk for clip in made]
    ids += [make_job(status=status).pk for status in (Status.PENDING, Status.RUNNING)]
    ids += [make_job(status=Status.COMPLETE).pk]
    return Rows(ids, {clip: clip.read_bytes() for clip in made})


def state() -> list[Any]:
    """What a request could change: every row of the library and of the scan history."""
    return [
        sorted(Video.objects.values_list()),
        sorted(Job.objects.values_list()),
        ScanError.objects.count(),
        Library.objects.count(),
        sorted(ApiToken.objects.values_list("pk", flat=True)),
    ]


def test_the_document_lists_every_operation_the_fuzz_run_covers() -> None:
    assert len(OPERATIONS) == 21


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_generated_requests_get_no_5xx_and_answers_that_match_the_document(
    client: Client, some_rows: Rows, operation: Operation, data: st.DataObject
) -> None:
    # Each example starts from the fixture's rows and files, whatever the one before changed.
    before = state()
    request = data.draw(requests_for(operation, some_rows.ids))
    with transaction.atomic():
        response = client.generic(
            operation.method.upper(),
            request.url,
            data=request.body or b"",
            content_type="application/json",
        )
        check_answer(operation, request, response.status_code, response)
        transaction.set_rollback(True)
    for path, content in some_rows.files.items():
        if not path.exists():  # removed by a DELETE ?delete_file=true
            path.write_bytes(content)
    assert state() == before
