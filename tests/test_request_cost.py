"""What the pages asked for most often cost: a hundred open job pages poll once a second each."""

from __future__ import annotations

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AnonymousUser, Group, Permission, User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from stoat.accounts.backends import OneQueryModelBackend
from stoat.scans.models import ScanError, Status
from tests.conftest import make_job, make_user, signed_in
from tests.test_access import make_video

pytestmark = pytest.mark.django_db


def poll(client: Client, job_id: int) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("scans:job", args=[job_id]), HTTP_HX_REQUEST="true")
    return response.status_code, [query["sql"] for query in queries.captured_queries]


def test_a_running_jobs_poll_reads_session_user_job_and_one_permission_query(
    reader_client: Client,
) -> None:
    job = make_job(status=Status.RUNNING, found=10, processed=3)
    status, queries = poll(reader_client, job.pk)

    assert status == 200
    # The session, its user, the job, and whether the user may cancel: no errors query when
    # the job counted none, and the user's own and group permissions in one query.
    assert len(queries) == 4, queries
    assert "auth_permission" in queries[-1]


def test_a_finished_jobs_poll_never_asks_about_permissions(reader_client: Client) -> None:
    job = make_job(status=Status.COMPLETE, found=10, processed=10)
    status, queries = poll(reader_client, job.pk)

    assert status == 286
    assert len(queries) == 3, queries
    assert not any("auth_permission" in sql for sql in queries)


def test_errors_are_read_when_the_job_counted_some(reader_client: Client) -> None:
    job = make_job(status=Status.RUNNING, found=10, processed=3, errors=1)
    ScanError.objects.create(job=job, path="/srv/videos/bad.mp4", message="not a video file")
    status, queries = poll(reader_client, job.pk)

    assert status == 200
    assert any("scans_scanerror" in sql for sql in queries)
    response = reader_client.get(reverse("scans:job", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert "/srv/videos/bad.mp4" in response.content.decode()


def test_the_cancel_button_follows_the_permission_on_each_poll(reader: User) -> None:
    job = make_job(status=Status.RUNNING, found=10, processed=3)
    client = signed_in(reader)
    url = reverse("scans:job", args=[job.pk])
    assert "Cancel scan" not in client.get(url, HTTP_HX_REQUEST="true").content.decode()

    reader.user_permissions.add(Permission.objects.get(codename="manage_scans"))
    assert "Cancel scan" in client.get(url, HTTP_HX_REQUEST="true").content.decode()


def test_a_library_page_with_videos_reads_session_user_count_and_page(
    reader_client: Client,
) -> None:
    make_video()
    with CaptureQueriesContext(connection) as queries:
        response = reader_client.get(reverse("library:index"), HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert "a.mp4" in response.content.decode()
    assert len(queries.captured_queries) == 4, [q["sql"] for q in queries.captured_queries]


def answers(backend: ModelBackend, user: User | AnonymousUser) -> tuple[set[str], bool, bool]:
    fresh = User.objects.get(pk=user.pk) if isinstance(user, User) else user
    return (
        backend.get_all_permissions(fresh),
        backend.has_perm(fresh, "accounts.manage_scans"),
        backend.has_perm(fresh, "auth.view_user"),
    )


def test_the_backend_answers_as_djangos_model_backend_does() -> None:
    own = make_user("own")
    own.user_permissions.add(Permission.objects.get(codename="manage_scans"))
    group = Group.objects.create(name="viewers")
    group.permissions.add(Permission.objects.get(codename="view_user"))
    member = make_user("member")
    member.groups.add(group)
    both = make_user("both")
    both.groups.add(group)
    both.user_permissions.add(Permission.objects.get(codename="manage_scans"))
    inactive = make_user("inactive", is_active=False)
    inactive.user_permissions.add(Permission.objects.get(codename="manage_scans"))
    superuser = make_user("root", is_superuser=True)
    nobody = make_user("nobody")

    users: list[User | AnonymousUser] = [own, member, both, inactive, superuser, nobody]
    users.append(AnonymousUser())
    for user in users:
        assert answers(OneQueryModelBackend(), user) == answers(ModelBackend(), user), user
    assert answers(OneQueryModelBackend(), both)[:2] == (
        {"accounts.manage_scans", "auth.view_user"},
        True,
    )
    assert answers(OneQueryModelBackend(), inactive)[1] is False
    assert OneQueryModelBackend().get_all_permissions(both, obj=object()) == set()


def test_the_backend_reads_permissions_once_per_user_object() -> None:
    user = make_user("counted")
    user.user_permissions.add(Permission.objects.get(codename="manage_scans"))
    fresh = User.objects.get(pk=user.pk)
    with CaptureQueriesContext(connection) as queries:
        assert fresh.has_perm("accounts.manage_scans")
        assert not fresh.has_perm("auth.delete_user")
    assert len(queries.captured_queries) == 1
