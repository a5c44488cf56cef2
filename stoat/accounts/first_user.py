"""A fresh install gets one administrator, so the first visit can sign in at once."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

FIRST_USERNAME = "admin"


def create_first_user() -> tuple[str, str] | None:
    """(username, password) of a new superuser if there was no user at all, else None."""
    user_model = get_user_model()
    password = secrets.token_urlsafe(12)
    try:
        with transaction.atomic():
            if user_model.objects.exists():
                return None
            user_model.objects.create_superuser(FIRST_USERNAME, email="", password=password)
    except IntegrityError:  # another process made it first
        return None
    return FIRST_USERNAME, password
