"""Find the video files under a folder. Knows the file system, nothing of the database."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from operator import attrgetter
from typing import NamedTuple

from stoat.library.probe import describe_os_error
from stoat.scans.mounts import read_mounts, virtual_mount_points
from stoat.scans.within import is_within


# Named tuples, not dataclasses: a rescan makes one per file, and tuples are built in C.
class FileEntry(NamedTuple):
    path: str
    size: int
    mtime_ns: int


class WalkError(NamedTuple):
    path: str
    message: str
    # False for one file that could not be used; True for a folder whose files are unknown.
    folder: bool = True


by_name = attrgetter("name")

LINK_OUTSIDE = (
    "a link to a file outside the folders being scanned; stoat does not follow links out of them"
)
NOT_A_FILE = "not a regular file (a pipe, socket or device); it was not opened"


def describe_link_error(error: OSError) -> str | None:
    if isinstance(error, FileNotFoundError):
        return "a broken link: the file it points to does not exist"
    return None


# Folders that NAS systems, sync tools and desktops keep beside media: never a library's videos.
SYSTEM_FOLDERS = frozenset(
    {"@eaDir", "#recycle", "#snapshot", "@Recycle", "__MACOSX", "lost+found"}
)


def is_system_name(name: str) -> bool:
    """Hidden files and folders (`.stfolder`, `.Trash-1000`, `.AppleDouble`) and system folders."""
    return name.startswith(".") or name in SYSTEM_FOLDERS


def has_extension(name: str, extensions: frozenset[str]) -> bool:
    dot = name.rfind(".")
    return dot > 0 and name[dot + 1 :].lower() in extensions


def virtual_devices() -> frozenset[int]:
    """Device numbers of the kernel's virtual file systems: a walk of `/` does not enter them."""
    found = set()
    for point in virtual_mount_points(read_mounts()):
        try:
            found.add(os.stat(point).st_dev)
        except OSError:
            continue
    return frozenset(found)


def walk(
    root: str,
    *,
    recursive: bool = True,
    extensions: Iterable[str],
    allowed_roots: Iterable[str] = (),
    skip_system: bool = False,
) -> Iterator[FileEntry | WalkError]:
    """Yield each regular video file under `root`, and an error for each place that can't be read.

    With `skip_system` (library scans), hidden files and NAS system folders are passed over.

    Symbolic links are followed only when they resolve inside the allowed roots (or inside `root`
    when none are set), and each folder is entered once, so a link loop ends the descent.
    """
    exts = frozenset(e.lower() for e in extensions)
    real_root = os.path.realpath(root)
    bounds = [os.path.realpath(r) for r in allowed_roots] or [real_root]
    # Checked again here: the folder may have been swapped for a link since the job was made.
    if not is_within(real_root, bounds):
        yield WalkError(root, "folder is outside the folders stoat may scan")
        return
    seen_dirs: set[tuple[int, int]] = set()
    try:
        st = os.stat(real_root)
    except OSError as error:
        yield WalkError(root, describe_os_error(error, "folder"))
        return
    skipped_devices = virtual_devices() - {st.st_dev}
    seen_dirs.add((st.st_dev, st.st_ino))
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=by_name)
            if skip_system:
                entries = [entry for entry in entries if not is_system_name(entry.name)]
        except OSError as error:
            yield WalkError(
                folder, f"folder could not be listed: {describe_os_error(error, 'folder')}"
            )
            continue
        subfolders: list[str] = []
        for entry in entries:
            video = False
            try:
                if entry.is_symlink():
                    video = has_extension(entry.name, exts)
                    target = os.path.realpath(entry.path)
                    if not is_within(target, bounds):
                        if video:
                            yield WalkError(entry.path, LINK_OUTSIDE, folder=False)
                        continue
                    info = os.stat(entry.path)
                # The type comes with the listing; only folders and videos cost a stat call.
                elif entry.is_dir(follow_symlinks=False):
                    info = entry.stat(follow_symlinks=False)
                else:
                    # has_extension, inlined: this line runs once per file of the tree.
                    name = entry.name
                    dot = name.rfind(".")
                    if dot <= 0 or name[dot + 1 :].lower() not in exts:
                        continue
                    video = True
                    info = entry.stat(follow_symlinks=False)
            except OSError as error:
                # Broken links, loops and files that vanished mid-walk are not videos to read;
                # one named like a video is reported, so the user learns why it is not listed.
                if video:
                    why = describe_link_error(error) if entry.is_symlink() else None
                    yield WalkError(entry.path, why or describe_os_error(error), folder=False)
                continue
            if stat.S_ISDIR(info.st_mode):
                if (
                    recursive
                    and (info.st_dev, info.st_ino) not in seen_dirs
                    and info.st_dev not in skipped_devices
                ):
                    seen_dirs.add((info.st_dev, info.st_ino))
                    subfolders.append(entry.path)
            elif not video:
                continue
            elif stat.S_ISREG(info.st_mode):
                yield FileEntry(entry.path, info.st_size, info.st_mtime_ns)
            else:
                # Opening a pipe or a device could block forever: it is never opened.
                yield WalkError(entry.path, NOT_A_FILE, folder=False)
        stack.extend(reversed(subfolders))
