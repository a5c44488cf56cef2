from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError, CommandParser

from stoat.accounts.models import ApiToken
from stoat.accounts.tokens import AmbiguousToken, TokenNotFound, create_token, revoke_token
from stoat.core.commands import StoatCommand


class Command(StoatCommand):
    help = "Create, list and revoke API tokens (sent as 'Authorization: Bearer <token>')."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="make a token for a user; it is printed once")
        create.add_argument("username", metavar="user_name")
        create.add_argument("--name", default="", help="what the token is for")
        listing = actions.add_parser("list", help="list tokens (never the tokens themselves)")
        listing.add_argument("username", nargs="?", metavar="user_name")
        revoke = actions.add_parser("revoke", help="revoke a token by its id or shown prefix")
        revoke.add_argument("token", help="the id or the prefix from `token list`")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            self.create(options["username"], options["name"])
        elif action == "list":
            self.list(options["username"])
        else:
            self.revoke(options["token"])

    def create(self, username: str, name: str) -> None:
        user_model = get_user_model()
        try:
            user = user_model.objects.get(**{user_model.USERNAME_FIELD: username})
        except user_model.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        token, raw = create_token(user, name)
        self.stderr.write(f"Token {token.pk} for {username}; it is shown this once:")
        self.stdout.write(raw)

    def list(self, username: str | None) -> None:
        tokens = ApiToken.objects.select_related("user").order_by("pk")
        if username:
            tokens = tokens.filter(user__username=username)
        found = list(tokens)
        for token in found:
            self.stdout.write(self.describe(token))
        if not found:
            self.stdout.write(f"no tokens for {username}" if username else "no tokens")

    def describe(self, token: ApiToken) -> str:
        used = token.last_used_at.isoformat(timespec="seconds") if token.last_used_at else "never"
        return (
            f"{token.pk}\t{token.prefix}…\t{token.user.get_username()}\t"
            f"{token.name or '-'}\tcreated {token.created_at:%Y-%m-%d}\tlast used {used}"
        )

    def revoke(self, which: str) -> None:
        try:
            token = revoke_token(which)
        except TokenNotFound:
            raise CommandError(f"No token {which!r}; see `manage.py token list`.") from None
        except AmbiguousToken as ambiguous:
            for match in ambiguous.matches:
                self.stderr.write(self.describe(match))
            raise CommandError(
                f"{len(ambiguous.matches)} tokens start with {which!r} (listed above); "
                "none was revoked. Revoke one by its id."
            ) from None
        self.stdout.write(f"Revoked token {token.pk} ({token.prefix}…).")
