"""stoat's one settings module: every value comes from the environment, defaults suit a laptop."""

from __future__ import annotations

import os
import re
import socket
import warnings
from pathlib import Path
from typing import Any

import dj_database_url
import django_stubs_ext

from stoat.core.startup import load_secret_key

# Lets admin and form classes take type parameters at run time (ModelAdmin[Video]).
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.replace(",", " ").split() if item.strip()]


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


# Off unless asked for: a traceback on an error page shows settings and code to anyone.
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])

# The data folder holds the SQLite database, the thumbnails and the generated secret key.
STOAT_DATA_DIR = Path(os.environ.get("STOAT_DATA_DIR", BASE_DIR / "data")).resolve()
# Every process (web, worker, commands) reads the same key: from the environment, or the file
# the first start made in the data folder. A weak one stops stoat here, saying how to fix it.
SECRET_KEY = load_secret_key(os.environ, STOAT_DATA_DIR)
STOAT_THUMB_DIR = STOAT_DATA_DIR / "thumbs"
# Empty: stoat streams video files itself. A path such as "/_stoat_files": stoat answers with
# X-Accel-Redirect to that prefix + the file's absolute path and nginx sends the bytes
# (docs/deploy.md has the nginx location to pair with it).
STOAT_ACCEL_REDIRECT = os.environ.get("STOAT_ACCEL_REDIRECT", "").rstrip("/")
STOAT_VIDEO_EXTENSIONS = [
    ext.lower().lstrip(".")
    for ext in env_list(
        "STOAT_VIDEO_EXTENSIONS",
        [
            "mp4",
            "m4v",
            "mov",
            "mkv",
            "webm",
            "avi",
            "wmv",
            "asf",
            "flv",
            "f4v",
            "mpg",
            "mpeg",
            "m2ts",
            "mts",
            "ts",
            "vob",
            "ogv",
            "3gp",
            "3g2",
        ],
    )
]
# Folders that may be scanned; empty means any folder the server can read.
STOAT_SCAN_ROOTS = env_list("STOAT_SCAN_ROOTS", [])
# Longest a scan may run before it ends as `timeout`, keeping what it read.
STOAT_JOB_TIME_LIMIT = env_float("STOAT_JOB_TIME_LIMIT", 12 * 3600)
# How often a running scan writes its counters (and heartbeat) to the job row.
STOAT_PROGRESS_INTERVAL = env_float("STOAT_PROGRESS_INTERVAL", 0.5)
# A running scan proves it is alive this often, even while one slow file is being read.
STOAT_HEARTBEAT_INTERVAL = env_float("STOAT_HEARTBEAT_INTERVAL", 10.0)
# A running job silent for longer than this lost its worker: it is resumed or ended.
STOAT_HEARTBEAT_STALE = env_float("STOAT_HEARTBEAT_STALE", 3 * STOAT_HEARTBEAT_INTERVAL)
# Longest one probe or one thumbnail may take before the file becomes a per-file error.
STOAT_FILE_TIME_LIMIT = env_float("STOAT_FILE_TIME_LIMIT", 5.0)
# Scan workers run at this niceness (0-19): pages stay quick while a scan fills every core.
# It counts against processes in the same session or cgroup: see docs/deploy.md for systemd.
STOAT_WORKER_NICE = int(os.environ.get("STOAT_WORKER_NICE", "10"))
# A scan with more files to read than this is split into batch tasks that run in parallel; a
# camera file takes tens of milliseconds, so a few dozen of them already fill every worker.
STOAT_BATCH_MIN = int(os.environ.get("STOAT_BATCH_MIN", "10"))
STOAT_MAX_BATCHES = int(os.environ.get("STOAT_MAX_BATCHES", "16"))
# How this host names itself in the batch records ("host:pid"); defaults to the host name.
STOAT_WORKER_NAME = os.environ.get("STOAT_WORKER_NAME") or socket.gethostname()
# Each scan worker process checks in this often; /healthz calls a worker silent for three
# intervals missing.
STOAT_CHECKIN_INTERVAL = env_float("STOAT_CHECKIN_INTERVAL", 30.0)
STOAT_THUMB_SIZE = int(os.environ.get("STOAT_THUMB_SIZE", "480"))
# Fingerprint each file read (at most 192 KiB more), so moves and copies are recognised; off
# only to measure what they cost (benchmarks.identity) or where every read is dear.
STOAT_FINGERPRINTS = env_bool("STOAT_FINGERPRINTS", True)
# `manage.py serve`: web server processes, and threads in each. Two processes at least, so one
# busy rendering never holds up every page; past four, a home library gains little but memory.
STOAT_WEB_WORKERS = int(
    os.environ.get("STOAT_WEB_WORKERS", str(max(2, min(os.cpu_count() or 1, 4))))
)
# A progress poll spends most of its time in SQLite, which lets other threads run.
STOAT_WEB_THREADS = int(os.environ.get("STOAT_WEB_THREADS", "8"))
# The watcher: a file is read once its size and date stayed the same for this many seconds.
STOAT_WATCH_SETTLE = env_float("STOAT_WATCH_SETTLE", 1.0)
# A watcher holds a library's lease while it beats within this time; then another host takes over.
STOAT_WATCH_LEASE = env_float("STOAT_WATCH_LEASE", 30.0)
# File-system events are gathered this long (ms) before the watcher looks at them.
STOAT_WATCH_DEBOUNCE_MS = int(os.environ.get("STOAT_WATCH_DEBOUNCE_MS", "300"))
# An errno name (ENOSPC, EMFILE): the watcher acts as if the system refused file-system events,
# to try the fallback to polling where the real limit cannot be lowered.
STOAT_WATCH_REFUSE_EVENTS = os.environ.get("STOAT_WATCH_REFUSE_EVENTS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_q",
    "stoat.core",
    "stoat.accounts",
    "stoat.library",
    "stoat.scans",
    "stoat.watch",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "stoat.core.headers.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After the session user is known: an API request may sign in with a Bearer token instead.
    "stoat.accounts.token_auth.BearerTokenMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Dates and times in the reader's time zone once the browser has said which it is.
    "stoat.core.user_time.UserTimeZoneMiddleware",
    # Inside the user and messages middleware, so its page has the header and menu.
    "stoat.core.middleware.MethodNotAllowedPageMiddleware",
    # Last, so it sees the user from either the session or a token.
    "stoat.accounts.signin.LoginRequiredMiddleware",
]

