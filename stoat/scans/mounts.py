"""Which file system holds a folder, read from the kernel's mount table (no Django here)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from stoat.scans.within import is_within

MOUNTINFO = "/proc/self/mountinfo"
# File systems the kernel makes up on the fly: reading them indexes no video and can hang.
VIRTUAL_TYPES = frozenset(
    {
        "proc",
        "sysfs",
        "devtmpfs",
        "devpts",
        "cgroup",
        "cgroup2",
        "securityfs",
        "debugfs",
        "tracefs",
        "pstore",
        "bpf",
        "configfs",
        "fusectl",
        "mqueue",
        "hugetlbfs",
        "binfmt_misc",
        "efivarfs",
        "selinuxfs",
        "rpc_pipefs",
        "nsfs",
        "autofs",
        "nfsd",
    }
)
# A tmpfs holds real files (/tmp), except where the system keeps its runtime state.
SYSTEM_TMPFS = ("/run", "/dev", "/sys", "/proc")


@dataclass(frozen=True)
class Mount:
    point: str
    fs_type: str

    @property
    def is_virtual(self) -> bool:
        if self.fs_type in VIRTUAL_TYPES:
            return True
        return self.fs_type == "tmpfs" and any(
            self.point == top or self.point.startswith(top + "/") for top in SYSTEM_TMPFS
        )


def unescape(field: str) -> str:
    """Mount points write a space, tab, newline or backslash as an octal escape (\\040)."""
    for code in ("\\040", "\\011", "\\012", "\\134"):
        field = field.replace(code, chr(int(code[1:], 8)))
    return field


def read_mounts(table: str = MOUNTINFO) -> list[Mount]:
    """Every mount, in the kernel's order (a later mount on a point covers an earlier one)."""
    try:
        with open(table, encoding="utf-8", errors="surrogateescape") as lines:
            rows = lines.read().splitlines()
    except OSError:
        return []  # no /proc (another system): nothing is known to be virtual
    mounts = []
    for row in rows:
        before, _, after = row.partition(" - ")
        fields, kinds = before.split(), after.split()
        if len(fields) >= 5 and kinds:
            mounts.append(Mount(point=unescape(fields[4]), fs_type=kinds[0]))
    return mounts


def mount_of(real_path: str, mounts: list[Mount]) -> Mount | None:
    """The mount a resolved path lies on: the deepest mount point above it, the last one there."""
    best: Mount | None = None
    for mount in mounts:
        if is_within(real_path, [mount.point]) and (
            best is None or len(mount.point) >= len(best.point)
        ):
            best = mount
    return best


def virtual_mount_points(mounts: list[Mount]) -> frozenset[str]:
    return frozenset(mount.point for mount in mounts if mount.is_virtual)


# Folders that every installed Linux system has at the top of its root file system.
SYSTEM_FOLDERS = ("etc", "usr", "bin")


def is_system_root(real_path: str) -> bool:
    """`/`, or a folder that holds a whole system (a mounted disk of another machine, a chroot)."""
    if real_path == "/":
        return True
    return all(os.path.isdir(os.path.join(real_path, name)) for name in SYSTEM_FOLDERS)
