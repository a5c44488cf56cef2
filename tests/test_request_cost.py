"""What the pages asked for most often cost: a hundred open job pages poll once a second each."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
import time_machine
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AnonymousUser, Group, Permission, User
from django.db import connection
from django.template import Template
from django.test import Client
from django.test.signals import template_rendered
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from stoat.accounts.backends import OneQueryModelBackend
from stoat.scans.models import Job, ScanError, Status
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
    job = make_job(status=Status.RUNNING, found=10, processed=3, error_count=1)
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


def library_page_queries(client: Client) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("library:index"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "a.mp4" in response.content.decode()
    return [query["sql"] for query in queries.captured_queries]


def test_a_library_page_reads_session_user_counts_and_page_then_keeps_the_counts(
    reader_client: Client,
) -> None:
    make_video()
    first = library_page_queries(reader_client)
    again = library_page_queries(reader_client)

    # Session, user, the library's version, the counts (which hold the total), the page.
    assert len(first) == 5, first
    assert "library_video_writes" in first[2]
    # Until a video changes, the counts come from the cache.
    assert len(again) == 4, again
    assert "library_video_writes" in again[2] and "COUNT" not in again[3]


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


def frozen_at(second: int) -> time_machine.travel:
    """The clock stopped a tenth into one second, so a test never straddles two."""
    moment = datetime(2026, 11, 26, 9, 0, second, 100_000, tzinfo=timezone.utc)
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def rendered() -> Iterator[list[str]]:
    """Names of the templates rendered (Django's test instrumentation reports each one)."""
    names: list[str] = []

    def record(sender: object, template: Template, **kwargs: object) -> None:
        names.append(str(template.name))

    template_rendered.connect(record)
    yield names
    template_rendered.disconnect(record)


def test_pollers_of_one_job_share_one_rendering_per_state_and_second(
    rendered: list[str], reader: User, staff_user: User
) -> None:
    job = make_job(status=Status.RUNNING, found=10, processed=3)
    url = reverse("scans:job", args=[job.pk])
    viewer, manager = signed_in(reader), signed_in(staff_user)
    with frozen_at(0):
        answers = [c.get(url, HTTP_HX_REQUEST="true") for c in (viewer, manager, viewer)]
        assert rendered.count("scans/_progress_state.html") == 1
        assert rendered.count("scans/_progress_errors.html") == 1
        # The shared part is the same for all; the cancel button only for who may use it.
        assert "3 / 10+" in answers[0].content.decode()
        assert answers[0].content == answers[2].content
        assert "Cancel scan" in answers[1].content.decode()
        assert "Cancel scan" not in answers[0].content.decode()

        # A change shows at the very next poll, within the same second.
        Job.objects.filter(pk=job.pk).update(processed=4, error_count=1)
        ScanError.objects.create(job=job, path="/srv/videos/bad.mp4", message="not a video file")
        changed = viewer.get(url, HTTP_HX_REQUEST="true").content.decode()
        assert "4 / 10+" in changed and "/srv/videos/bad.mp4" in changed
        assert rendered.count("scans/_progress_state.html") == 2

    # The next second renders again: "elapsed" and "3 min ago" move on with the clock.
    with frozen_at(1):
        viewer.get(url, HTTP_HX_REQUEST="true")
    assert rendered.count("scans/_progress_state.html") == 3


def test_a_poll_served_from_the_shared_panel_reads_no_errors(reader_client: Client) -> None:
    job = make_job(status=Status.FAILED, found=10, processed=3, error_count=1)
    ScanError.objects.create(job=job, path="/srv/videos/bad.mp4", message="not a video file")
    with frozen_at(0):
        first_status, first = poll(reader_client, job.pk)
        second_status, second = poll(reader_client, job.pk)

    assert first_status == second_status == 286
    assert any("scans_scanerror" in sql for sql in first)
    # The session, its user and the job: the panel, errors included, was already rendered.
    assert len(second) == 3, second
