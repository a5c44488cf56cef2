"""Changes to the library that the API (and later the pages) ask for."""

from __future__ import annotations

import os
import re
import stat

from django.conf import settings
from django.db import transaction

from stoat.library.models import Video, path_key
from stoat.scans.paths import PathNotAllowed, inside_roots

ESCAPED_BYTE = re.compile(rb"\\x([0-9a-f]{2})")


class FileNotDeletable(Exception):
    """The video's file cannot be removed safely; nothing was changed."""


def file_on_disk(video: Video) -> str:
    """The file path the scanner recorded for this video, checked against its `path_key`.

    Names that are not UTF-8 are stored with their odd bytes written as `\\xNN`; undoing that
    finds the real name, and the key (a hash of the real name) says whether it is the same file.
    """
    raw = ESCAPED_BYTE.sub(lambda m: bytes([int(m[1], 16)]), video.path.encode("utf-8"))
    for candidate in (video.path, os.fsdecode(raw)):
        if path_key(candidate) == video.path_key:
            return candidate
    raise FileNotDeletable(f"stoat cannot tell which file on disk {video.path} is.")


def deletable_file(video: Video) -> str:
    """The path to remove with the video, or an exception saying why it must stay."""
    path = file_on_disk(video)
    real = os.path.realpath(path)
    if not settings.STOAT_SCAN_ROOTS:
        # "Any folder" is fine for reading; deleting needs folders someone chose.
        raise PathNotAllowed("stoat deletes files only inside STOAT_SCAN_ROOTS, and none are set.")
    if not inside_roots(real):
        raise PathNotAllowed(f"{video.path} is outside the folders stoat may change.")
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError as error:
        raise FileNotDeletable(f"{video.path} is no longer on disk.") from error
    except OSError as error:
        raise FileNotDeletable(f"stoat cannot reach {video.path}: {error.strerror}.") from error
    if stat.S_ISLNK(mode):
        raise FileNotDeletable(f"{video.path} is a symbolic link; stoat removes only real files.")
    if not stat.S_ISREG(mode):
        raise FileNotDeletable(f"{video.path} is not a regular file.")
    return path


def delete_video(video: Video, delete_file: bool = False) -> None:
    """Remove the video from the library with its thumbnail, and with `delete_file` its file.

    The file goes only when it is a regular file inside an allowed scan root; otherwise this
    raises PathNotAllowed or FileNotDeletable and changes nothing.
    """
    path = deletable_file(video) if delete_file else None
    thumbnail = settings.STOAT_THUMB_DIR / video.thumbnail if video.thumbnail else None
    with transaction.atomic():
        video.delete()
        if path is not None:
            try:
                os.remove(path)
            except OSError as error:
                # Raising here rolls the row back: the entry stays while its file does.
                raise FileNotDeletable(
                    f"stoat could not remove {video.path}: {error.strerror}."
                ) from error
    if thumbnail is not None:
        # Only once the row is gone, so a refused delete never leaves an entry without its picture.
        thumbnail.unlink(missing_ok=True)
