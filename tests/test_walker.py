from __future__ import annotations

import os
import uuid
from pathlib import Path

from stoat.library.probe import describe_os_error
from stoat.scans.walker import FileEntry, WalkError, walk
from tests.media import make_clip

EXTS = ["mp4", "mkv"]


def paths(root: Path, **options: object) -> list[str]:
    found = walk(str(root), extensions=EXTS, **options)  # type: ignore[arg-type]
    return sorted(os.path.relpath(e.path, root) for e in found if isinstance(e, FileEntry))


def test_it_finds_video_files_recursively_by_extension(tmp_path: Path) -> None:
    make_clip(tmp_path / "a.mp4")
    make_clip(tmp_path / "sub" / "deeper" / "b.MKV")
    (tmp_path / "notes.txt").write_text("hi")
    (tmp_path / "noext").write_text("hi")

    assert paths(tmp_path) == ["a.mp4", "sub/deeper/b.MKV"]


def test_it_stays_in_the_folder_when_not_recursive(tmp_path: Path) -> None:
    make_clip(tmp_path / "a.mp4")
    make_clip(tmp_path / "sub" / "b.mp4")

    assert paths(tmp_path, recursive=False) == ["a.mp4"]


def test_entries_carry_size_and_mtime(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "a.mp4")
    (entry,) = walk(str(tmp_path), extensions=EXTS)
    assert entry == FileEntry(str(clip), clip.stat().st_size, clip.stat().st_mtime_ns)


def test_fifos_and_folders_with_video_names_are_not_files(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "x.mp4")
    (tmp_path / "x.mkv").mkdir()
    make_clip(tmp_path / "x.mkv" / "inside.mp4")

    assert paths(tmp_path) == ["x.mkv/inside.mp4"]


def test_symlink_loops_end_and_links_leaving_the_folder_are_ignored(tmp_path: Path) -> None:
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    make_clip(root / "sub" / "a.mp4")
    make_clip(outside / "secret.mp4")
    (root / "sub" / "loop").symlink_to(root)
    (root / "out").symlink_to(outside)
    (root / "out.mp4").symlink_to(outside / "secret.mp4")
    (root / "broken.mp4").symlink_to(tmp_path / "nowhere.mp4")
    (root / "inside.mp4").symlink_to(root / "sub" / "a.mp4")

    assert paths(root) == ["inside.mp4", "sub/a.mp4"]


def test_links_inside_allowed_roots_are_followed(tmp_path: Path) -> None:
    root = tmp_path / "root"
    other = tmp_path / "other"
    make_clip(other / "b.mp4")
    root.mkdir()
    (root / "link").symlink_to(other)

    assert paths(root, allowed_roots=[str(tmp_path)]) == ["link/b.mp4"]


def test_a_missing_folder_is_one_error(tmp_path: Path) -> None:
    (error,) = walk(str(tmp_path / "gone"), extensions=EXTS)
    assert isinstance(error, WalkError)
    assert "disappeared" in error.message


def test_a_folder_that_cannot_be_read_is_called_a_folder() -> None:
    denied = describe_os_error(PermissionError(13, "Permission denied"), "folder")
    gone = describe_os_error(FileNotFoundError(2, "No such file"), "folder")

    assert denied == "permission denied: stoat may not read this folder"
    assert gone == "the folder disappeared during the scan"


def test_a_walk_does_not_enter_the_kernels_file_systems_below_it() -> None:
    # /dev/shm is the system's tmpfs under /dev: a walk of /dev passes it by, one of it does not.
    clip = make_clip(Path("/dev/shm") / f"stoat-walker-{uuid.uuid4().hex}.mp4")
    try:
        from_dev = [e.path for e in walk("/dev", extensions=EXTS) if isinstance(e, FileEntry)]
        from_shm = [e.path for e in walk("/dev/shm", extensions=EXTS) if isinstance(e, FileEntry)]
    finally:
        clip.unlink()

    assert str(clip) not in from_dev
    assert str(clip) in from_shm
