"""Bad requests of every kind get a 4xx in the one error shape, and change nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import Client, RequestFactory

from stoat.api.api import api
from stoat.api.schemas import MAX_LIMIT
from stoat.library.models import Video
from stoat.scans.models import Job, Status
from tests.api.conftest import error_of, make_video, post_json
from tests.conftest import make_job

pytestmark = pytest.mark.django_db

SCAN = "/api/v1/videos/scan"


@pytest.fixture(autouse=True)
def nothing_changes() -> Iterator[None]:
    """Every request in this module is refused, so the rows must be exactly as they were."""
    video = make_video()
    job = make_job()
    before = (list(Video.objects.values()), list(Job.objects.values()))
    yield
    assert (list(Video.objects.values()), list(Job.objects.values())) == before
    assert Video.objects.filter(pk=video.pk).exists() and Job.objects.filter(pk=job.pk).exists()


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ("{not json", 400, "BAD_REQUEST"),
        ('{"path": "/tmp"', 400, "BAD_REQUEST"),
        (b'{"path": "/srv/\xff\xfe"}', 400, "BAD_REQUEST"),
        ("", 422, "VALIDATION_ERROR"),
        ("[]", 422, "VALIDATION_ERROR"),
        ('"/tmp"', 422, "VALIDATION_ERROR"),
        ("{}", 422, "VALIDATION_ERROR"),
        ('{"path": null}', 422, "VALIDATION_ERROR"),
        ('{"path": 42}', 422, "VALIDATION_ERROR"),
        ('{"path": ["/tmp"]}', 422, "VALIDATION_ERROR"),
        ('{"path": "/tmp", "recursive": "yes"}', 422, "VALIDATION_ERROR"),
        ('{"path": "/tmp", "recursive": 1}', 422, "VALIDATION_ERROR"),
        ('{"path": "/tmp", "depth": 3}', 422, "VALIDATION_ERROR"),
        ('{"path": "/\\udcff\\udcfe"}', 400, "INVALID_PATH"),
        ('{"path": "/' + "x/" * 3000 + '"}', 400, "INVALID_PATH"),
    ],
)
def test_bad_scan_body_is_refused(client: Client, payload: str, status: int, code: str) -> None:
    assert error_of(post_json(client, SCAN, payload), status)["code"] == code


def test_validation_message_names_the_field(client: Client) -> None:
    detail = error_of(post_json(client, SCAN, {"path": 42}), 422)
    assert detail["message"].startswith("body.path:")


def test_scan_body_sent_as_a_form_is_refused_as_unreadable_json(client: Client) -> None:
    response = client.post(SCAN, {"path": "/tmp"})
    detail = error_of(response, 400)
    assert detail["code"] == "BAD_REQUEST"
    assert detail["message"] == (
        "Send the body as JSON with Content-Type: application/json "
        "(this one's type: multipart/form-data)."
    )


def test_a_json_body_that_does_not_parse_says_so(client: Client) -> None:
    detail = error_of(post_json(client, SCAN, "{not json"), 400)
    assert detail["message"] == "The body is not valid JSON: send one JSON object, as UTF-8 text."


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/videos?page=2",
        "/api/v1/videos/search?q=a&query=b",
        "/api/v1/jobs?state=running",
        "/api/v1/videos/1?verbose=1",
        "/api/v1/videos/1/thumbnail?size=big",
    ],
)
def test_unknown_query_parameter_is_400_naming_it(client: Client, url: str) -> None:
    detail = error_of(client.get(url), 400)
    assert detail["code"] == "UNKNOWN_PARAMETER"
    assert repr(url.split("?")[1].split("&")[-1].split("=")[0]) in detail["message"]


def test_unknown_parameter_on_a_write_is_refused_before_anything_happens(client: Client) -> None:
    job = Job.objects.get()
    video = Video.objects.get()
    assert error_of(client.post(f"/api/v1/jobs/{job.pk}/cancel?force=1"), 400)
    assert error_of(client.delete(f"/api/v1/videos/{video.pk}?delete_files=true"), 400)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/",
        "/api/v1/nothing",
        "/api/v1/videos/",
        "/api/v1/videos/1/frames",
        "/api/v1/jobs/1/restart",
        "/api/v1/%ff%fe",
        "/api/v1/" + "a" * 5000,
    ],
)
def test_unknown_route_is_404_not_found(client: Client, url: str) -> None:
    assert error_of(client.get(url), 404)["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("put", "/api/v1/videos/1"),
        ("patch", "/api/v1/videos/1"),
        ("post", "/api/v1/videos"),
        ("delete", "/api/v1/jobs/1"),
        ("get", SCAN),
        ("delete", "/api/v1/jobs/1/cancel"),
        ("post", "/api/v1/openapi.json"),
    ],
)
def test_wrong_method_is_405_with_the_allowed_ones(client: Client, method: str, url: str) -> None:
    response = getattr(client, method)(url)
    detail = error_of(response, 405)
    assert detail["code"] == "METHOD_NOT_ALLOWED"
    assert response["Allow"]


@pytest.mark.parametrize(
    ("url", "status", "code"),
    [
        # A query parameter that is no valid value: 422, as every validation failure.
        ("/api/v1/videos?limit=99999999999999999999999999", 422, "VALIDATION_ERROR"),
        ("/api/v1/videos?offset=-99999999999999999999", 422, "VALIDATION_ERROR"),
        ("/api/v1/videos?limit=1e2", 422, "VALIDATION_ERROR"),
        ("/api/v1/videos?limit=%00", 422, "VALIDATION_ERROR"),
        # An id in the path is a name: one that names nothing is 404, whatever its form.
        ("/api/v1/videos/18446744073709551616", 404, "NOT_FOUND"),
        ("/api/v1/jobs/99999999999999999999999", 404, "NOT_FOUND"),
        ("/api/v1/jobs/%ff", 404, "NOT_FOUND"),
    ],
)
def test_huge_negative_and_odd_values_get_their_one_status(
    client: Client, url: str, status: int, code: str
) -> None:
    assert error_of(client.get(url), status)["code"] == code


def test_request_body_too_large_is_400(client: Client) -> None:
    huge = '{"path": "/' + "a" * 3_000_000 + '"}'
    detail = error_of(post_json(client, SCAN, huge), 400)
    assert detail["code"] == "BAD_REQUEST"
    assert "exceeded" in detail["message"]


def test_search_text_that_is_not_utf8_is_read_with_replacement_characters(
    client: Client,
) -> None:
    response = client.get("/api/v1/videos/search?q=%ff%fe")
    assert response.status_code == 200
    assert response.json()["query"] == "\ufffd\ufffd"


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/api/v1/jobs/999/cancel", 404),
        (SCAN, 422),
        ("/api/v1/nowhere", 404),
        ("/api/v1/openapi.json", 405),
    ],
)
def test_api_posts_with_a_token_need_no_csrf_token_and_still_answer_json(
    token_client: Client, url: str, status: int
) -> None:
    response = token_client.post(url, "{}", content_type="application/json")
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")


def test_an_unexpected_failure_is_a_logged_500_in_the_same_shape(
    rf: RequestFactory, caplog: pytest.LogCaptureFixture
) -> None:
    request = rf.get("/api/v1/videos")
    response = api.on_exception(request, RuntimeError("disk on fire"))
    assert error_of(response, 500) == {
        "code": "INTERNAL_ERROR",
        "message": "stoat could not answer this request.",
    }
    assert "disk on fire" in caplog.text


SORTS = "name, -name, added, -added, duration, -duration, size, -size"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/api/v1/jobs?status=bogus", "status must be one of: " + ", ".join(Status.values)),
        ("/api/v1/videos?sort=bogus", f"sort must be one of: {SORTS}"),
        ("/api/v1/videos/search?q=a&sort=up", f"sort must be one of: {SORTS}"),
        ("/api/v1/videos/export?format=xml", "format must be one of: csv, json"),
        (
            "/api/v1/videos/export?format=xml&sort=up",
            f"format must be one of: csv, json; sort must be one of: {SORTS}",
        ),
    ],
)
def test_a_value_outside_the_choices_is_named_with_the_valid_ones(
    client: Client, url: str, expected: str
) -> None:
    message = error_of(client.get(url), 422)["message"]

    assert message == expected
    assert "str-enum" not in message and "literal[" not in message


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/api/v1/videos?limit=0", "limit must be 1 or more"),
        ("/api/v1/jobs?limit=-5", "limit must be 1 or more"),
        ("/api/v1/videos?offset=-1", "offset must be 0 or more"),
        ("/api/v1/duplicates?limit=100000", "limit must be {max} or less"),
    ],
)
def test_a_number_out_of_bounds_is_told_in_plain_words(
    client: Client, url: str, message: str
) -> None:
    detail = error_of(client.get(url), 422)
    assert detail["message"] == message.format(max=MAX_LIMIT)
