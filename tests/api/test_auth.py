"""Who may call the API: a session or a Bearer token to read, the manage right to change."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.test import Client, RequestFactory

from stoat.accounts.tokens import create_token
from stoat.api.auth import SessionOrToken
from stoat.api.errors import ApiError
from stoat.library.models import Video
from stoat.scans.models import Job, Status
from tests.api.conftest import error_of, make_video, post_json
from tests.conftest import make_job

pytestmark = pytest.mark.django_db

SCAN = "/api/v1/videos/scan"


def every_endpoint() -> list[tuple[str, str]]:
    video = make_video()
    job = make_job()
    return [
        ("get", "/api/v1/videos"),
        ("get", "/api/v1/videos/search?q=a"),
        ("get", f"/api/v1/videos/{video.pk}"),
        ("get", f"/api/v1/videos/{video.pk}/thumbnail"),
        ("delete", f"/api/v1/videos/{video.pk}"),
        ("post", SCAN),
        ("get", "/api/v1/jobs"),
        ("get", f"/api/v1/jobs/{job.pk}"),
        ("post", f"/api/v1/jobs/{job.pk}/cancel"),
        ("get", "/api/v1/openapi.json"),
        ("get", "/api/v1/docs"),
        ("get", "/api/v1/nowhere"),
    ]


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def reader_token(reader: User) -> str:
    return create_token(reader)[1]


def test_anonymous_calls_get_401_in_the_error_shape_and_change_nothing(
    anon_client: Client,
) -> None:
    for method, url in every_endpoint():
        response = getattr(anon_client, method)(url)
        detail = error_of(response, 401)
        assert detail["code"] == "NOT_AUTHENTICATED", url
        assert response["WWW-Authenticate"] == 'Bearer realm="stoat"'
    assert Video.objects.count() == 1
    assert list(Job.objects.values_list("status", flat=True)) == [Status.PENDING]


def test_a_wrong_or_revoked_token_gets_401(anon_client: Client, reader: User) -> None:
    token, raw = create_token(reader)
    assert anon_client.get("/api/v1/videos", headers=bearer(raw)).status_code == 200
    token.delete()
    # Every token presented and not valid is refused as such, never treated as no token.
    for presented in (raw, raw[:-1], "stoat_guess", "x" * 300, ""):
        answer = anon_client.get("/api/v1/videos", headers=bearer(presented))
        assert error_of(answer, 401) == {
            "code": "INVALID_TOKEN",
            "message": "The API token is unknown or revoked.",
        }, presented


def test_a_wrong_token_is_not_rescued_by_a_session(client: Client) -> None:
    response = client.get("/api/v1/videos", headers=bearer("stoat_wrong"))
    assert error_of(response, 401)["code"] == "INVALID_TOKEN"


def test_the_token_of_a_deactivated_user_gets_401(anon_client: Client, reader: User) -> None:
    _, raw = create_token(reader)
    reader.is_active = False
    reader.save()
    assert error_of(anon_client.get("/api/v1/jobs", headers=bearer(raw)), 401)["code"] == (
        "INVALID_TOKEN"
    )


def test_a_read_only_token_reads_everything(anon_client: Client, reader_token: str) -> None:
    for method, url in every_endpoint():
        if method == "get" and "nowhere" not in url:
            response = anon_client.get(url, headers=bearer(reader_token))
            assert response.status_code == 200, url


def test_a_read_only_token_may_not_scan_cancel_or_delete(
    anon_client: Client, reader_token: str, library_dir: Path
) -> None:
    video = make_video()
    job = make_job(status=Status.RUNNING)
    headers = bearer(reader_token)
    answers = [
        anon_client.post(
            SCAN, {"path": str(library_dir)}, content_type="application/json", headers=headers
        ),
        anon_client.post(f"/api/v1/jobs/{job.pk}/cancel", headers=headers),
        anon_client.delete(f"/api/v1/videos/{video.pk}", headers=headers),
    ]
    for response in answers:
        detail = error_of(response, 403)
        assert detail["code"] == "FORBIDDEN"
        assert "reader may only read" in detail["message"]
    assert not Job.objects.exclude(pk=job.pk).exists()
    job.refresh_from_db()
    assert job.cancel_requested_at is None
    assert Video.objects.filter(pk=video.pk).exists()


def test_a_read_only_session_may_not_scan_cancel_or_delete(
    reader_client: Client, library_dir: Path
) -> None:
    video = make_video()
    job = make_job(status=Status.RUNNING)
    assert error_of(post_json(reader_client, SCAN, {"path": str(library_dir)}), 403)
    assert error_of(reader_client.post(f"/api/v1/jobs/{job.pk}/cancel"), 403)
    assert error_of(reader_client.delete(f"/api/v1/videos/{video.pk}"), 403)
    assert Video.objects.filter(pk=video.pk).exists()
    assert not Job.objects.exclude(pk=job.pk).exists()


def test_a_staff_token_scans_with_no_csrf_token(token_client: Client, library_dir: Path) -> None:
    response = post_json(token_client, SCAN, {"path": str(library_dir)})
    assert response.status_code == 202
    assert Job.objects.get().path == str(library_dir)


def test_a_session_write_without_the_csrf_header_is_403(
    staff_user: User, library_dir: Path
) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff_user)
    job = make_job(status=Status.RUNNING)

    refused = browser.post(f"/api/v1/jobs/{job.pk}/cancel")
    assert error_of(refused, 403)["code"] == "CSRF_FAILED"
    job.refresh_from_db()
    assert job.cancel_requested_at is None

    page = browser.get(f"/jobs/{job.pk}/").content.decode()
    match = re.search(r'"X-CSRFToken": "([^"]+)"', page)
    assert match is not None
    accepted = browser.post(
        f"/api/v1/jobs/{job.pk}/cancel", headers={"X-CSRFToken": match.group(1)}
    )
    assert accepted.status_code == 200
    # Reading needs no CSRF token.
    assert browser.get("/api/v1/jobs").status_code == 200


def test_a_scan_path_escaping_the_roots_is_403_and_nothing_is_indexed(
    token_client: Client, tmp_path: Path, settings: object, clips: Callable[..., list[Path]]
) -> None:
    clips(1)  # a clip outside the root, in tests' library folder
    root = tmp_path / "root"
    root.mkdir()
    (root / "link-out").symlink_to(tmp_path / "videos")
    settings.STOAT_SCAN_ROOTS = [str(root)]  # type: ignore[attr-defined]
    for path in (f"{root}/../videos", f"{root}/link-out", f"{root}/link-out/../../videos"):
        detail = error_of(post_json(token_client, SCAN, {"path": path}), 403)
        assert detail["code"] == "PATH_NOT_ALLOWED", path
    assert not Job.objects.exists()
    assert not Video.objects.exists()


def test_delete_with_file_outside_the_roots_is_refused_however_the_path_is_written(
    token_client: Client, tmp_path: Path, settings: object, clips: Callable[..., list[Path]]
) -> None:
    (clip,) = clips(1)
    root = tmp_path / "root"
    root.mkdir()
    (root / "link-out").symlink_to(clip.parent)
    settings.STOAT_SCAN_ROOTS = [str(root)]  # type: ignore[attr-defined]
    for path in (f"{root}/../videos/{clip.name}", f"{root}/link-out/{clip.name}"):
        video = make_video(path)
        detail = error_of(token_client.delete(f"/api/v1/videos/{video.pk}?delete_file=true"), 403)
        assert detail["code"] == "PATH_NOT_ALLOWED"
        assert Video.objects.filter(pk=video.pk).exists()
    assert clip.exists()


def test_delete_with_file_is_refused_when_no_roots_are_set(
    token_client: Client, clips: Callable[..., list[Path]]
) -> None:
    (clip,) = clips(1)
    video = make_video(str(clip))
    detail = error_of(token_client.delete(f"/api/v1/videos/{video.pk}?delete_file=true"), 403)
    assert detail["code"] == "PATH_NOT_ALLOWED"
    assert clip.exists()


def test_the_api_itself_refuses_a_stranger_even_without_the_middleware(rf: RequestFactory) -> None:
    request = rf.get("/api/v1/videos")
    request.user = AnonymousUser()
    with pytest.raises(ApiError) as refused:
        SessionOrToken()(request)
    assert (refused.value.status, refused.value.code) == (401, "NOT_AUTHENTICATED")
