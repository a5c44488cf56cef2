"""API tokens: stored as digests, shown once, made and revoked by command and in the admin."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client

from stoat.accounts.models import ApiToken
from stoat.accounts.tokens import authenticate_token, bearer_token, create_token, digest

pytestmark = pytest.mark.django_db


def run_token(*args: str) -> str:
    out = io.StringIO()
    call_command("token", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_only_a_digest_of_the_token_is_stored(reader: User) -> None:
    token, raw = create_token(reader, "kodi")
    row = ApiToken.objects.values().get(pk=token.pk)
    assert raw not in [str(value) for value in row.values()]
    assert row["digest"] == digest(raw)
    assert raw.startswith(row["prefix"]) and len(row["prefix"]) < 16
    assert len(raw) > 40


def test_a_token_signs_in_its_active_user_only(reader: User) -> None:
    token, raw = create_token(reader)
    found = authenticate_token(raw)
    assert found is not None and found.user == reader
    assert found.last_used_at is not None
    assert authenticate_token(raw + "x") is None
    assert authenticate_token("not-a-token") is None
    reader.is_active = False
    reader.save()
    assert authenticate_token(raw) is None


def test_only_the_bearer_scheme_carries_a_token() -> None:
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("bearer  abc ") == "abc"
    assert bearer_token("Basic abc") is None


def test_the_command_prints_a_new_token_once_and_lists_it_without_it(reader: User) -> None:
    raw = run_token("create", "reader", "--name", "phone").strip()
    assert authenticate_token(raw) is not None
    listing = run_token("list")
    token = ApiToken.objects.get()
    assert raw not in listing
    assert f"{token.pk}\t{token.prefix}…\treader\tphone" in listing
    assert "last used" in listing
    assert run_token("list", "nobody") == "no tokens for nobody\n"


def test_the_command_revokes_by_id_or_prefix(reader: User) -> None:
    first = run_token("create", "reader").strip()
    second = run_token("create", "reader").strip()
    first_row = ApiToken.objects.get(digest=digest(first))
    second_row = ApiToken.objects.get(digest=digest(second))
    assert "Revoked" in run_token("revoke", str(first_row.pk))
    assert authenticate_token(first) is None
    run_token("revoke", second_row.prefix)
    assert authenticate_token(second) is None
    with pytest.raises(CommandError, match="No token"):
        run_token("revoke", "999")


def test_revoking_a_prefix_two_tokens_share_revokes_neither_and_lists_both(
    reader: User, staff_user: User
) -> None:
    first, first_raw = create_token(reader, "backup script")
    second, second_raw = create_token(staff_user, "camera upload")
    # Prefixes are a few random characters: two tokens can share one.
    ApiToken.objects.filter(pk=second.pk).update(prefix=first.prefix)
    listed = io.StringIO()

    with pytest.raises(CommandError, match="2 tokens start with") as refused:
        call_command("token", "revoke", first.prefix, stdout=io.StringIO(), stderr=listed)

    assert "none was revoked" in str(refused.value)
    assert authenticate_token(first_raw) is not None
    assert authenticate_token(second_raw) is not None
    lines = listed.getvalue().splitlines()
    assert [line.split("\t")[:4] for line in lines] == [
        [str(first.pk), f"{first.prefix}…", "reader", "backup script"],
        [str(second.pk), f"{first.prefix}…", "staff", "camera upload"],
    ]
    # By id, each can still be revoked alone.
    run_token("revoke", str(second.pk))
    assert authenticate_token(second_raw) is None
    assert authenticate_token(first_raw) is not None


def test_a_prefix_copied_with_its_ellipsis_from_the_list_is_understood(reader: User) -> None:
    token, raw = create_token(reader)
    assert (
        run_token("revoke", f"{token.prefix}…") == f"Revoked token {token.pk} ({token.prefix}…).\n"
    )
    assert authenticate_token(raw) is None


def test_the_command_refuses_an_unknown_user() -> None:
    with pytest.raises(CommandError, match="No user named 'ghost'"):
        run_token("create", "ghost")


def test_the_admin_shows_a_new_token_once(admin_client: Client, reader: User) -> None:
    response = admin_client.post(
        "/admin/accounts/apitoken/add/", {"user": reader.pk, "name": "script"}
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    match = re.search(r'<code class="api-token">([^<]+)</code>', response.content.decode())
    assert match is not None
    token = authenticate_token(match.group(1))
    assert token is not None and token.user == reader and token.name == "script"
    page = admin_client.get(f"/admin/accounts/apitoken/{token.pk}/change/").content.decode()
    assert match.group(1) not in page


def test_the_admin_revokes_a_token_by_deleting_it(admin_client: Client, reader: User) -> None:
    token, raw = create_token(reader)
    admin_client.post(f"/admin/accounts/apitoken/{token.pk}/delete/", {"post": "yes"})
    assert authenticate_token(raw) is None


def test_a_wrong_token_is_refused_with_401_in_the_api_error_shape(anon_client: Client) -> None:
    response = anon_client.get("/api/v1/videos", headers={"Authorization": "Bearer stoat_nope"})
    assert response.status_code == 401
    assert response.json() == {
        "detail": {"code": "INVALID_TOKEN", "message": "The API token is unknown or revoked."}
    }
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_token_does_not_open_the_html_pages(anon_client: Client, reader: User) -> None:
    _, raw = create_token(reader)
    response = anon_client.get("/", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 302
