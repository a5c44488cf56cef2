"""Only the folders in STOAT_SCAN_ROOTS may be scanned, and only files in them deleted."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import LazySettings
from django.core.management import CommandError, call_command
from django.core.management.base import SystemCheckError
from django.test import Client
from django.urls import reverse

from stoat.library.models import Video
from stoat.scans import lifecycle
from stoat.scans.models import Job, Status
from stoat.scans.paths import (
    PathNotAllowed,
    check_scan_path,
    inside_roots,
)
from stoat.scans.runner import run_here
from stoat.scans.walker import WalkError, walk
from tests.media import make_clip


@pytest.fixture
def root(tmp_path: Path, settings: LazySettings) -> Path:
    """The one scan root, with an `outside` folder beside it holding a clip."""
    folder = tmp_path / "videos"
    folder.mkdir()
    make_clip(tmp_path / "outside" / "secret.mp4")
    settings.STOAT_SCAN_ROOTS = [str(folder)]
    return folder


def escapes(root: Path) -> list[str]:
    """Paths that look as if they were in the root but are not, after resolving."""
    (root / "link-out").symlink_to(root.parent / "outside")
    (root.parent / "VIDEOS").mkdir()
    (root.parent / "videos-2").mkdir()
    return [
        f"{root}/../outside",
        f"{root}/sub/../../outside",
        f"{root}/link-out",
        f"{root}/link-out/",
        str(root.parent / "VIDEOS"),  # another folder on a case-sensitive file system
        str(root.parent / "videos-2"),  # shares the root's spelling as a prefix
        "/",
    ]


def test_paths_that_escape_the_root_are_not_allowed(root: Path) -> None:
    for path in escapes(root):
        with pytest.raises(PathNotAllowed):
            check_scan_path(path)


def test_folders_inside_the_root_are_allowed_however_they_are_written(root: Path) -> None:
    (root / "sub").mkdir()
    (root / "link-in").symlink_to(root / "sub")
    assert check_scan_path(f"{root}/sub/../sub/") == f"{root}/sub"
    assert check_scan_path(f"{root}/link-in") == f"{root}/link-in"
    assert check_scan_path(str(root)) == str(root)


def test_nothing_is_said_about_folders_outside_the_root(root: Path) -> None:
    with pytest.raises(PathNotAllowed):
        check_scan_path("/no/such/folder")


def test_a_root_named_through_a_link_covers_the_real_folder(
    tmp_path: Path, settings: LazySettings
) -> None:
    real = tmp_path / "media"
    (real / "films").mkdir(parents=True)
    # A root named through a link resolves to the real folder, so both spellings match.
    (tmp_path / "alias").symlink_to(real)
    settings.STOAT_SCAN_ROOTS = [str(tmp_path / "alias")]
    assert inside_roots(str(real / "films"))
    assert not inside_roots(str(tmp_path))


@pytest.mark.django_db
def test_the_scan_form_refuses_an_escape_with_403_and_starts_nothing(
    client: Client, root: Path
) -> None:
    for path in escapes(root):
        response = client.post(reverse("scans:start"), {"path": path})
        assert response.status_code == 403, path
        assert b"outside the folders stoat may scan" in response.content
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_a_folder_that_is_not_there_is_a_400(client: Client, root: Path) -> None:
    response = client.post(reverse("scans:start"), {"path": str(root / "nope")})
    assert response.status_code == 400


@pytest.mark.django_db
def test_the_scan_command_refuses_an_escape(root: Path) -> None:
    with pytest.raises(CommandError, match="outside the folders stoat may scan"):
        call_command("scan", f"{root}/../outside")
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_a_link_inside_the_root_to_outside_is_neither_followed_nor_indexed(root: Path) -> None:
    make_clip(root / "mine.mp4")
    (root / "link-out").symlink_to(root.parent / "outside")
    (root / "secret.mp4").symlink_to(root.parent / "outside" / "secret.mp4")
    job = lifecycle.create_scan(str(root), True).job
    run_here(job)
    job.refresh_from_db()
    assert job.status == Status.COMPLETE
    assert list(Video.objects.values_list("filename", flat=True)) == ["mine.mp4"]


@pytest.mark.django_db
def test_a_folder_swapped_for_a_link_after_the_scan_was_asked_for_is_not_read(
    root: Path,
) -> None:
    (root / "films").mkdir()
    job = lifecycle.create_scan(str(root / "films"), True).job
    (root / "films").rmdir()
    (root / "films").symlink_to(root.parent / "outside")
    run_here(job)
    assert not Video.objects.exists()
    assert job.file_errors.get().message == "folder is outside the folders stoat may scan"


def test_the_walker_reports_a_start_folder_outside_its_roots(root: Path) -> None:
    outside = str(root.parent / "outside")
    assert list(walk(outside, extensions=["mp4"], allowed_roots=[str(root)])) == [
        WalkError(outside, "folder is outside the folders stoat may scan")
    ]


def test_deploy_checks_ask_for_scan_roots(settings: LazySettings) -> None:
    settings.STOAT_SCAN_ROOTS = []
    with pytest.raises(SystemCheckError, match="stoat.W001"):
        call_command("check", "--deploy", "--fail-level", "WARNING", "--tag", "security")
