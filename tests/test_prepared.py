"""Rows read by a query written once: the same rows, the same types, as the ORM reads them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from stoat.accounts.backends import OneQueryModelBackend
from stoat.core.prepared import RowByKey
from stoat.library.models import Video
from stoat.scans.models import Job, Status
from tests.conftest import make_job, make_user, signed_in

pytestmark = pytest.mark.django_db


def field_values(row: Job) -> dict[str, object]:
    return {field.attname: getattr(row, field.attname) for field in Job._meta.concrete_fields}


def test_a_job_read_by_its_key_equals_the_orms_in_every_field_and_type() -> None:
    now = timezone.now()
    job = make_job(
        status=Status.RUNNING,
        found=10,
        processed=3,
        found_final=True,
        started_at=now,
        cancel_requested_at=now + timedelta(seconds=1),
    )
    read = RowByKey(Job).get(job.pk)

    assert read is not None
    expected = field_values(Job.objects.get(pk=job.pk))
    assert field_values(read) == expected
    assert {k: type(v) for k, v in field_values(read).items()} == {
        k: type(v) for k, v in expected.items()
    }
    assert read.started_at == now and read.started_at.tzinfo is not None
    assert read.found_final is True
    assert read._state.adding is False and read._state.db == "default"


def test_an_unknown_key_reads_nothing() -> None:
    assert RowByKey(Job).get(123_456) is None


def test_a_key_given_as_text_is_read_as_the_orm_reads_it() -> None:
    user = make_user("text-key")
    # A session keeps the user's id as text.
    read = RowByKey(User).get(str(user.pk))
    assert read is not None and read.username == "text-key"


def test_each_read_is_one_query() -> None:
    job = make_job()
    by_key = RowByKey(Job)
    with CaptureQueriesContext(connection) as queries:
        by_key.get(job.pk)
        by_key.get(job.pk)
    assert len(queries.captured_queries) == 2


def test_a_field_that_is_not_unique_is_refused() -> None:
    with pytest.raises(ValueError, match="not unique"):
        RowByKey(Video, "filename")


def test_a_signed_in_user_is_read_back_from_the_session() -> None:
    user = make_user("session-reader")
    client = signed_in(user)
    response = client.get(reverse("library:index"))
    assert response.status_code == 200
    assert response.wsgi_request.user.pk == user.pk


def test_an_expired_session_signs_nobody_in() -> None:
    client = signed_in(make_user("expired"))
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get(reverse("library:index"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_a_deleted_session_signs_nobody_in() -> None:
    client = signed_in(make_user("signed-out-elsewhere"))
    Session.objects.all().delete()
    assert client.get(reverse("library:index")).status_code == 302


def test_an_inactive_user_is_not_loaded_from_a_session() -> None:
    user = make_user("deactivated")
    client: Client = signed_in(user)
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert OneQueryModelBackend().get_user(user.pk) is None
    assert client.get(reverse("library:index")).status_code == 302
