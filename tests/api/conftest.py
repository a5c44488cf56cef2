from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.conf import LazySettings
from django.contrib.auth.models import User
from django.http import HttpResponse
from django.test import Client

from stoat.accounts.tokens import create_token
from stoat.library.models import Video, path_key
from stoat.library.thumbnails import thumbnail_name
from stoat.scans import lifecycle
from stoat.scans.models import Job, ScanError
from stoat.scans.runner import run_here
from tests.media import make_clip

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Answer

ERROR_KEYS = {"code", "message"}


@pytest.fixture
def clip(library_dir: Path) -> Video:
    """A real two-second WebM with sound, scanned into the library."""
    make_clip(library_dir / "walk.webm", seconds=2, audio=True)
    run_here(lifecycle.create_scan(str(library_dir)).job)
    return Video.objects.get()


@pytest.fixture
def api(client: Client) -> Client:
    """The shared test client: a staff user's browser session (tests/conftest.py)."""
    return client


@pytest.fixture
def staff_token(staff_user: User) -> str:
    """An API token of the staff user, as a script would send it."""
    return create_token(staff_user, "tests")[1]


@pytest.fixture
def token_client(staff_token: str) -> Client:
    """A client with no session and CSRF checks on, calling the API with a Bearer token."""
    return Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {staff_token}"})


@pytest.fixture
def scan_root(settings: LazySettings, library_dir: Path) -> Path:
    """The library folder is the one folder stoat may scan (and delete in)."""
    settings.STOAT_SCAN_ROOTS = [str(library_dir)]
    return library_dir


def body(response: Answer | HttpResponse) -> Any:
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    return json.loads(response.content)


def error_of(response: Answer | HttpResponse, status: int) -> dict[str, str]:
    """The `detail` of an error answer, after checking its status and its shape."""
    assert response.status_code == status, response.content[:300]
    data = body(response)
    assert set(data) == {"detail"}
    assert set(data["detail"]) == ERROR_KEYS
    assert data["detail"]["message"]
    detail: dict[str, str] = data["detail"]
    return detail


def post_json(api: Client, url: str, data: object) -> Answer:
    payload = data if isinstance(data, (bytes, str)) else json.dumps(data)
    return api.post(url, payload, content_type="application/json")


def make_video(path: str = "/srv/videos/clip.mp4", **fields: Any) -> Video:
    """A library row as a scan writes it (the file need not exist)."""
    folder, _, filename = path.rpartition("/")
    values: dict[str, Any] = {
        "path": path,
        "path_key": path_key(path),
        "folder": folder,
        "filename": filename,
        "size": 1000,
        "mtime_ns": 1,
        "container": "mov,mp4,m4a,3gp,3g2,mj2",
        "duration": 2.0,
        "duration_frames": 50,
        "frame_rate_num": 25,
        "frame_rate_den": 1,
        "width": 160,
        "height": 120,
        "video_codec": "h264",
        "audio_codec": None,
    }
    values.update(fields)
    return Video.objects.create(**values)


def give_thumbnail(video: Video, thumbs: Path, data: bytes = b"\xff\xd8 a jpeg") -> Path:
    video.thumbnail = thumbnail_name(video.path_key)
    video.save(update_fields=["thumbnail"])
    dest = thumbs / video.thumbnail
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(data)
    return dest


def add_scan_error(job: Job, path: str, message: str) -> ScanError:
    return ScanError.objects.create(job=job, path=path, message=message)