AUTHENTICATION_BACKENDS = ["stoat.accounts.backends.OneQueryModelBackend"]
# Database sessions, read on every request by a query written once.
SESSION_ENGINE = "stoat.accounts.sessions"

ROOT_URLCONF = "stoat.urls"
WSGI_APPLICATION = "stoat.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "stoat.accounts.context_processors.permissions",
            ],
        },
    },
]

SQLITE_OPTIONS: dict[str, Any] = {
    # Writers wait for each other instead of failing with "database is locked".
    "timeout": 30,
    # Take the write lock at BEGIN so a reader never has to upgrade mid-transaction.
    "transaction_mode": "IMMEDIATE",
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}


def database_config() -> dict[str, Any]:
    url = os.environ.get("DATABASE_URL")
    if url:
        # Connections are kept for a minute and checked before reuse, so a database restart
        # costs no request an error.
        config: dict[str, Any] = dict(
            dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
        )
    else:
        STOAT_DATA_DIR.mkdir(parents=True, exist_ok=True)
        config = {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": STOAT_DATA_DIR / "stoat.sqlite3",
            # Each web thread keeps its connection: opening one and setting its pragmas takes
            # about 1.6 ms, as long as the rest of a progress poll.
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    test_name = os.environ.get("STOAT_TEST_DB")
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["OPTIONS"] = {**SQLITE_OPTIONS, **config.get("OPTIONS", {})}
        # Tests use a file database so that worker processes can share it.
        config["TEST"] = {"NAME": test_name or str(STOAT_DATA_DIR / "test.sqlite3")}
    elif test_name:
        # Runs sharing one PostgreSQL server each name their own test database.
        config["TEST"] = {"NAME": test_name}
    return config


DATABASES = {"default": database_config()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-q2: how scan tasks run.
STOAT_BROKER_URL = os.environ.get("STOAT_BROKER_URL", "")
Q_CLUSTER: dict[str, Any] = {
    # The Redis queue key and stats prefix: deployments (or test runs) sharing a Redis differ here.
    "name": os.environ.get("STOAT_QUEUE_NAME", "stoat"),
    # One more than the cores: while one waits on a file or the database, the others keep every
    # core busy (the web still comes first, see STOAT_WORKER_NICE).
    "workers": int(os.environ.get("STOAT_WORKERS", str((os.cpu_count() or 1) + 1))),
    "recycle": 50,
    # Worker-side limit, kept above the scanner's own limit so a long scan ends itself as
    # `timeout` with its partial result before django-q2 would kill the process.
    "timeout": int(env_float("STOAT_TASK_TIMEOUT", STOAT_JOB_TIME_LIMIT + 300)),
    # django-q2 re-delivers an unacknowledged task after `retry` seconds; it must exceed
    # `timeout`, or a scan that is still running would be started a second time beside itself.
    "retry": int(env_float("STOAT_TASK_RETRY", STOAT_JOB_TIME_LIMIT + 600)),
    # A scan that raised is a failed job with its error text, not something to rerun forever.
    "max_attempts": 1,
    "ack_failures": True,
    # Scans are their own record (the Job row); keep only recent task results.
    "save_limit": 200,
    "catch_up": False,
    "poll": 0.1,
    "label": "Tasks",
}
if STOAT_BROKER_URL:
    Q_CLUSTER["redis"] = STOAT_BROKER_URL
else:
    Q_CLUSTER["orm"] = "default"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Who may come in: every page needs a user, except views marked @login_not_required (and the
# static files, which WhiteNoise answers first).
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "library:index"
# Requests under this prefix are the JSON API: 401 instead of a login redirect, Bearer tokens.
STOAT_API_PREFIX = "/api/"
# Failed sign-ins allowed per address and user name, and per address, before a lockout.
STOAT_LOGIN_FAILURES_PER_USER = int(os.environ.get("STOAT_LOGIN_FAILURES_PER_USER", "5"))
STOAT_LOGIN_FAILURES_PER_IP = int(os.environ.get("STOAT_LOGIN_FAILURES_PER_IP", "30"))
STOAT_LOGIN_LOCKOUT_SECONDS = int(os.environ.get("STOAT_LOGIN_LOCKOUT_SECONDS", "900"))
# Sign-in failure counts live in the cache: per process by default; with several web processes
# set STOAT_CACHE_URL (redis://host:6379/1) so that they all count together.
STOAT_CACHE_URL = os.environ.get("STOAT_CACHE_URL", "")
CACHES: dict[str, Any] = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": STOAT_CACHE_URL,
            "KEY_PREFIX": os.environ.get("STOAT_QUEUE_NAME", "stoat"),
        }
        if STOAT_CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# Behind a reverse proxy, REMOTE_ADDR is the proxy: name the META key it puts the client in
# (e.g. HTTP_X_REAL_IP), so sign-in limits count clients rather than the proxy.
STOAT_CLIENT_IP_HEADER = os.environ.get("STOAT_CLIENT_IP_HEADER", "")

# Security headers. htmx is configured (base.html) to need no eval and no inline style.
STOAT_CSP: dict[str, list[str]] = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# htmx takes the CSRF token from the page (hx-headers), so no script needs the cookie.
CSRF_COOKIE_HTTPONLY = True
# Plain HTTP on this machine or the home network works as it is. Behind a TLS proxy, STOAT_HTTPS=1
# sends cookies over HTTPS only, redirects plain HTTP and turns HSTS on; the proxy says a request
# came over HTTPS in X-Forwarded-Proto (SECURE_PROXY_SSL_HEADER names another header).
STOAT_HTTPS = env_bool("STOAT_HTTPS", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", STOAT_HTTPS)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", STOAT_HTTPS)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", STOAT_HTTPS)
# Load balancers probe the app port itself, over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000" if STOAT_HTTPS else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)


def proxy_ssl_header(value: str) -> tuple[str, str] | None:
    """`X-Forwarded-Proto` or `X-Forwarded-Proto: https` as the META key and value Django wants."""
    if not value.strip():
        return None
    name, _, expected = value.partition(":")
    if "=" in name:
        name, _, expected = name.partition("=")
    key = name.strip().upper().replace("-", "_")
    if not key.startswith("HTTP_"):
        key = "HTTP_" + key
    return key, expected.strip() or "https"


SECURE_PROXY_SSL_HEADER = proxy_ssl_header(
    os.environ.get("SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto" if STOAT_HTTPS else "")
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Only `collectstatic` makes that folder, and stoat needs none: no warning in every web process.
warnings.filterwarnings("ignore", message=re.escape(f"No directory at: {STATIC_ROOT}"))
# Serve straight from the source folders, so no collectstatic step is needed to run.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "stoat": {"handlers": ["console"], "level": "INFO"},
        # With DEBUG off a 500 shows no traceback, so it goes to the log (Django's own handler
        # for it prints only with DEBUG on).
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}
