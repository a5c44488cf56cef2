from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import LazySettings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client
from django_q.brokers import get_broker
from django_q.conf import Conf

from stoat.library.models import Video
from stoat.scans.models import Job
from stoat.scans.panels import forget_panels
from stoat.scans.polling import forget_polls
from tests.media import make_clip


@pytest.fixture(autouse=True)
def data_dir(settings: LazySettings, tmp_path: Path) -> Path:
    """Each test writes thumbnails into its own folder."""
    folder = tmp_path / "data"
    settings.STOAT_DATA_DIR = folder
    settings.STOAT_THUMB_DIR = folder / "thumbs"
    settings.STOAT_SCAN_ROOTS = []
    return folder


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: LazySettings) -> None:
    """Users are made in many tests; the real hasher's deliberate slowness would dominate."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_cache(settings: LazySettings) -> Iterator[None]:
    """Sign-in failure counts never leak between tests, and a shared Redis is never flushed."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def fresh_panels() -> Iterator[None]:
    """Job ids repeat between tests (each rolls back), and some tests freeze the clock."""
    forget_panels()
    forget_polls()
    yield
    forget_panels()
    forget_polls()


def make_user(username: str, **fields: Any) -> User:
    return User.objects.create_user(username, password=f"{username}-password-1", **fields)


@pytest.fixture
def staff_user(db: None) -> User:
    return make_user("staff", is_staff=True)


@pytest.fixture
def reader(db: None) -> User:
    """A signed-in user who may look but not scan, cancel or delete (a shared household login)."""
    return make_user("reader")


def signed_in(user: User | None = None, **client_options: Any) -> Client:
    """A new test client signed in as `user` (a staff user by default); for threads too."""
    if user is None:
        # get_or_create re-reads after a lost race, so threads may call this at once.
        user, _ = User.objects.get_or_create(username="staff", defaults={"is_staff": True})
    browser = Client(**client_options)
    browser.force_login(user)
    return browser


@pytest.fixture
def client(staff_user: User) -> Client:
    """The test client, signed in as a staff user: pages need a login, scans need staff."""
    return signed_in(staff_user)


@pytest.fixture
def anon_client() -> Client:
    return Client()


@pytest.fixture
def reader_client(reader: User) -> Client:
    return signed_in(reader)


@pytest.fixture
def library_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "videos"
    folder.mkdir()
    return folder


@pytest.fixture
def clips(library_dir: Path) -> Callable[..., list[Path]]:
    """Write `count` one-second clips into the library folder (or a subfolder)."""

    def write(count: int, *, sub: str = "", ext: str = "mp4", **options: object) -> list[Path]:
        return [
            make_clip(library_dir / sub / f"clip{index:04d}.{ext}", **options)  # type: ignore[arg-type]
            for index in range(count)
        ]

    return write


@pytest.fixture
def sync_tasks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """django-q2 runs each enqueued task at once, in this process (its documented `sync` mode)."""
    monkeypatch.setattr(Conf, "SYNC", True)
    yield


@pytest.fixture(autouse=True)
def no_task_left_in_redis(settings: LazySettings) -> None:
    """A Redis queue outlives a test's transaction: each test starts with it empty."""
    if settings.STOAT_BROKER_URL:
        get_broker().purge_queue()


@pytest.fixture
def empty_queue() -> Iterator[None]:
    """An empty broker queue before and after: a Redis queue outlives the test's transaction."""
    get_broker().purge_queue()
    yield
    get_broker().purge_queue()


def video_count() -> int:
    return Video.objects.count()


def make_job(**fields: object) -> Job:
    """A job row in any state; each gets its own folder so active ones never clash."""
    fields.setdefault("path", f"/srv/videos/{Job.objects.count() + 1}")
    return Job.objects.create(**fields)
