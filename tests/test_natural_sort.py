"""Names sort as a person reads them (clip2 before clip10), by a key the database indexes."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from stoat.library.models import Video, name_key
from stoat.library.queries import library_videos
from stoat.scans import lifecycle
from stoat.scans.runner import run_here
from tests.media import make_clip
from tests.test_search import add_video

pytestmark = pytest.mark.django_db

NAMES = ["copy129.mp4", "Clip10.mp4", "clip2.mp4", "copy13.mp4", "clip1.mp4", "clip02b.mp4"]
NATURAL = ["clip1.mp4", "clip2.mp4", "clip02b.mp4", "Clip10.mp4", "copy13.mp4", "copy129.mp4"]


def test_the_key_puts_numbers_in_numeric_order_and_ignores_case() -> None:
    assert sorted(NAMES, key=name_key) == NATURAL
    assert name_key("Clip007.MP4") == name_key("clip7.mp4")
    assert name_key("a0") < name_key("a1") < name_key("a9") < name_key("a10") < name_key("b")


def test_the_key_keeps_to_its_column_for_any_name() -> None:
    assert len(name_key("9" * 300 + "x" * 2000)) == 255
    assert name_key("") == ""


def test_the_library_lists_names_naturally_both_ways(client: Client) -> None:
    for name in NAMES:
        add_video(f"/srv/v/{name}")

    ascending = [v.filename for v in library_videos(Video.objects.all(), sort="name")]
    descending = [v.filename for v in library_videos(Video.objects.all(), sort="-name")]
    page = client.get("/").content.decode()

    assert ascending == NATURAL
    assert descending == NATURAL[::-1]
    shown = [page.index(f">{name}<") for name in NATURAL]
    assert shown == sorted(shown)


def test_a_scan_stores_the_key_with_each_video(library_dir: Path) -> None:
    for name in ("take10.mp4", "take9.mp4", "take100.mp4"):
        make_clip(library_dir / name)
    job = lifecycle.create_scan(str(library_dir), True).job

    run_here(job)

    names = list(Video.objects.values_list("filename", flat=True))
    assert names == ["take9.mp4", "take10.mp4", "take100.mp4"]
    assert all(v.name_order == name_key(v.filename) for v in Video.objects.all())


def test_the_admin_lists_videos_naturally(client: Client) -> None:
    User.objects.create_superuser("root", "root@example.com", "pw-for-tests-only")
    client.login(username="root", password="pw-for-tests-only")
    for name in NAMES:
        add_video(f"/srv/v/{name}")

    page = client.get(reverse("admin:library_video_changelist")).content.decode()
    by_name = client.get(reverse("admin:library_video_changelist"), {"o": "-0"}).content.decode()

    shown = [page.index(f">{name}<") for name in NATURAL]
    assert shown == sorted(shown)
    reverse_shown = [by_name.index(f">{name}<") for name in NATURAL]
    assert reverse_shown == sorted(reverse_shown, reverse=True)
