from __future__ import annotations

import os
import uuid
from pathlib import Path

from stoat.library.probe import describe_os_error
from stoat.scans.walker import CHUNK, FileEntry, WalkError, walk, walk_chunks
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


def test_a_library_walk_passes_over_hidden_files_and_nas_folders(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "a.mp4")
    os.link(clip, tmp_path / "._a.mp4")
    (tmp_path / "@eaDir").mkdir()
    os.link(clip, tmp_path / "@eaDir" / "b.mp4")
    (tmp_path / ".hidden").mkdir()
    os.link(clip, tmp_path / ".hidden" / "c.mp4")

    assert paths(tmp_path, skip_system=True) == ["a.mp4"]
    assert paths(tmp_path) == ["._a.mp4", ".hidden/c.mp4", "@eaDir/b.mp4", "a.mp4"]


def test_a_large_folder_comes_in_chunks_in_name_order_with_its_errors_in_place(
    tmp_path: Path,
) -> None:
    clip = make_clip(tmp_path / "source.mkv")
    count = CHUNK * 2 + 3
    for index in range(count):
        os.link(clip, tmp_path / f"clip{index:04d}.mp4")
    os.mkfifo(tmp_path / "clip0100x.mp4")

    chunks = list(walk_chunks(str(tmp_path), extensions=EXTS))
    entries = list(walk(str(tmp_path), extensions=EXTS))

    assert [len(files) for files, _ in chunks] == [CHUNK, CHUNK, 4]
    found = [path for files, _ in chunks for path, _, _ in files]
    assert found == sorted(found) and len(found) == count + 1
    names = [os.path.basename(entry.path) for entry in entries]
    assert names == sorted(names) and len(names) == count + 2
    error = entries[names.index("clip0100x.mp4")]
    assert isinstance(error, WalkError) and not error.folder
