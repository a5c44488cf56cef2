"""Every state-changing form needs the CSRF token, which pages carry for forms and for htmx."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from stoat.scans.models import Job, Status
from tests.conftest import make_job, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def strict_client(staff_user: User) -> Client:
    return signed_in(staff_user, enforce_csrf_checks=True)


def page_token(browser: Client, url: str) -> str:
    html = browser.get(url).content.decode()
    match = re.search(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'', html)
    assert match is not None
    return match.group(1)


def test_a_scan_posted_without_the_csrf_token_is_refused(
    strict_client: Client, library_dir: Path
) -> None:
    response = strict_client.post(reverse("scans:start"), {"path": str(library_dir)})
    assert response.status_code == 403
    assert not Job.objects.exists()


def test_a_cancel_posted_without_the_csrf_token_is_refused(strict_client: Client) -> None:
    job = make_job(status=Status.RUNNING)
    response = strict_client.post(reverse("scans:cancel", args=[job.pk]))
    assert response.status_code == 403
    job.refresh_from_db()
    assert job.cancel_requested_at is None


def test_an_htmx_post_with_the_header_from_the_page_is_accepted(strict_client: Client) -> None:
    job = make_job(status=Status.RUNNING)
    token = page_token(strict_client, reverse("scans:job", args=[job.pk]))
    response = strict_client.post(
        reverse("scans:cancel", args=[job.pk]),
        headers={"HX-Request": "true", "X-CSRFToken": token},
    )
    assert response.status_code == 200
    job.refresh_from_db()
    assert job.cancel_requested_at is not None


def test_signing_in_needs_the_csrf_token() -> None:
    User.objects.create_user("ann", password="ann-password-1")
    browser = Client(enforce_csrf_checks=True)
    response = browser.post(
        reverse("accounts:login"), {"username": "ann", "password": "ann-password-1"}
    )
    assert response.status_code == 403
    assert "_auth_user_id" not in browser.session


def test_signing_out_needs_a_post_with_the_csrf_token(strict_client: Client) -> None:
    assert strict_client.get(reverse("accounts:logout")).status_code == 405
    assert strict_client.post(reverse("accounts:logout")).status_code == 403
    assert strict_client.get(reverse("library:index")).status_code == 200
