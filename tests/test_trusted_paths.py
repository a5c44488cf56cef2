"""Paths stoat reads or removes are its own: never taken from an editable row, never redirected."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db.models.signals import pre_delete
from django.test import Client
from django.urls import reverse

from stoat.library.libraries import remove_library
from stoat.library.models import Library, Video
from stoat.library.services import FileNotDeletable, delete_video
from tests.api.conftest import give_thumbnail, make_video
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db

SECRET = b"SECRET_KEY = 'do not serve me'"
Clips = Callable[..., list[Path]]


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A file the server process can read that no reader may download or delete."""
    path = tmp_path / "private" / "settings.env"
    path.parent.mkdir()
    path.write_bytes(SECRET)
    return path


def hostile_names(secret: Path, data_dir: Path) -> list[str]:
    return [
        str(secret),  # absolute: `thumbs / "/x"` is "/x"
        os.path.relpath(secret, data_dir / "thumbs"),  # ../../private/settings.env
        "ab/../../private/settings.env",
    ]


def test_a_thumbnail_name_pointing_out_of_the_thumbnail_folder_serves_the_placeholder(
    client: Client, secret: Path, data_dir: Path
) -> None:
    video = make_video()
    for name in hostile_names(secret, data_dir):
        Video.objects.filter(pk=video.pk).update(thumbnail=name)
        for url in (
            reverse("library:thumbnail", args=[video.pk]),
            f"/api/v1/videos/{video.pk}/thumbnail",
        ):
            response = client.get(url)
            assert response.status_code == 200, (name, url)
            assert SECRET not in b"".join(response.streaming_content), (name, url)  # type: ignore[attr-defined]
        assert client.get(f"/api/v1/videos/{video.pk}").json()["thumbnail_path"] is None


def test_deleting_a_video_never_removes_a_file_its_thumbnail_name_points_at(
    secret: Path, data_dir: Path
) -> None:
    for name in hostile_names(secret, data_dir):
        video = make_video(thumbnail=name)
        delete_video(video)
        assert secret.read_bytes() == SECRET, name


def test_forgetting_a_librarys_videos_never_removes_a_file_a_thumbnail_name_points_at(
    secret: Path, library_dir: Path
) -> None:
    library = Library.objects.create(name="Films", path=str(library_dir))
    make_video(str(library_dir / "a.mp4"), thumbnail=str(secret))
    remove_library(library, forget_videos=True)
    assert not Video.objects.exists()
    assert secret.read_bytes() == SECRET


def test_a_thumbnail_stoat_wrote_is_still_served_and_removed(
    client: Client, data_dir: Path
) -> None:
    video = make_video()
    thumb = give_thumbnail(video, data_dir / "thumbs", b"\xff\xd8 the real one")
    response = client.get(f"/api/v1/videos/{video.pk}/thumbnail")
    assert b"".join(response.streaming_content) == b"\xff\xd8 the real one"  # type: ignore[attr-defined]
    delete_video(video)
    assert not thumb.exists()


def test_the_admin_cannot_change_a_videos_thumbnail_name(secret: Path) -> None:
    admin = User.objects.create_superuser("root", password="root-password-1")
    video = make_video()
    browser = signed_in(admin)
    change = reverse("admin:library_video_change", args=[video.pk])

    page = browser.get(change)
    assert page.status_code == 200
    assert 'name="thumbnail"' not in page.content.decode()
    refused = browser.post(change, {"thumbnail": str(secret), "path": video.path})
    assert refused.status_code == 403
    assert Video.objects.get(pk=video.pk).thumbnail == ""


@pytest.fixture
def swap_on_delete() -> Iterator[list[Callable[[], None]]]:
    """Runs the given swaps when the video row is deleted: between the check and the removal."""
    swaps: list[Callable[[], None]] = []

    def swap(sender: Any, **kwargs: Any) -> None:
        for action in swaps:
            action()

    pre_delete.connect(swap, sender=Video)
    yield swaps
    pre_delete.disconnect(swap, sender=Video)


def test_a_folder_swapped_for_a_link_after_the_check_does_not_redirect_the_removal(
    settings: Any, tmp_path: Path, swap_on_delete: list[Callable[[], None]]
) -> None:
    root = tmp_path / "root"
    (root / "films").mkdir(parents=True)
    checked = root / "films" / "a.mp4"
    checked.write_bytes(b"the file asked for")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    victim = elsewhere / "a.mp4"
    victim.write_bytes(b"not stoat's to remove")
    settings.STOAT_SCAN_ROOTS = [str(root)]

    def swap() -> None:
        (root / "films").rename(root / "films-moved")
        (root / "films").symlink_to(elsewhere, target_is_directory=True)

    swap_on_delete.append(swap)
    delete_video(make_video(str(checked)), delete_file=True)

    assert victim.read_bytes() == b"not stoat's to remove"
    assert not (root / "films-moved" / "a.mp4").exists()
    assert not Video.objects.exists()


def test_a_file_replaced_after_the_check_is_kept_and_so_is_its_row(
    settings: Any, library_dir: Path, swap_on_delete: list[Callable[[], None]]
) -> None:
    checked = library_dir / "a.mp4"
    checked.write_bytes(b"checked")
    settings.STOAT_SCAN_ROOTS = [str(library_dir)]
    video = make_video(str(checked))
    pk = video.pk

    def swap() -> None:
        replacement = library_dir / "new.tmp"
        replacement.write_bytes(b"arrived later")
        os.replace(replacement, checked)

    swap_on_delete.append(swap)
    with pytest.raises(FileNotDeletable, match="changed since it was checked"):
        delete_video(video, delete_file=True)

    assert checked.read_bytes() == b"arrived later"
    assert Video.objects.filter(pk=pk).exists()
