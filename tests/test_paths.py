from __future__ import annotations

from pathlib import Path

import pytest

from stoat.scans.paths import InvalidPath, PathNotAllowed, check_scan_path


@pytest.mark.parametrize("path", ["/\ud800", "/srv/\x00videos", "/" + "a" * 5000])
def test_unusable_paths_are_invalid_not_a_crash(path: str) -> None:
    with pytest.raises(InvalidPath, match="not a usable path"):
        check_scan_path(path)


def test_a_folder_is_normalised(tmp_path: Path) -> None:
    (tmp_path / "videos").mkdir()
    assert check_scan_path(f"  {tmp_path}/videos/./  ") == str(tmp_path / "videos")


def test_a_file_is_not_a_folder(tmp_path: Path) -> None:
    (tmp_path / "a.mp4").write_bytes(b"x")
    with pytest.raises(InvalidPath, match="is not a folder"):
        check_scan_path(str(tmp_path / "a.mp4"))


def test_a_link_out_of_the_roots_is_not_allowed(tmp_path: Path, settings: object) -> None:
    root = tmp_path / "root"
    (tmp_path / "outside").mkdir()
    root.mkdir()
    (root / "escape").symlink_to(tmp_path / "outside")
    settings.STOAT_SCAN_ROOTS = [str(root)]  # type: ignore[attr-defined]

    assert check_scan_path(str(root)) == str(root)
    with pytest.raises(PathNotAllowed):
        check_scan_path(str(root / "escape"))
