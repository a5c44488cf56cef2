"""The scan form: an address that always opens, errors shown where the form was sent from,
folders that are no place for videos refused, and a whole system scanned only when confirmed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from stoat.scans.models import Job

pytestmark = pytest.mark.django_db

START = "/jobs/new"


def h1(html: str) -> str:
    found = re.search(r"<h1>(.*?)</h1>", html)
    assert found is not None
    return found.group(1)


def test_opening_the_scan_address_shows_the_scan_form(client: Client) -> None:
    response = client.get(START, {"path": "/srv/videos"})

    html = response.content.decode()
    assert response.status_code == 200
    assert h1(html) == "Scan a folder"
    assert 'name="path" value="/srv/videos"' in html
    assert '<input type="hidden" name="from" value="new">' in html


def test_a_user_who_may_only_look_cannot_open_the_scan_form(reader_client: Client) -> None:
    assert reader_client.get(START).status_code == 403


@pytest.mark.parametrize(
    ("origin", "heading"),
    [("library", "Library"), ("jobs", "Scans"), ("new", "Scan a folder"), ("elsewhere", "Scans")],
)
def test_a_form_error_is_shown_on_the_page_the_form_came_from(
    client: Client, origin: str, heading: str
) -> None:
    response = client.post(START, {"path": "/no/such/folder", "from": origin})

    html = response.content.decode()
    assert response.status_code == 400
    assert h1(html) == heading
    assert "/no/such/folder is not a folder" in html
    assert Job.objects.count() == 0


def test_the_librarys_scan_panel_opens_to_show_its_error(client: Client) -> None:
    html = client.post(START, {"path": "relative", "from": "library"}).content.decode()

    assert '<details class="scan-box" open>' in html
    assert "Give an absolute path" in html


def test_the_form_does_not_cut_a_long_path_short_in_the_browser(client: Client) -> None:
    html = client.get(START).content.decode()
    field = re.search(r"<input[^>]*name=\"path\"[^>]*>", html)
    assert field is not None
    assert "maxlength" not in field.group(0)


def test_a_path_too_long_for_the_system_says_so_and_is_not_echoed_whole(client: Client) -> None:
    path = "/" + "a" * 4300

    response = client.post(START, {"path": path, "from": "jobs"})

    html = response.content.decode()
    assert response.status_code == 400
    assert "The path is too long: 4,301 bytes, and this system&#x27;s limit is 4,095." in html
    assert "not a folder" not in html
    # Only the field itself holds the whole path; no message repeats it.
    assert re.findall("a{200,}", html) == ["a" * 4300]


@pytest.mark.parametrize("folder", ["/proc", "/sys", "/dev"])
def test_the_kernels_file_systems_are_refused_with_the_reason(
    client: Client, settings: object, folder: str
) -> None:
    settings.STOAT_SCAN_ROOTS = []  # type: ignore[attr-defined]

    response = client.post(START, {"path": folder})

    assert response.status_code == 400
    assert "holds no videos: stoat does not scan it" in response.content.decode()
    assert Job.objects.count() == 0


def test_scanning_a_whole_system_asks_first_and_starts_once_confirmed(
    client: Client, settings: object, tmp_path: Path
) -> None:
    settings.STOAT_SCAN_ROOTS = []  # type: ignore[attr-defined]
    system = tmp_path / "old-laptop"
    for name in ("etc", "usr", "bin"):
        (system / name).mkdir(parents=True)

    asked = client.post(START, {"path": str(system), "recursive": "on", "from": "library"})

    html = asked.content.decode()
    assert asked.status_code == 200
    assert "is a whole system&#x27;s root file system" in html
    assert 'name="confirm"' in html and "Yes, scan all of it" in html
    assert Job.objects.count() == 0

    confirmed = client.post(START, {"path": str(system), "recursive": "on", "confirm": "on"})

    job = Job.objects.get()
    assert confirmed.status_code == 302
    assert confirmed["Location"] == reverse("scans:job", args=[job.pk])
    assert job.path == str(system)


def test_slash_itself_asks_for_confirmation(client: Client, settings: object) -> None:
    settings.STOAT_SCAN_ROOTS = []  # type: ignore[attr-defined]

    response = client.post(START, {"path": "/"})

    assert response.status_code == 200
    assert "/ is a whole system&#x27;s root file system" in response.content.decode()
    assert Job.objects.count() == 0
