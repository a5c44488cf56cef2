"""Who may see and do what: pages need a user, scanning and cancelling need staff or a right."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test import Client
from django.urls import reverse

from stoat.library.models import Video, display_path, path_key
from stoat.scans.models import Job, Status
from tests.conftest import make_job, make_user, signed_in

pytestmark = pytest.mark.django_db


def make_video(path: str = "/srv/videos/a.mp4") -> Video:
    return Video.objects.create(
        path=path,
        path_key=path_key(path),
        folder=display_path(str(Path(path).parent)),
        filename=Path(path).name,
        size=1,
        mtime_ns=1,
        width=160,
        height=120,
        video_codec="h264",
    )


def page_urls() -> list[str]:
    video = make_video()
    job = make_job()
    return [
        reverse("library:index"),
        reverse("library:video", args=[video.pk]),
        reverse("library:thumbnail", args=[video.pk]),
        reverse("scans:jobs"),
        reverse("scans:job", args=[job.pk]),
        "/admin/",
        "/admin/accounts/apitoken/",
    ]


def test_anonymous_visitors_are_sent_to_the_login_page_from_every_page(anon_client: Client) -> None:
    for url in page_urls():
        response = anon_client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == f"{reverse('accounts:login')}?next={url}", url


def test_anonymous_posts_are_sent_to_login_and_change_nothing(
    anon_client: Client, library_dir: Path
) -> None:
    job = make_job()
    for url in (reverse("scans:start"), reverse("scans:cancel", args=[job.pk])):
        response = anon_client.post(url, {"path": str(library_dir)})
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))
    assert list(Job.objects.values_list("status", flat=True)) == [Status.PENDING]


def test_an_htmx_poll_after_the_session_ended_loads_the_login_page(anon_client: Client) -> None:
    job = make_job()
    response = anon_client.get(reverse("scans:job", args=[job.pk]), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("accounts:login")
    assert response.content == b""


def test_the_login_page_static_files_and_the_real_health_check_are_open(
    anon_client: Client,
) -> None:
    assert anon_client.get(reverse("accounts:login")).status_code == 200
    css = anon_client.get("/static/stoat/stoat.css")
    assert (css.status_code, css["Content-Type"].split(";")[0]) == (200, "text/css")
    health = anon_client.get("/healthz")
    # The database and the broker answer; no worker runs in this test.
    assert health.status_code == 200
    assert health.json() == {
        "status": "degraded",
        "database": "ok",
        "broker": "ok",
        "worker": "failing",
    }


def test_the_admin_signs_in_through_stoats_login_page(anon_client: Client) -> None:
    response = anon_client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next=/admin/"


def test_a_read_only_user_sees_library_jobs_and_thumbnails(reader_client: Client) -> None:
    for url in page_urls()[:5]:
        assert reader_client.get(url).status_code == 200, url


def test_a_read_only_user_sees_no_scan_form_and_no_cancel_button(
    reader_client: Client, client: Client
) -> None:
    job = make_job(status=Status.RUNNING)
    pages = [reverse("library:index"), reverse("scans:jobs"), reverse("scans:job", args=[job.pk])]
    for url in pages:
        html = reader_client.get(url).content.decode()
        assert reverse("scans:start") not in html, url
        assert reverse("scans:cancel", args=[job.pk]) not in html, url
        assert "(view only)" in html
    # The same pages do show them to staff, so the checks above can fail.
    assert reverse("scans:start") in client.get(reverse("scans:jobs")).content.decode()
    job_html = client.get(reverse("scans:job", args=[job.pk])).content.decode()
    assert reverse("scans:cancel", args=[job.pk]) in job_html


def test_a_read_only_user_may_not_start_a_scan(reader_client: Client, library_dir: Path) -> None:
    response = reader_client.post(reverse("scans:start"), {"path": str(library_dir)})
    assert response.status_code == 403
    assert b"Only staff" in response.content
    assert not Job.objects.exists()


def test_a_read_only_user_may_not_cancel_a_scan(reader_client: Client) -> None:
    job = make_job(status=Status.RUNNING)
    response = reader_client.post(reverse("scans:cancel", args=[job.pk]))
    assert response.status_code == 403
    job.refresh_from_db()
    assert job.status == Status.RUNNING
    assert job.cancel_requested_at is None


def test_a_read_only_user_may_not_open_the_admin(reader_client: Client) -> None:
    response = reader_client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_manage_scans_permission_lets_a_non_staff_user_scan_and_cancel(
    library_dir: Path,
) -> None:
    user = make_user("scanner")
    user.user_permissions.add(Permission.objects.get(codename="manage_scans"))
    browser = Client()
    browser.force_login(user)

    response = browser.post(reverse("scans:start"), {"path": str(library_dir)})
    job = Job.objects.get()
    assert response.status_code == 302
    assert browser.post(reverse("scans:cancel", args=[job.pk])).status_code == 200
    job.refresh_from_db()
    assert job.status == Status.CANCELLED


def test_staff_may_start_a_scan(client: Client, library_dir: Path) -> None:
    response = client.post(reverse("scans:start"), {"path": str(library_dir)})
    assert response.status_code == 302
    assert Job.objects.get().path == str(library_dir)


def test_an_inactive_users_session_no_longer_opens_pages(reader: User) -> None:
    browser = Client()
    browser.force_login(reader)
    reader.is_active = False
    reader.save()
    response = browser.get(reverse("library:index"))
    assert response.status_code == 302


@pytest.mark.django_db(transaction=True)
def test_clients_signed_in_from_several_threads_share_one_staff_user() -> None:
    def browse(codes: list[int]) -> None:
        try:
            codes.append(signed_in().get(reverse("scans:jobs")).status_code)
        finally:
            connection.close()

    codes: list[int] = []
    threads = [threading.Thread(target=browse, args=(codes,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert codes == [200, 200, 200, 200]
    assert User.objects.get().is_staff
