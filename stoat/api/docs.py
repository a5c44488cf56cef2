"""The /api/v1/docs page: the OpenAPI document rendered on the server, with no script or CDN."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from ninja.openapi.docs import DocsBase

if TYPE_CHECKING:
    from ninja import NinjaAPI

METHODS = ("get", "post", "put", "patch", "delete")
# The little markdown the descriptions use: `code`, **strong** and [links](url).
INLINE = re.compile(r"`([^`]+)`|\*\*([^*]+)\*\*|\[([^\]]+)\]\(([^)\s]+)\)")


def markdown(text: str) -> SafeString:
    """Descriptions' inline markdown as HTML; everything else is escaped."""
    parts: list[str] = []
    last = 0
    for found in INLINE.finditer(text):
        parts.append(escape(text[last : found.start()]))
        code, strong, label, url = found.groups()
        if code is not None:
            parts.append(f"<code>{escape(code)}</code>")
        elif strong is not None:
            parts.append(f"<strong>{escape(strong)}</strong>")
        elif url.startswith(("#", "/", "https://")):
            parts.append(f'<a href="{escape(url)}">{escape(label)}</a>')
        else:
            parts.append(escape(found.group(0)))
        last = found.end()
    parts.append(escape(text[last:]))
    return mark_safe("".join(parts))


def link_schemas(text: str, names: list[str]) -> SafeString:
    """`list of VideoOut` with each schema name linked to its table further down the page."""
    if not names:
        return mark_safe(escape(text))
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b")
    parts: list[str] = []
    last = 0
    for found in pattern.finditer(text):
        parts.append(escape(text[last : found.start()]))
        name = found.group(1)
        parts.append(f'<a href="#schema-{escape(name)}"><code>{escape(name)}</code></a>')
        last = found.end()
    parts.append(escape(text[last:]))
    return mark_safe("".join(parts))


@dataclass
class Parameter:
    name: str
    where: str
    required: bool
    kind: str
    description: str


@dataclass
class Operation:
    method: str
    path: str
    summary: str
    description: str
    parameters: list[Parameter]
    body: str
    responses: list[tuple[str, str]]
    anchor: str = ""


@dataclass
class Model:
    name: str
    fields: list[Parameter] = field(default_factory=list)


def ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def describe(schema: dict[str, Any]) -> str:
    """A JSON schema in a few words: `integer, 1 to 100, default 20`."""
    if "$ref" in schema:
        return ref_name(schema["$ref"])
    if "anyOf" in schema:
        text = " or ".join(describe(option) for option in schema["anyOf"])
    elif "enum" in schema:
        text = "one of " + ", ".join(repr(value) for value in schema["enum"])
    elif schema.get("type") == "array":
        text = f"list of {describe(schema.get('items', {}))}"
    else:
        text = str(schema.get("type", "any"))
        if "format" in schema:
            text += f" ({schema['format']})"
    limits = [
        f"{label} {schema[key]}"
        for key, label in (
            ("minimum", "≥"),
            ("maximum", "≤"),
            ("minLength", "length ≥"),
            ("maxLength", "length ≤"),
            ("pattern", "matching"),
        )
        if key in schema
    ]
    if "default" in schema:
        limits.append(f"default {schema['default']!r}")
    return ", ".join([text, *limits])


def operations(schema: dict[str, Any]) -> list[Operation]:
    found = []
    for path, item in schema.get("paths", {}).items():
        for method in METHODS:
            spec = item.get(method)
            if spec is None:
                continue
            parameters = [
                Parameter(
                    name=p["name"],
                    where=p["in"],
                    required=bool(p.get("required")),
                    kind=describe(p.get("schema", {})),
                    description=p.get("description", ""),
                )
                for p in spec.get("parameters", [])
            ]
            body = ""
            for media, content in spec.get("requestBody", {}).get("content", {}).items():
                body = f"{media}: {describe(content.get('schema', {}))}"
            responses = []
            for status, answer in spec.get("responses", {}).items():
                shapes = [
                    f"{media}: {describe(content.get('schema', {}))}"
                    for media, content in answer.get("content", {}).items()
                ]
                responses.append((status, "; ".join(shapes) or answer.get("description", "")))
            found.append(
                Operation(
                    method=method.upper(),
                    path=path,
                    summary=spec.get("summary", ""),
                    description=spec.get("description", ""),
                    parameters=parameters,
                    body=body,
                    responses=responses,
                    anchor=spec.get("operationId", f"{method}-{path}"),
                )
            )
    return found


def models(schema: dict[str, Any]) -> list[Model]:
    found = []
    for name, spec in schema.get("components", {}).get("schemas", {}).items():
        required = set(spec.get("required", []))
        fields = [
            Parameter(
                name=prop,
                where="",
                required=prop in required,
                kind=describe(prop_spec),
                description=prop_spec.get("description", ""),
            )
            for prop, prop_spec in spec.get("properties", {}).items()
        ]
        found.append(Model(name=name, fields=fields))
    return found


class ServerRenderedDocs(DocsBase):
    """Lists every operation and schema of the OpenAPI document as plain HTML."""

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        schema = api.get_openapi_schema(path_params=kwargs)
        found_models = models(schema)
        names = [model.name for model in found_models]
        found_operations = operations(schema)
        for op in found_operations:
            op.summary = markdown(op.summary)
            op.description = markdown(op.description)
            op.body = link_schemas(op.body, names)
            op.responses = [(status, link_schemas(text, names)) for status, text in op.responses]
            for parameter in op.parameters:
                parameter.kind = link_schemas(parameter.kind, names)
                parameter.description = markdown(parameter.description)
        for model in found_models:
            for model_field in model.fields:
                model_field.kind = link_schemas(model_field.kind, names)
                model_field.description = markdown(model_field.description)
        schemes = schema.get("components", {}).get("securitySchemes", {})
        context = {
            "api": api,
            "description": markdown(api.description or ""),
            "sign_in": [markdown(scheme.get("description", "")) for scheme in schemes.values()],
            "openapi_url": self.get_openapi_url(api, kwargs),
            "operations": found_operations,
            "models": found_models,
        }
        return render(request, "api/docs.html", context)
