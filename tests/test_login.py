"""Signing in and out: a normal form, limits on guessing, every attempt in the log."""

from __future__ import annotations

import io
import logging
import re
import uuid

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache.backends.redis import RedisCache
from django.test import Client, override_settings
from django.urls import reverse

from stoat.accounts import throttle
from stoat.accounts.first_user import FIRST_USERNAME, create_first_user
from stoat.core.management.commands.serve import Command as ServeCommand
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def sign_in(browser: Client, username: str, password: str, **extra: str) -> int:
    response = browser.post(LOGIN, {"username": username, "password": password, **extra})
    return response.status_code


def test_the_login_page_is_a_plain_username_and_password_form(anon_client: Client) -> None:
    html = anon_client.get(LOGIN).content.decode()
    assert 'name="username"' in html
    assert 'type="password"' in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_signing_in_leads_to_the_page_asked_for(anon_client: Client, reader: User) -> None:
    response = anon_client.post(
        LOGIN, {"username": "reader", "password": "reader-password-1", "next": "/jobs/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/jobs/"
    assert anon_client.get("/jobs/").status_code == 200


def test_a_next_page_on_another_site_is_ignored(anon_client: Client, reader: User) -> None:
    response = anon_client.post(
        LOGIN + "?next=https://evil.example/",
        {"username": "reader", "password": "reader-password-1"},
    )
    assert response["Location"] == reverse("library:index")


def test_a_wrong_password_shows_the_form_again_and_is_logged(
    anon_client: Client, reader: User, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="stoat.accounts"):
        assert sign_in(anon_client, "reader", "wrong") == 200
        assert sign_in(anon_client, "reader", "reader-password-1") == 302
    messages = [r.getMessage() for r in caplog.records if r.name == "stoat.accounts"]
    assert messages == [
        "sign-in failed: user='reader' ip=127.0.0.1",
        "signed in: user='reader' ip=127.0.0.1",
    ]


def test_repeated_failures_lock_the_name_out_even_with_the_right_password(
    anon_client: Client, reader: User, caplog: pytest.LogCaptureFixture
) -> None:
    for _ in range(5):
        assert sign_in(anon_client, "reader", "guess") == 200
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="stoat.accounts"):
        response = anon_client.post(LOGIN, {"username": "reader", "password": "reader-password-1"})
    assert response.status_code == 429
    assert b"Too many failed sign-ins" in response.content
    assert "_auth_user_id" not in anon_client.session
    ours = [r.getMessage() for r in caplog.records if r.name == "stoat.accounts"]
    assert ours == ["sign-in refused, too many failures: user='reader' ip=127.0.0.1"]
    # Another user at another address is not affected.
    make_user("other")
    elsewhere = Client(REMOTE_ADDR="10.0.0.9")
    assert sign_in(elsewhere, "other", "other-password-1") == 302


def test_a_successful_sign_in_forgets_earlier_failures(anon_client: Client, reader: User) -> None:
    for _ in range(4):
        sign_in(anon_client, "reader", "guess")
    assert sign_in(anon_client, "reader", "reader-password-1") == 302
    for _ in range(4):
        assert sign_in(Client(), "reader", "guess") == 200
    assert sign_in(Client(), "reader", "reader-password-1") == 302


@override_settings(STOAT_LOGIN_FAILURES_PER_IP=3)
def test_one_address_trying_many_names_is_locked_out(anon_client: Client, reader: User) -> None:
    for name in ("a", "b", "c"):
        assert sign_in(anon_client, name, "guess") == 200
    assert sign_in(anon_client, "reader", "reader-password-1") == 429


@override_settings(STOAT_CLIENT_IP_HEADER="HTTP_X_REAL_IP")
def test_behind_a_proxy_clients_are_counted_by_the_address_it_passes_on(reader: User) -> None:
    for _ in range(5):
        assert sign_in(Client(HTTP_X_REAL_IP="10.0.0.1"), "reader", "guess") == 200
    assert sign_in(Client(HTTP_X_REAL_IP="10.0.0.1"), "reader", "reader-password-1") == 429
    assert sign_in(Client(HTTP_X_REAL_IP="10.0.0.2"), "reader", "reader-password-1") == 302


def test_signing_out_ends_the_session(client: Client) -> None:
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert client.get("/").status_code == 302


def test_a_signed_in_user_sent_back_from_the_admin_is_told_why(reader_client: Client) -> None:
    response = reader_client.get(LOGIN + "?next=/admin/")
    assert b"who may not open that page" in response.content


def test_the_first_user_is_made_only_while_there_is_none() -> None:
    created = create_first_user()
    assert created is not None
    username, password = created
    assert username == FIRST_USERNAME
    user = User.objects.get()
    assert user.is_superuser and user.is_staff
    assert user.check_password(password)
    assert create_first_user() is None
    assert User.objects.count() == 1


def test_serve_on_a_fresh_install_prints_a_login_that_works(anon_client: Client) -> None:
    login_page = anon_client.get(LOGIN).content.decode()
    assert "No account exists yet" in login_page
    out = io.StringIO()
    ServeCommand(stdout=out).announce_first_user("127.0.0.1:8000")
    printed = out.getvalue()
    password = printed.split("password:")[1].split()[0]
    assert "user name: admin" in printed
    assert sign_in(anon_client, "admin", password) == 302
    assert anon_client.get("/admin/").status_code == 200
    # The next start prints nothing: the password is shown once.
    again = io.StringIO()
    ServeCommand(stdout=again).announce_first_user("127.0.0.1:8000")
    assert again.getvalue() == ""


@pytest.mark.skipif(
    not settings.STOAT_BROKER_URL.startswith("redis"),
    reason="this run has no Redis (the PostgreSQL + Redis pass runs it, on that run's Redis db)",
)
def test_web_processes_sharing_a_redis_cache_count_failures_together(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Two cache clients, as two web processes would have, on this run's own Redis db, with a
    # prefix of this test's own, whose keys are removed afterwards (never a FLUSHDB).
    prefix = f"stoat-test-{uuid.uuid4().hex}"
    first, second = (
        RedisCache(settings.STOAT_BROKER_URL, {"KEY_PREFIX": prefix}) for _ in range(2)
    )
    try:
        monkeypatch.setattr(throttle, "cache", first)
        for _ in range(5):
            throttle.record_failure("10.1.1.1", "reader")
        monkeypatch.setattr(throttle, "cache", second)
        assert throttle.is_locked_out("10.1.1.1", "reader")
        assert not throttle.is_locked_out("10.1.1.2", "reader")
    finally:
        second.delete_many(list(throttle.keys("10.1.1.1", "reader")))


def test_a_wrong_password_gets_one_message_in_stoats_words(
    anon_client: Client, reader: User
) -> None:
    response = anon_client.post(LOGIN, {"username": "reader", "password": "wrong"})

    page = response.content.decode()
    assert response.status_code == 200
    shown = re.findall(r'<div class="form-errors" role="alert">(.*?)</div>', page)
    assert shown == ["<p>That user name and password do not match. Both are case-sensitive.</p>"]
    visible = re.sub(r"<[^>]*>", " ", page).lower()
    assert "username" not in visible
    assert "user name" in visible
    assert 'value="reader"' in page


def test_a_signed_in_user_changes_their_password_and_stays_signed_in(reader_client: Client) -> None:
    url = reverse("accounts:password")
    page = reader_client.get(url).content.decode()
    assert "Change your password" in page
    assert 'href="/accounts/password/"' in reader_client.get("/").content.decode()

    response = reader_client.post(
        url,
        {
            "old_password": "reader-password-1",
            "new_password1": "a-new-reader-password-2",
            "new_password2": "a-new-reader-password-2",
        },
        follow=True,
    )

    assert response.redirect_chain == [("/", 302)]
    assert "Your password is changed." in response.content.decode()
    assert reader_client.get("/jobs/").status_code == 200
    assert User.objects.get(username="reader").check_password("a-new-reader-password-2")


def test_a_wrong_old_password_is_refused_with_the_form_again(reader_client: Client) -> None:
    response = reader_client.post(
        reverse("accounts:password"),
        {
            "old_password": "nope",
            "new_password1": "x-long-pass-3",
            "new_password2": "x-long-pass-3",
        },
    )

    assert response.status_code == 400
    assert "Your old password was entered incorrectly" in response.content.decode()
    assert User.objects.get(username="reader").check_password("reader-password-1")


def test_changing_a_password_needs_a_signed_in_user(anon_client: Client) -> None:
    response = anon_client.get(reverse("accounts:password"))
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
