"""Changes to the library that the API (and later the pages) ask for."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction

from stoat.library.models import Video, path_key
from stoat.library.thumbnails import is_thumbnail_name
from stoat.scans.paths import PathNotAllowed, inside_roots

ESCAPED_BYTE = re.compile(rb"\\x([0-9a-f]{2})")
CHANGED = "{} changed since it was checked; it was kept."


class FileNotDeletable(Exception):
    """The video's file cannot be removed safely; nothing was changed."""


def thumbnail_file(video: Video) -> Path | None:
    """The video's thumbnail in the thumbnail folder, or None when it has none.

    The stored name can be changed in the database by hand: a name stoat would not have written
    (an absolute path, `../`) is refused, so reading or deleting never reaches another file.
    """
    if not is_thumbnail_name(video.thumbnail):
        return None
    return Path(settings.STOAT_THUMB_DIR) / video.thumbnail


def file_on_disk(video: Video) -> str:
    """The file path the scanner recorded for this video, checked against its `path_key`.

    Names that are not UTF-8 are stored with their odd bytes written as `\\xNN`; undoing that
    finds the real name, and the key (a hash of the real name) says whether it is the same file.
    """
    return real_path(video.path, video.path_key)


def real_path(path: str, key: str) -> str:
    """The file path on disk of a stored `path` and its `key` (see file_on_disk)."""
    if path_key(path) == key:
        return path
    raw = ESCAPED_BYTE.sub(lambda m: bytes([int(m[1], 16)]), path.encode("utf-8"))
    if path_key(os.fsdecode(raw)) == key:
        return os.fsdecode(raw)
    raise FileNotDeletable(f"stoat cannot tell which file on disk {path} is.")


@dataclass(frozen=True)
class CheckedFile:
    """A file checked for removal, its folder held open: no later swap can redirect the removal."""

    folder: int  # a descriptor of the resolved folder the file was found in
    name: str
    identity: tuple[int, int]  # (device, inode) of the file that was checked
    shown: str

    def remove(self) -> None:
        """Unlink exactly the file that was checked, or raise FileNotDeletable and keep it."""
        try:
            info = os.lstat(self.name, dir_fd=self.folder)
            if (info.st_dev, info.st_ino) != self.identity:
                raise FileNotDeletable(CHANGED.format(self.shown))
            os.unlink(self.name, dir_fd=self.folder)
        except OSError as error:
            raise FileNotDeletable(
                f"stoat could not remove {self.shown}: {error.strerror}."
            ) from error


def held_folder_path(fd: int, fallback: str) -> str:
    # The kernel's name for the folder actually opened, so a swap before the open is seen.
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:  # pragma: no cover - a system without /proc
        return fallback


@contextmanager
def checked_file(video: Video) -> Iterator[CheckedFile]:
    """The video's file, checked to be a regular file inside an allowed scan root and held
    so that `remove` deletes that file and no other; raises PathNotAllowed or FileNotDeletable.
    """
    path = file_on_disk(video)
    if not settings.STOAT_SCAN_ROOTS:
        # "Any folder" is fine for reading; deleting needs folders someone chose.
        raise PathNotAllowed("stoat deletes files only inside STOAT_SCAN_ROOTS, and none are set.")
    try:
        first = os.lstat(path)
    except FileNotFoundError as error:
        raise FileNotDeletable(f"{video.path} is no longer on disk.") from error
    except OSError as error:
        raise FileNotDeletable(f"stoat cannot reach {video.path}: {error.strerror}.") from error
    if stat.S_ISLNK(first.st_mode):
        raise FileNotDeletable(f"{video.path} is a symbolic link; stoat removes only real files.")
    if not stat.S_ISREG(first.st_mode):
        raise FileNotDeletable(f"{video.path} is not a regular file.")
    folder, name = os.path.split(os.path.realpath(path))
    if not inside_roots(folder):
        raise PathNotAllowed(f"{video.path} is outside the folders stoat may change.")
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError as error:
        raise FileNotDeletable(
            f"{video.path} changed since it was checked; it was kept."
        ) from error
    try:
        if not inside_roots(held_folder_path(fd, folder)):
            raise PathNotAllowed(f"{video.path} is outside the folders stoat may change.")
        try:
            held = os.lstat(name, dir_fd=fd)
        except OSError as error:
            raise FileNotDeletable(f"{video.path} is no longer on disk.") from error
        identity = (held.st_dev, held.st_ino)
        if identity != (first.st_dev, first.st_ino):
            raise FileNotDeletable(CHANGED.format(video.path))
        yield CheckedFile(fd, name, identity, video.path)
    finally:
        os.close(fd)


def check_deletable(video: Video) -> None:
    """Raise PathNotAllowed or FileNotDeletable now if `delete_file` would refuse the file."""
    with checked_file(video):
        pass


def delete_video(video: Video, delete_file: bool = False) -> None:
    """Remove the video from the library with its thumbnail, and with `delete_file` its file.

    The file goes only when it is a regular file inside an allowed scan root, and only the very
    file that was checked; otherwise this raises PathNotAllowed or FileNotDeletable and changes
    nothing.
    """
    thumbnail = thumbnail_file(video)
    with ExitStack() as held:
        target = held.enter_context(checked_file(video)) if delete_file else None
        with transaction.atomic():
            video.delete()
            if target is not None:
                # Raising here rolls the row back: the entry stays while its file does.
                target.remove()
    if thumbnail is not None:
        # Only once the row is gone, so a refused delete never leaves an entry without its picture.
        thumbnail.unlink(missing_ok=True)
