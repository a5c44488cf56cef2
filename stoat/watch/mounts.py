"""Which kind of file system a folder is on, read from the kernel's mount table."""

from __future__ import annotations

import os
import re

MOUNTINFO = "/proc/self/mountinfo"
# File systems whose changes the kernel reports as events (inotify): everything else is polled.
LOCAL_TYPES = frozenset(
    {
        "ext2",
        "ext3",
        "ext4",
        "xfs",
        "btrfs",
        "zfs",
        "f2fs",
        "jfs",
        "reiserfs",
        "bcachefs",
        "tmpfs",
        "ramfs",
        "overlay",
        "vfat",
        "exfat",
        "ntfs3",
        "hfsplus",
        "nilfs2",
    }
)
OCTAL_ESCAPE = re.compile(r"\\([0-7]{3})")


def unescape(field: str) -> str:
    # The kernel writes spaces, tabs and backslashes in mount points as \\040, \\011 and \\134.
    return OCTAL_ESCAPE.sub(lambda m: chr(int(m[1], 8)), field)


def mount_type(path: str, table: str | None = None) -> str:
    """The file-system type of the mount holding `path` ("nfs4", "ext4"), or "" if unknown."""
    if table is None:
        try:
            with open(MOUNTINFO, encoding="utf-8", errors="replace") as mounts:
                table = mounts.read()
        except OSError:
            return ""
    real = os.path.realpath(path)
    best, best_type = "", ""
    for line in table.splitlines():
        fields = line.split(" ")
        if "-" not in fields or len(fields) < 5:
            continue
        point = unescape(fields[4])
        kind = fields[fields.index("-") + 1]
        inside = real == point or real.startswith(point.rstrip("/") + "/")
        # The deepest mount point holding the path wins; a later one on the same point hides it.
        if inside and len(point) >= len(best):
            best, best_type = point, kind
    return best_type


def events_work_on(kind: str) -> bool:
    """Whether file-system events can be trusted there; not on NFS, SMB/CIFS, FUSE or unknowns."""
    return kind in LOCAL_TYPES
