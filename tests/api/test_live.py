"""The API through a real HTTP server (pytest-django's live server), from scan to delete."""

from __future__ import annotations

import functools
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import LazySettings
from pytest_django.live_server_helper import LiveServer

pytestmark = pytest.mark.django_db(transaction=True)


def call(
    url: str, method: str = "GET", payload: object = None, token: str = ""
) -> tuple[int, str, bytes]:
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers["Content-Type"] or "", response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"] or "", error.read()


def call_json(
    url: str, method: str = "GET", payload: object = None, token: str = ""
) -> tuple[int, Any]:
    status, content_type, content = call(url, method, payload, token)
    assert content_type.startswith("application/json"), (status, content[:200])
    return status, json.loads(content)


def test_a_client_scans_follows_the_job_reads_the_library_and_deletes_over_http(
    live_server: LiveServer,
    settings: LazySettings,
    clips: Callable[..., list[Path]],
    library_dir: Path,
    sync_tasks: None,
    staff_token: str,
) -> None:
    settings.STOAT_SCAN_ROOTS = [str(library_dir)]
    clips(2)
    api = f"{live_server.url}/api/v1"
    status, error = call_json(f"{api}/videos/scan", "POST", {"path": str(library_dir)})
    assert (status, error["detail"]["code"]) == (401, "NOT_AUTHENTICATED")
    # A script on another machine holds a staff user's API token.
    as_staff = functools.partial(call, token=staff_token)
    as_staff_json = functools.partial(call_json, token=staff_token)

    status, started = as_staff_json(f"{api}/videos/scan", "POST", {"path": str(library_dir)})
    assert status == 202 and started["created"] is True
    deadline = time.monotonic() + 30
    while True:
        status, job = as_staff_json(f"{api}/jobs/{started['job_id']}")
        if job["status"] not in ("pending", "running") or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert (status, job["status"], job["progress"]) == (200, "complete", 1.0)
    assert job["result"]["new"] == 2

    status, listing = as_staff_json(f"{api}/videos?limit=1")
    assert (status, listing["total"], len(listing["videos"])) == (200, 2, 1)
    first = listing["videos"][0]
    status, content_type, jpeg = as_staff(f"{live_server.url}{first['thumbnail_url']}")
    assert (status, content_type) == (200, "image/jpeg")
    assert jpeg.startswith(b"\xff\xd8")

    status, _, nothing = as_staff(f"{api}/videos/{first['id']}?delete_file=true", "DELETE")
    assert (status, nothing) == (204, b"")
    assert not Path(first["path"]).exists()
    status, error = as_staff_json(f"{api}/videos/{first['id']}")
    assert (status, error["detail"]["code"]) == (404, "NOT_FOUND")
    status, error = as_staff_json(f"{api}/jobs/{started['job_id']}/cancel", "POST")
    assert (status, error["detail"]["code"]) == (409, "ALREADY_TERMINAL")
