from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from stoat.accounts.models import ApiToken
from stoat.accounts.tokens import create_token


class Command(BaseCommand):
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
        for token in tokens:
            used = (
                token.last_used_at.isoformat(timespec="seconds") if token.last_used_at else "never"
            )
            self.stdout.write(
                f"{token.pk}\t{token.prefix}…\t{token.user.get_username()}\t"
                f"{token.name or '-'}\tcreated {token.created_at:%Y-%m-%d}\tlast used {used}"
            )

    def revoke(self, which: str) -> None:
        match = Q(prefix=which) if not which.isdigit() else Q(pk=int(which))
        deleted, _ = ApiToken.objects.filter(match).delete()
        if not deleted:
            raise CommandError(f"No token {which!r}; see `manage.py token list`.")
        self.stdout.write(f"Revoked token {which}.")
