from __future__ import annotations

from pathlib import Path

import pytest

from stoat.scans.mounts import Mount, mount_of, read_mounts
from stoat.scans.paths import InvalidPath, PathNotAllowed, check_scan_path, needs_confirmation


@pytest.mark.parametrize("path", ["/\ud800", "/srv/\x00videos"])
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


def test_a_path_longer_than_the_system_allows_is_called_too_long() -> None:
    with pytest.raises(InvalidPath) as refused:
        check_scan_path("/" + "a" * 4300)
    assert str(refused.value) == (
        "The path is too long: 4,301 bytes, and this system's limit is 4,095."
    )


def test_a_name_longer_than_the_system_allows_is_called_too_long() -> None:
    with pytest.raises(InvalidPath, match="one name in it has 300 bytes, and this system's limit"):
        check_scan_path("/srv/" + "b" * 300 + "/videos")


def test_a_long_path_is_cut_in_the_middle_in_messages(tmp_path: Path) -> None:
    deep = str(tmp_path) + "/" + "/".join(["folder-that-is-not-there"] * 100)

    with pytest.raises(InvalidPath) as refused:
        check_scan_path(deep)

    message = str(refused.value)
    assert message.endswith("folder-that-is-not-there is not a folder (or stoat cannot see it).")
    assert "…" in message
    assert len(message) < 200


@pytest.mark.parametrize(
    ("folder", "kind"),
    [("/proc", "proc"), ("/proc/self", "proc"), ("/sys", "sysfs"), ("/sys/fs/cgroup", None)],
)
def test_the_kernels_virtual_file_systems_are_refused_by_mount_type(
    folder: str, kind: str | None, settings: object
) -> None:
    settings.STOAT_SCAN_ROOTS = []  # type: ignore[attr-defined]
    mount = mount_of(folder, read_mounts())
    assert mount is not None and mount.is_virtual
    with pytest.raises(InvalidPath, match=f"on the kernel's {kind or mount.fs_type} file system"):
        check_scan_path(folder)


def test_dev_is_refused_whatever_file_system_the_kernel_put_there(settings: object) -> None:
    settings.STOAT_SCAN_ROOTS = []  # type: ignore[attr-defined]
    with pytest.raises(InvalidPath, match="holds no videos: stoat does not scan it"):
        check_scan_path("/dev")


def test_the_mount_table_is_read_with_its_escapes_and_the_deepest_mount_wins(
    tmp_path: Path,
) -> None:
    table = tmp_path / "mountinfo"
    table.write_text(
        "27 1 254:0 / / rw - ext4 /dev/vda rw\n"
        "22 27 0:21 / /proc rw - proc proc rw\n"
        "40 27 0:40 / /run rw - tmpfs tmpfs rw\n"
        "41 27 0:41 / /tmp rw - tmpfs tmpfs rw\n"
        "42 27 0:42 / /media/My\\040Videos rw,relatime shared:5 - ext4 /dev/sdb1 rw\n"
        "43 42 0:43 / /media/My\\040Videos rw - nfs server:/v rw\n"
    )
    mounts = read_mounts(str(table))

    assert mount_of("/media/My Videos/2024", mounts) == Mount("/media/My Videos", "nfs")
    assert mount_of("/proc/1", mounts) == Mount("/proc", "proc")
    assert mount_of("/processed", mounts) == Mount("/", "ext4")
    assert [m.point for m in mounts if m.is_virtual] == ["/proc", "/run"]
    assert read_mounts(str(tmp_path / "none")) == []


def test_a_whole_system_asks_for_confirmation_and_a_media_folder_does_not(tmp_path: Path) -> None:
    other_disk = tmp_path / "old-laptop"
    for name in ("etc", "usr", "bin", "home"):
        (other_disk / name).mkdir(parents=True)

    assert needs_confirmation("/") is not None
    assert "is a whole system's root file system" in (needs_confirmation(str(other_disk)) or "")
    assert needs_confirmation(str(other_disk / "home")) is None
