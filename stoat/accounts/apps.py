from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "stoat.accounts"
    label = "accounts"
    verbose_name = "Accounts and API tokens"

    def ready(self) -> None:
        # Importing registers the deployment checks.
        from stoat.accounts import checks  # noqa: F401
