"""delete_video removes a file only when it is safe: a regular file, known, inside a scan root."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import LazySettings

from stoat.library.models import Video, display_path, path_key
from stoat.library.services import FileNotDeletable, delete_video
from stoat.scans.paths import PathNotAllowed
from tests.api.conftest import give_thumbnail, make_video

pytestmark = pytest.mark.django_db


def test_without_delete_file_only_the_row_and_thumbnail_go(
    clips: Callable[..., list[Path]], data_dir: Path
) -> None:
    (clip,) = clips(1)
    video = make_video(str(clip))
    thumb = give_thumbnail(video, data_dir / "thumbs")
    delete_video(video)
    assert not Video.objects.exists()
    assert not thumb.exists()
    assert clip.exists()


def test_with_no_scan_roots_set_no_file_may_go(clips: Callable[..., list[Path]]) -> None:
    (clip,) = clips(1)
    with pytest.raises(PathNotAllowed, match="none are set"):
        delete_video(make_video(str(clip)), delete_file=True)
    assert clip.exists()
    assert Video.objects.exists()


def test_a_symlink_is_refused_and_neither_it_nor_its_target_goes(
    clips: Callable[..., list[Path]], scan_root: Path
) -> None:
    (clip,) = clips(1)
    link = scan_root / "link.mp4"
    link.symlink_to(clip)
    video = make_video(str(link))
    with pytest.raises(FileNotDeletable, match="symbolic link"):
        delete_video(video, delete_file=True)
    assert link.is_symlink() and clip.exists()
    assert Video.objects.filter(pk=video.pk).exists()


def test_a_link_leading_out_of_the_roots_is_refused_as_not_allowed(
    settings: LazySettings, tmp_path: Path, clips: Callable[..., list[Path]]
) -> None:
    (clip,) = clips(1)
    root = tmp_path / "root"
    root.mkdir()
    (root / "outside").symlink_to(clip.parent)
    settings.STOAT_SCAN_ROOTS = [str(root)]
    video = make_video(str(root / "outside" / clip.name))
    with pytest.raises(PathNotAllowed):
        delete_video(video, delete_file=True)
    assert clip.exists()


def test_a_folder_in_place_of_the_file_is_refused(scan_root: Path) -> None:
    folder = scan_root / "looks-like.mp4"
    folder.mkdir()
    video = make_video(str(folder))
    with pytest.raises(FileNotDeletable, match="not a regular file"):
        delete_video(video, delete_file=True)
    assert folder.is_dir()


def test_a_row_whose_path_does_not_match_its_key_is_refused(
    clips: Callable[..., list[Path]], scan_root: Path
) -> None:
    (clip,) = clips(1)
    video = make_video(str(clip), path_key="0" * 64)
    with pytest.raises(FileNotDeletable, match="cannot tell which file"):
        delete_video(video, delete_file=True)
    assert clip.exists()


def test_a_file_whose_name_is_not_utf8_is_found_by_its_key_and_removed(
    scan_root: Path, clips: Callable[..., list[Path]]
) -> None:
    (clip,) = clips(1)
    odd = os.path.join(os.fsencode(scan_root), b"caf\xe9.mp4")
    os.rename(clip, odd)
    real = os.fsdecode(odd)
    video = make_video(display_path(real), path_key=path_key(real))
    assert video.path.endswith("caf\\xe9.mp4")

    delete_video(video, delete_file=True)

    assert not os.path.exists(odd)
    assert not Video.objects.exists()


def test_a_path_that_cannot_be_reached_is_refused_with_the_reason(
    clips: Callable[..., list[Path]], scan_root: Path
) -> None:
    (clip,) = clips(1)
    video = make_video(str(clip / "inside-a-file.mp4"))
    with pytest.raises(FileNotDeletable, match="cannot reach .*Not a directory"):
        delete_video(video, delete_file=True)
    assert Video.objects.filter(pk=video.pk).exists()
