"""Which folders may be scanned: one check shared by the form, the API and the command."""

from __future__ import annotations

import errno
import os
import stat

from django.conf import settings

from stoat.scans.mounts import is_system_root, mount_of, read_mounts
from stoat.scans.within import is_within


def system_limit(name: str, default: int) -> int:
    try:
        return os.pathconf("/", name)
    except (OSError, ValueError):  # pragma: no cover - a system without the limit
        return default


# The system's limits, in bytes: a whole path, and one file or folder name in it.
MAX_PATH_LENGTH = system_limit("PC_PATH_MAX", 4096)
MAX_NAME_LENGTH = system_limit("PC_NAME_MAX", 255)
# A path in a message is cut to this many characters, keeping its start and its end.
SHOWN_LENGTH = 120


class InvalidPath(ValueError):
    """The path is not a folder that can be scanned."""


class PathNotAllowed(PermissionError):
    """The folder lies outside the configured scan roots."""


def shown(path: str) -> str:
    """A path short enough to read in a message: a long one loses its middle."""
    if len(path) <= SHOWN_LENGTH:
        return path
    keep = (SHOWN_LENGTH - 1) // 2
    return f"{path[:keep]}…{path[-keep:]}"


def too_long(encoded: bytes) -> str | None:
    """Why the system would refuse this path for its length, if it would."""
    if len(encoded) >= MAX_PATH_LENGTH:
        return (
            f"The path is too long: {len(encoded):,} bytes, and this system's limit is "
            f"{MAX_PATH_LENGTH - 1:,}."
        )
    longest = max((len(part) for part in encoded.split(b"/")), default=0)
    if longest > MAX_NAME_LENGTH:
        return (
            f"The path is too long: one name in it has {longest:,} bytes, and this system's "
            f"limit for a file or folder name is {MAX_NAME_LENGTH:,}."
        )
    return None


def needs_confirmation(path: str) -> str | None:
    """Why scanning this folder deserves a second thought (a whole system), if it does."""
    real = os.path.realpath(path)
    if not is_system_root(real):
        return None
    return (
        f"{shown(path)} is a whole system's root file system: scanning it reads every folder "
        "on the disk and may take hours. Tick “Yes, scan all of it” and press Scan again "
        "if that is what you want."
    )


def allowed_roots() -> list[str]:
    return [os.path.realpath(root) for root in settings.STOAT_SCAN_ROOTS]


def identity(path: str) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return (info.st_dev, info.st_ino)


def inside_roots(real_path: str) -> bool:
    """Whether a resolved path lies in a scan root (any path when no roots are set).

    The spelling is compared first; on a case-insensitive file system `/Media` and `/media` are
    one folder with two spellings, so the folders above the path are also compared by identity.
    """
    roots = allowed_roots()
    if not roots:
        return True
    real_path = os.path.normcase(real_path)
    if is_within(real_path, map(os.path.normcase, roots)):
        return True
    root_ids = {found for found in map(identity, roots) if found is not None}
    folder = real_path
    while True:
        if identity(folder) in root_ids:
            return True
        parent = os.path.dirname(folder)
        if parent == folder:
            return False
        folder = parent


def check_scan_path(path: str) -> str:
    """The folder to scan, made absolute and normalised; raises InvalidPath or PathNotAllowed."""
    path = path.strip()
    if not path:
        raise InvalidPath("Enter the path of a folder to scan.")
    try:
        encoded = path.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        encoded = b"\x00"  # a lone surrogate names no file on any disk
    if b"\x00" in encoded:
        raise InvalidPath("That is not a usable path.")
    length_problem = too_long(encoded)
    if length_problem:
        raise InvalidPath(length_problem)
    if not os.path.isabs(path):
        raise InvalidPath(f"Give an absolute path (starting with /), not {shown(path)!r}.")
    normal = os.path.normpath(path)
    real = os.path.realpath(normal)
    # Checked before existence, so nothing is revealed about folders outside the roots.
    if not inside_roots(real):
        raise PathNotAllowed(f"{shown(normal)} is outside the folders stoat may scan.")
    try:
        is_dir = stat.S_ISDIR(os.stat(real).st_mode)
    except OSError as error:
        if error.errno == errno.ENAMETOOLONG:
            # Short enough as typed, but not once its links are resolved.
            raise InvalidPath("The path is too long for this system.") from error
        is_dir = False
    except ValueError:
        is_dir = False
    if not is_dir:
        raise InvalidPath(f"{shown(normal)} is not a folder (or stoat cannot see it).")
    mount = mount_of(real, read_mounts())
    if mount is not None and mount.is_virtual:
        raise InvalidPath(
            f"{shown(normal)} is on the kernel's {mount.fs_type} file system ({mount.point}), "
            "which holds no videos: stoat does not scan it."
        )
    if not os.access(real, os.R_OK | os.X_OK):
        raise InvalidPath(f"stoat may not read the folder {shown(normal)}.")
    return normal
