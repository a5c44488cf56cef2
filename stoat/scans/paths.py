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


def inside_roots(real_path: str) -> bool:
    roots = allowed_roots()
    if not roots:
        return True
    return any(real_path == r or real_path.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


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
