from __future__ import annotations

import re

import pytest
from django.test import Client

from stoat.api.docs import markdown
from tests.api.conftest import body

pytestmark = pytest.mark.django_db

OPERATIONS = {
    ("get", "/api/v1/videos"),
    ("get", "/api/v1/videos/search"),
    ("get", "/api/v1/videos/facets"),
    ("get", "/api/v1/stats"),
    ("get", "/api/v1/videos/export"),
    ("get", "/api/v1/videos/{video_id}/stream"),
    ("get", "/api/v1/videos/{video_id}"),
    ("delete", "/api/v1/videos/{video_id}"),
    ("get", "/api/v1/videos/{video_id}/thumbnail"),
    ("post", "/api/v1/videos/scan"),
    ("get", "/api/v1/jobs"),
    ("get", "/api/v1/jobs/{job_id}"),
    ("post", "/api/v1/jobs/{job_id}/cancel"),
    ("get", "/api/v1/libraries"),
    ("post", "/api/v1/libraries"),
    ("get", "/api/v1/libraries/{library_id}"),
    ("put", "/api/v1/libraries/{library_id}"),
    ("delete", "/api/v1/libraries/{library_id}"),
    ("post", "/api/v1/libraries/{library_id}/scan"),
    ("delete", "/api/v1/videos/{video_id}/copy"),
    ("get", "/api/v1/duplicates"),
}


def test_openapi_document_is_openapi_3_with_every_operation(client: Client) -> None:
    schema = body(client.get("/api/v1/openapi.json"))

    assert schema["openapi"].startswith("3.")
    found = {(method, path) for path, item in schema["paths"].items() for method in item}
    assert found == OPERATIONS
    error = schema["components"]["schemas"]["ErrorOut"]
    assert error["properties"]["detail"] == {"$ref": "#/components/schemas/ErrorDetail"}


def test_every_operation_documents_its_error_answers(client: Client) -> None:
    schema = body(client.get("/api/v1/openapi.json"))
    for item in schema["paths"].values():
        for spec in item.values():
            assert "400" in spec["responses"]
    cancel = schema["paths"]["/api/v1/jobs/{job_id}/cancel"]["post"]["responses"]
    assert set(cancel) == {"200", "400", "401", "403", "404", "409"}
    job = schema["paths"]["/api/v1/jobs/{job_id}"]["get"]["responses"]
    assert set(job) == {"200", "400", "401", "404"}
    delete = schema["paths"]["/api/v1/videos/{video_id}"]["delete"]["responses"]
    assert set(delete) == {"204", "400", "401", "403", "404", "409", "422"}
    scan = schema["paths"]["/api/v1/videos/scan"]["post"]["responses"]
    assert set(scan) == {"202", "400", "401", "403", "422"}
    listing = schema["paths"]["/api/v1/videos"]["get"]["responses"]
    assert set(listing) == {"200", "400", "401", "422"}


def test_ids_in_paths_are_documented_as_names_of_any_form(client: Client) -> None:
    schema = body(client.get("/api/v1/openapi.json"))
    for path, item in schema["paths"].items():
        for spec in item.values():
            for parameter in spec.get("parameters", []):
                if parameter["in"] == "path":
                    assert parameter["schema"]["type"] == "string", path
                    assert "pattern" not in parameter["schema"], path
                    assert "404" in spec["responses"], path


def test_docs_page_lists_every_operation_without_loading_anything_remote(client: Client) -> None:
    response = client.get("/api/v1/docs")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    for method, path in OPERATIONS:
        assert f"<code>{method.upper()} {path}</code>" in page
    assert 'href="/api/v1/openapi.json"' in page
    remote = re.findall(r'(?:src|href)="(?:https?:)?//[^"]*"', page)
    assert remote == []


def test_docs_page_shows_parameter_limits_and_schemas(client: Client) -> None:
    page = client.get("/api/v1/docs").content.decode()
    assert "integer, ≥ 1, ≤ 100, default 20" in page
    assert 'id="schema-JobOut"' in page
    assert "<code>delete_file</code>" in page


def test_operation_ids_are_the_short_names_clients_generate_methods_from(client: Client) -> None:
    schema = body(client.get("/api/v1/openapi.json"))
    ids = {spec["operationId"] for item in schema["paths"].values() for spec in item.values()}
    assert ids == {
        "list_videos",
        "search_videos",
        "video_facets",
        "library_statistics",
        "export_videos",
        "video_stream",
        "video_detail",
        "remove_video",
        "video_thumbnail",
        "start_scan",
        "list_jobs",
        "job_detail",
        "cancel_job",
        "list_libraries",
        "add_library",
        "library_detail",
        "change_library",
        "delete_library",
        "scan_library_now",
        "remove_copy",
        "list_duplicates",
    }


def test_docs_page_says_how_to_sign_in_with_a_token(client: Client) -> None:
    page = client.get("/api/v1/docs").content.decode()

    assert '<h2 id="signing-in">Signing in</h2>' in page
    assert "<code>python manage.py token create USER</code>" in page
    assert "<code>Authorization: Bearer &lt;token&gt;</code>" in page
    assert 'curl -H "Authorization: Bearer $TOKEN" http://testserver/api/v1/videos' in page


def test_docs_page_renders_the_descriptions_markdown(client: Client) -> None:
    page = client.get("/api/v1/docs").content.decode()

    assert "`" not in re.sub(r"<pre>.*?</pre>", "", page, flags=re.S)
    assert "contains <code>q</code> (any case)" in page
    assert "<code>X-CSRFToken</code>" in page


def test_docs_page_states_the_error_shape_once(client: Client) -> None:
    page = client.get("/api/v1/docs").content.decode()

    assert page.count("&quot;detail&quot;") == 1


def test_docs_page_links_schema_names_to_their_tables(client: Client) -> None:
    page = client.get("/api/v1/docs").content.decode()

    assert '<a href="#schema-VideoListOut"><code>VideoListOut</code></a>' in page
    assert '<a href="#schema-ErrorOut"><code>ErrorOut</code></a>' in page
    links = set(re.findall(r'href="#schema-(\w+)"', page))
    targets = set(re.findall(r'id="schema-(\w+)"', page))
    assert links and links <= targets


def test_markdown_escapes_everything_it_does_not_render() -> None:
    assert markdown("a <b> `x<y>` **bold** [ok](#here) [bad](javascript:alert(1))") == (
        'a &lt;b&gt; <code>x&lt;y&gt;</code> <strong>bold</strong> <a href="#here">ok</a> '
        "[bad](javascript:alert(1))"
    )
