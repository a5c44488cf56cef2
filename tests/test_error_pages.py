"""stoat's own pages for 400, 403, 404, 405 and 500, each with a way back, and its icon."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from django.views.defaults import server_error

from tests.conftest import make_job, signed_in

pytestmark = pytest.mark.django_db

WAYS_BACK = ('href="/">Go to the library</a>', 'href="/jobs/">See the scans</a>')


def assert_is_stoats_page(html: str, heading: str) -> None:
    assert "<title>" in html and "· stoat</title>" in html
    assert f"<h1>{heading}</h1>" in html
    for link in WAYS_BACK:
        assert link in html
    assert "/static/stoat/stoat.css" in html


def test_an_unknown_address_is_stoats_404_page(client: Client) -> None:
    response = client.get("/videos/987654/")

    assert response.status_code == 404
    html = response.content.decode()
    assert_is_stoats_page(html, "There is nothing here")
    assert "<code>/videos/987654/</code>" in html


def test_opening_a_form_only_address_is_stoats_405_page(client: Client) -> None:
    job = make_job()

    response = client.get(f"/jobs/{job.pk}/cancel")

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    html = response.content.decode()
    assert_is_stoats_page(html, "This address is not a page to open")
    assert "only takes a form sent with POST" in html


def test_the_apis_405_keeps_its_json_shape(client: Client) -> None:
    response = client.get("/api/v1/jobs/1/cancel")

    assert response.status_code == 405
    assert response.json()["detail"]["code"] == "METHOD_NOT_ALLOWED"


def test_a_read_only_user_gets_stoats_403_page_saying_why(reader_client: Client) -> None:
    job = make_job()

    response = reader_client.post(f"/jobs/{job.pk}/cancel")

    assert response.status_code == 403
    html = response.content.decode()
    assert_is_stoats_page(html, "Not allowed")
    assert "manage scans" in html


def test_an_expired_form_is_explained(staff_user: object) -> None:
    browser = signed_in(enforce_csrf_checks=True)

    response = browser.post("/jobs/new", {"path": "/srv"})

    assert response.status_code == 403
    assert_is_stoats_page(response.content.decode(), "That form had expired")


def test_a_request_for_an_unknown_host_is_stoats_400_page() -> None:
    response = Client(HTTP_HOST="not-this-site.example").get("/accounts/login/")

    assert response.status_code == 400
    assert_is_stoats_page(response.content.decode(), "stoat could not make sense of that request")


def test_a_server_error_is_stoats_500_page() -> None:
    response = server_error(RequestFactory().get("/"))

    assert response.status_code == 500
    assert_is_stoats_page(response.content.decode(), "Something went wrong inside stoat")


def test_the_icon_is_named_by_every_page_and_found_at_favicon_ico(anon_client: Client) -> None:
    login = anon_client.get("/accounts/login/").content.decode()
    assert '<link rel="icon" href="/static/stoat/favicon.svg" type="image/svg+xml">' in login

    response = anon_client.get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"] == "/static/stoat/favicon.svg"
