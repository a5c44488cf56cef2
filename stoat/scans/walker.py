"""Find the video files under a folder. Knows the file system, nothing of the database."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from operator import attrgetter, itemgetter
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


# A walk hands its files over this many at a time, so a caller can stop inside a huge folder.
CHUNK = 256
# A found file as plain values (path, size, mtime_ns): a rescan makes one per file, and a plain
# tuple is built in C and compared in C (stoat.scans.scanner compares them as a set).
FileStat = tuple[str, int, int]


def walk(
    root: str,
    *,
    recursive: bool = True,
    extensions: Iterable[str],
    allowed_roots: Iterable[str] = (),
    skip_system: bool = False,
) -> Iterator[FileEntry | WalkError]:
    """Yield each regular video file under `root`, and an error for each place that can't be read,
    in the order of `walk_chunks` (folder by folder, names in order). Options as there."""
    for files, errors in walk_chunks(
        root,
        recursive=recursive,
        extensions=extensions,
        allowed_roots=allowed_roots,
        skip_system=skip_system,
    ):
        found: list[FileEntry | WalkError] = [FileEntry(*file) for file in files]
        found.extend(errors)
        # A folder's files and errors, merged back into the order of their names.
        yield from sorted(found, key=itemgetter(0)) if errors else found


def walk_chunks(
    root: str,
    *,
    recursive: bool = True,
    extensions: Iterable[str],
    allowed_roots: Iterable[str] = (),
    skip_system: bool = False,
    inodes: list[int] | None = None,
) -> Iterator[tuple[list[FileStat], list[WalkError]]]:
    """Yield the regular video files under `root` (path, size, mtime_ns) and the errors of the
    places that can't be read, a folder (or CHUNK of a large one) at a time: the folder's files
    in name order, then its subfolders, depth first.

    With `skip_system` (library scans), hidden files and NAS system folders are passed over.

    Symbolic links are followed only when they resolve inside the allowed roots (or inside `root`
    when none are set), and each folder is entered once, so a link loop ends the descent.

    `inodes`, when given, gets each file's inode in the order the files come (from the stat the
    walk makes anyway): the plan then tells renamed files apart without a second stat of each.
    """
    exts = frozenset(e.lower() for e in extensions)
    real_root = os.path.realpath(root)
    bounds = [os.path.realpath(r) for r in allowed_roots] or [real_root]
    # Checked again here: the folder may have been swapped for a link since the job was made.
    if not is_within(real_root, bounds):
        yield [], [WalkError(root, "folder is outside the folders stoat may scan")]
        return
    seen_dirs: set[tuple[int, int]] = set()
    # Bound once: this runs once per file.
    add_inode = (inodes if inodes is not None else []).append
    try:
        st = os.stat(real_root)
    except OSError as error:
        yield [], [WalkError(root, describe_os_error(error, "folder"))]
        return
    skipped_devices = virtual_devices() - {st.st_dev}
    seen_dirs.add((st.st_dev, st.st_ino))
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            # Listed through a descriptor: each file's stat is then looked up in this folder
            # (fstatat), not by its whole path again.
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        except OSError as error:
            yield [], [folder_error(folder, error)]
            continue
        try:
            try:
                with os.scandir(fd) as it:
                    entries = sorted(it, key=by_name)
            except OSError as error:
                yield [], [folder_error(folder, error)]
                continue
            prefix = folder if folder.endswith("/") else folder + "/"
            files: list[FileStat] = []
            errors: list[WalkError] = []
            subfolders: list[str] = []
            for entry in entries:
                name = entry.name
                try:
                    # The type comes with the listing: a regular file costs one stat only when
                    # its name is a video's (has_extension, inlined: this runs once per file).
                    if entry.is_file(follow_symlinks=False):
                        dot = name.rfind(".")
                        if dot <= 0 or name[dot + 1 :].lower() not in exts:
                            continue
                        if skip_system and name[0] == ".":
                            continue  # `._clip.mp4`: a Mac's resource fork, not a video
                        info = entry.stat(follow_symlinks=False)
                        if stat.S_ISREG(info.st_mode):
                            files.append((prefix + name, info.st_size, info.st_mtime_ns))
                            add_inode(info.st_ino)
                            if len(files) == CHUNK:
                                yield files, errors
                                files, errors = [], []
                            continue
                        video = True
                    else:
                        if skip_system and is_system_name(name):
                            continue
                        video, looked = other_entry(entry, prefix + name, exts, bounds, errors)
                        if looked is None:
                            continue
                        info = looked
                except OSError as error:
                    # Broken links, loops and files that vanished mid-walk are not videos to
                    # read; one named like a video is reported, so the user learns why.
                    if has_extension(name, exts):
                        why = describe_link_error(error) if entry.is_symlink() else None
                        errors.append(
                            WalkError(prefix + name, why or describe_os_error(error), folder=False)
                        )
                    continue
                if stat.S_ISDIR(info.st_mode):
                    if (
                        recursive
                        and (info.st_dev, info.st_ino) not in seen_dirs
                        and info.st_dev not in skipped_devices
                    ):
                        seen_dirs.add((info.st_dev, info.st_ino))
                        subfolders.append(prefix + name)
                elif not video:
                    continue
                elif stat.S_ISREG(info.st_mode):
                    files.append((prefix + name, info.st_size, info.st_mtime_ns))
                    add_inode(info.st_ino)
                else:
                    # Opening a pipe or a device could block forever: it is never opened.
                    errors.append(WalkError(prefix + name, NOT_A_FILE, folder=False))
            if files or errors:
                yield files, errors
        finally:
            os.close(fd)
        stack.extend(reversed(subfolders))


def folder_error(folder: str, error: OSError) -> WalkError:
    return WalkError(folder, f"folder could not be listed: {describe_os_error(error, 'folder')}")


def other_entry(
    entry: os.DirEntry[str],
    path: str,
    exts: frozenset[str],
    bounds: list[str],
    errors: list[WalkError],
) -> tuple[bool, os.stat_result | None]:
    """A link, folder or special file of a listing: (named like a video, its stat or None when
    it is passed over). Raises OSError when it cannot be looked at."""
    if entry.is_symlink():
        video = has_extension(entry.name, exts)
        if not is_within(os.path.realpath(path), bounds):
            if video:
                errors.append(WalkError(path, LINK_OUTSIDE, folder=False))
            return video, None
        return video, os.stat(path)
    if entry.is_dir(follow_symlinks=False):
        return False, entry.stat(follow_symlinks=False)
    if not has_extension(entry.name, exts):
        return False, None
    return True, entry.stat(follow_symlinks=False)
