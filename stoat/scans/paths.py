"""Which folders may be scanned: one check shared by the form, the API and the command."""

from __future__ import annotations

import os

from django.conf import settings

# Longest path accepted from a user; Linux refuses longer ones anyway.
MAX_PATH_LENGTH = 4096


class InvalidPath(ValueError):
    """The path is not a folder that can be scanned."""


class PathNotAllowed(PermissionError):
    """The folder lies outside the configured scan roots."""


def allowed_roots() -> list[str]:
    return [os.path.realpath(root) for root in settings.STOAT_SCAN_ROOTS]


def under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


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
    if any(under(real_path, os.path.normcase(root)) for root in roots):
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
    if b"\x00" in encoded or len(encoded) > MAX_PATH_LENGTH:
        raise InvalidPath("That is not a usable path.")
    if not os.path.isabs(path):
        raise InvalidPath(f"Give an absolute path (starting with /), not {path!r}.")
    normal = os.path.normpath(path)
    real = os.path.realpath(normal)
    # Checked before existence, so nothing is revealed about folders outside the roots.
    if not inside_roots(real):
        raise PathNotAllowed(f"{normal} is outside the folders stoat may scan.")
    try:
        is_dir = os.path.isdir(real)
    except (OSError, ValueError):
        is_dir = False
    if not is_dir:
        raise InvalidPath(f"{normal} is not a folder (or stoat cannot see it).")
    if not os.access(real, os.R_OK | os.X_OK):
        raise InvalidPath(f"stoat may not read the folder {normal}.")
    return normal
