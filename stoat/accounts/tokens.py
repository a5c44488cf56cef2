"""API tokens: made, checked and revoked here; the database holds only their digests."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth.models import User
from django.utils import timezone

from stoat.accounts.models import ApiToken

TOKEN_PREFIX = "stoat_"
# Shown in listings: the fixed prefix plus a few random characters.
SHOWN_CHARS = len(TOKEN_PREFIX) + 6
# `last_used_at` is written at most this often per token, so reads stay reads.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def digest(raw: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(raw.encode("utf-8", "surrogateescape")).hexdigest()


def create_token(user: User, name: str = "") -> tuple[ApiToken, str]:
    """A new token row for the user and the token itself, which is not kept anywhere."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=raw[:SHOWN_CHARS], digest=digest(raw)
    )
    return token, raw


def authenticate_token(raw: str) -> ApiToken | None:
    """The token row for a presented token, if it exists and its user is active."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=digest(raw), user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def bearer_token(authorization: str) -> str | None:
    """The token in an `Authorization: Bearer …` header value, or None for other schemes."""
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip()


class TokenNotFound(LookupError):
    pass


class AmbiguousToken(LookupError):
    """More than one token has the prefix given; nothing was revoked."""

    def __init__(self, matches: list[ApiToken]) -> None:
        super().__init__(f"{len(matches)} tokens start with that prefix")
        self.matches = matches


def revoke_token(which: str) -> ApiToken:
    """Delete the one token with this id, or with this shown prefix (`stoat_abc123…`).

    Prefixes are not unique: when several tokens share it, none is revoked (AmbiguousToken).
    """
    which = which.strip().rstrip("…")
    tokens = ApiToken.objects.select_related("user").order_by("pk")
    matches = list(tokens.filter(pk=int(which)) if which.isdigit() else tokens.filter(prefix=which))
    if not matches:
        raise TokenNotFound(which)
    if len(matches) > 1:
        raise AmbiguousToken(matches)
    ApiToken.objects.filter(pk=matches[0].pk).delete()
    return matches[0]
