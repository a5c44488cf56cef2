"""Production settings: `check --deploy` is clean, the dev key is refused, headers are strict."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import LazySettings
from django.contrib.auth.models import User
from django.test import Client
from pytest_django.live_server_helper import LiveServer

from stoat.scans.models import Status
from stoat.settings import BASE_DIR, proxy_ssl_header
from tests.conftest import make_job
from tests.error_urls import SECRET_DETAIL

PRODUCTION_KEY = "k7Qm2vXr9Lp4Zt8Wc1Nb6Hs3Jd5Fg0Ya-Ue_Ri+Oq(Ty)Kx=Mv!Pw@Sz#Al$Bn%Cd"


def manage(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Runs manage.py in a fresh process, so the settings module reads this environment."""
    ours = {"DEBUG", "SECRET_KEY", "SECRET_KEY_FILE", "STOAT_HTTPS"}
    clean = {k: v for k, v in os.environ.items() if k not in ours}
    clean.update(STOAT_DATA_DIR=str(tmp_path / "data"), DJANGO_SETTINGS_MODULE="stoat.settings")
    clean.update(env)
    return subprocess.run(
        [sys.executable, str(BASE_DIR / "manage.py"), *args],
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def production(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "videos").mkdir(exist_ok=True)
    return {
        "STOAT_HTTPS": "1",
        "SECRET_KEY": PRODUCTION_KEY,
        "ALLOWED_HOSTS": "stoat.example.org",
        "STOAT_SCAN_ROOTS": str(tmp_path / "videos"),
        "STOAT_CACHE_URL": "redis://127.0.0.1:6379/0",
    }


def test_check_deploy_reports_nothing_under_production_settings(tmp_path: Path) -> None:
    result = manage(
        tmp_path, "check", "--deploy", "--fail-level", "WARNING", **production(tmp_path)
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_stoat_https_turns_on_secure_cookies_hsts_and_the_redirect(tmp_path: Path) -> None:
    show = (
        "from django.conf import settings as s; "
        "print(s.SECURE_PROXY_SSL_HEADER, s.CACHES['default']['BACKEND'], "
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS)"
    )
    result = manage(tmp_path, "shell", "-v", "0", "-c", show, **production(tmp_path))
    assert result.stdout.split() == [
        "('HTTP_X_FORWARDED_PROTO',",
        "'https')",
        "django.core.cache.backends.redis.RedisCache",
        "True",
        "True",
        "True",
        "31536000",
    ], result.stderr


def test_check_deploy_warns_about_plain_http_without_stoat_https(tmp_path: Path) -> None:
    env = production(tmp_path)
    del env["STOAT_HTTPS"]
    result = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr
    assert "security.W018" not in result.stderr  # DEBUG is off without being asked


def test_check_deploy_warns_when_debug_is_asked_for(tmp_path: Path) -> None:
    result = manage(
        tmp_path, "check", "--deploy", "--fail-level", "WARNING", DEBUG="1", STOAT_HTTPS="1"
    )
    assert result.returncode != 0
    assert "security.W018" in result.stderr


def test_debug_is_off_and_plain_http_works_with_nothing_set(tmp_path: Path) -> None:
    show = (
        "from django.conf import settings as s; "
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS)"
    )
    result = manage(tmp_path, "shell", "-v", "0", "-c", show)
    assert result.stdout.split() == ["False", "False", "False", "0"], result.stderr


def test_a_proxy_header_is_read_in_any_usual_spelling() -> None:
    expected = ("HTTP_X_FORWARDED_PROTO", "https")
    assert proxy_ssl_header("X-Forwarded-Proto") == expected
    assert proxy_ssl_header("X-Forwarded-Proto: https") == expected
    assert proxy_ssl_header("HTTP_X_FORWARDED_PROTO=https") == expected
    assert proxy_ssl_header("X-Scheme: HTTPS") == ("HTTP_X_SCHEME", "HTTPS")
    assert proxy_ssl_header("  ") is None


@pytest.mark.django_db
def test_every_response_carries_the_security_headers(client: Client) -> None:
    for response in (client.get("/"), Client().get("/accounts/login/"), Client().get("/")):
        policy = response["Content-Security-Policy"]
        assert "script-src 'self';" in policy
        assert "style-src 'self';" in policy
        assert "frame-ancestors 'none'" in policy
        assert "unsafe" not in policy
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_pages_need_no_inline_script_style_or_eval(client: Client) -> None:
    job = make_job(status=Status.RUNNING)
    pages = ["/", "/jobs/", f"/jobs/{job.pk}/", "/accounts/login/"]
    html = "".join(client.get(url).content.decode() for url in pages)
    assert "{#" not in html
    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts and all(" src=" in tag for tag in scripts)
    assert "<style" not in html
    assert " style=" not in html
    assert " hx-on" not in html
    # An event filter (`change[...]`) or `js:` values are evaluated by htmx with eval.
    for trigger in re.findall(r'hx-(?:trigger|vals|vars)="([^"]*)"', html):
        assert "[" not in trigger and "js:" not in trigger, trigger
    config = re.search(r'<meta name="htmx-config" content=\'([^\']+)\'', html)
    assert config is not None
    assert '"allowEval":false' in config.group(1)
    assert '"includeIndicatorStyles":false' in config.group(1)


@pytest.mark.django_db(transaction=True)
def test_a_real_server_sends_strangers_to_the_login_page(live_server: LiveServer) -> None:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as refused:
        opener.open(f"{live_server.url}/jobs/")
    assert refused.value.code == 302
    assert refused.value.headers["Location"] == "/accounts/login/?next=/jobs/"
    with opener.open(f"{live_server.url}/accounts/login/") as login_page:
        assert login_page.status == 200
        assert "Content-Security-Policy" in login_page.headers


@pytest.mark.django_db
@pytest.mark.urls("tests.error_urls")
@pytest.mark.parametrize("debug", [False, True])
def test_a_500_shows_a_traceback_only_with_debug_on(
    staff_user: User, settings: LazySettings, debug: bool
) -> None:
    settings.DEBUG = debug
    browser = Client(raise_request_exception=False)
    browser.force_login(staff_user)

    response = browser.get("/fail/")

    assert response.status_code == 500
    page = response.content.decode()
    assert ("Traceback" in page) is debug
    assert (SECRET_DETAIL in page) is debug
