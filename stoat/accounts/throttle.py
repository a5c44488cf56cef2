"""Failed sign-ins counted in the cache, per address and user name and per address alone."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache


def keys(ip: str, username: str) -> tuple[str, str]:
    pair = hashlib.sha256(f"{ip}\n{username.casefold()}".encode()).hexdigest()
    address = hashlib.sha256(ip.encode()).hexdigest()
    return f"stoat:login-fail:pair:{pair}", f"stoat:login-fail:ip:{address}"


def is_locked_out(ip: str, username: str) -> bool:
    """Whether this address has failed too often, for this user name or for any."""
    pair_key, ip_key = keys(ip, username)
    failures: dict[str, int] = cache.get_many([pair_key, ip_key])
    return (
        failures.get(pair_key, 0) >= settings.STOAT_LOGIN_FAILURES_PER_USER
        or failures.get(ip_key, 0) >= settings.STOAT_LOGIN_FAILURES_PER_IP
    )


def record_failure(ip: str, username: str) -> None:
    for key in keys(ip, username):
        # add() starts the window on the first failure; incr() never extends it.
        if not cache.add(key, 1, timeout=settings.STOAT_LOGIN_LOCKOUT_SECONDS):
            try:
                cache.incr(key)
            except ValueError:  # expired between add() and incr()
                cache.add(key, 1, timeout=settings.STOAT_LOGIN_LOCKOUT_SECONDS)


def clear_failures(ip: str, username: str) -> None:
    cache.delete(keys(ip, username)[0])
