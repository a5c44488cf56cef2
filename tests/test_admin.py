from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from stoat.scans import batches
from stoat.scans.models import Job, ScanError, Status
from tests.conftest import make_job
from tests.test_views import make_video

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client: Client) -> Client:
    user = User.objects.create_superuser("admin", "admin@example.com", "pw-for-tests-only")
    client.force_login(user)
    return client


def test_job_changelist_and_change_view_load(admin_client: Client) -> None:
    job = make_job(status=Status.RUNNING, path="/srv/movies", found=3)
    ScanError.objects.create(job=job, path="/srv/movies/bad.mp4", message="broken")
    batches.plan(
        job.pk, [[("/srv/movies/a.mp4", 1, 1, False)] * 2, [("/srv/movies/b.mp4", 1, 1, False)]]
    )
    batches.claim(job.pk, 1, "host-b:4242")

    listing = admin_client.get(reverse("admin:scans_job_changelist"), {"status__exact": "running"})
    searched = admin_client.get(reverse("admin:scans_job_changelist"), {"q": "movies"})
    change = admin_client.get(reverse("admin:scans_job_change", args=[job.pk]))

    assert listing.status_code == searched.status_code == change.status_code == 200
    assert "/srv/movies" in listing.content.decode()
    assert "/srv/movies/bad.mp4" in change.content.decode()
    assert "host-b:4242" in change.content.decode()
    # Progress fields are shown, never editable.
    assert 'name="processed"' not in change.content.decode()


def test_job_admin_cannot_add_jobs(admin_client: Client) -> None:
    assert admin_client.get(reverse("admin:scans_job_add")).status_code == 403


def test_cancel_action_cancels_active_jobs_and_leaves_finished_ones(admin_client: Client) -> None:
    pending = make_job()
    running = make_job(status=Status.RUNNING)
    done = make_job(status=Status.COMPLETE)

    response = admin_client.post(
        reverse("admin:scans_job_changelist"),
        {"action": "cancel_jobs", "_selected_action": [pending.pk, running.pk, done.pk]},
        follow=True,
    )

    assert "Cancel requested for 2 job(s); 1 had already ended." in response.content.decode()
    assert Job.objects.get(pk=pending.pk).status == Status.CANCELLED
    assert Job.objects.get(pk=running.pk).cancel_requested_at is not None
    assert Job.objects.get(pk=done.pk).status == Status.COMPLETE


def test_video_and_error_admin_pages_load(admin_client: Client) -> None:
    video = make_video("film.mp4")
    error = ScanError.objects.create(job=make_job(), path="/x.mp4", message="bad")

    for url in (
        reverse("admin:library_video_changelist"),
        reverse("admin:library_video_changelist") + "?q=film&missing__exact=0",
        reverse("admin:library_video_change", args=[video.pk]),
        reverse("admin:scans_scanerror_changelist"),
        reverse("admin:scans_scanerror_change", args=[error.pk]),
    ):
        assert admin_client.get(url).status_code == 200, url


def test_every_admin_page_names_stoat_not_the_framework(admin_client: Client) -> None:
    page = admin_client.get(reverse("admin:index")).content.decode()

    assert '<a href="/admin/">stoat</a>' in page
    assert "Django administration" not in page
    assert "<title>Administration | stoat admin</title>" in page


def test_a_jobs_batches_are_headed_scan_batches(admin_client: Client) -> None:
    job = make_job(status=Status.RUNNING)
    batches.plan(job.pk, [[("/srv/a.mp4", 1, 1, False)], [("/srv/b.mp4", 1, 1, False)]])

    page = admin_client.get(reverse("admin:scans_job_change", args=[job.pk])).content.decode()

    assert "Scan batches" in page
    assert "batchs" not in page.lower()


def test_rows_a_scan_writes_are_shown_with_no_save_and_no_add(admin_client: Client) -> None:
    job = make_job(status=Status.COMPLETE)
    error = ScanError.objects.create(job=job, path="/x.mp4", message="bad")
    video = make_video("film.mp4")

    for name, pk in (
        ("scans_job", job.pk),
        ("scans_scanerror", error.pk),
        ("library_video", video.pk),
    ):
        listing = admin_client.get(reverse(f"admin:{name}_changelist")).content.decode()
        change = admin_client.get(reverse(f"admin:{name}_change", args=[pk])).content.decode()
        assert reverse(f"admin:{name}_add") not in listing, name
        assert 'name="_save"' not in change, name
        assert 'name="_continue"' not in change, name
        assert admin_client.get(reverse(f"admin:{name}_add")).status_code == 403, name
        assert admin_client.post(reverse(f"admin:{name}_change", args=[pk]), {}).status_code == 403


def test_only_a_finished_job_may_be_deleted_in_the_admin(admin_client: Client) -> None:
    running = make_job(status=Status.RUNNING)
    done = make_job(status=Status.COMPLETE, path="/srv/done")

    assert admin_client.get(reverse("admin:scans_job_delete", args=[running.pk])).status_code == 403
    deleted = admin_client.post(reverse("admin:scans_job_delete", args=[done.pk]), {"post": "yes"})
    assert deleted.status_code == 302
    assert not Job.objects.filter(pk=done.pk).exists()


def test_the_jobs_list_cuts_a_long_folder_in_the_middle(admin_client: Client) -> None:
    folder = "/srv/" + "/".join(["a-rather-long-folder-name"] * 12) + "/holidays"
    make_job(path=folder)

    page = admin_client.get(reverse("admin:scans_job_changelist")).content.decode()

    assert f'title="{folder}"' in page
    assert "/srv/a-rather-long-f…" in page
    assert "folder-name/holidays</span>" in page
    assert ">scan<" not in page  # the kind column (always "scan") is gone


def test_the_jobs_list_has_the_width_of_the_page_and_short_headings(admin_client: Client) -> None:
    make_job(status=Status.COMPLETE, error_count=2)

    page = admin_client.get(reverse("admin:scans_job_changelist")).content.decode()

    assert 'id="nav-sidebar"' not in page
    headings = re.findall(r'<th scope="col" class="[^"]*column-(\w+)[^"]*">', page)
    assert headings == ["id", "folder", "status", "found", "processed", "errors", "created_at"]
