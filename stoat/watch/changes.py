"""From raw file-system changes to the folders to scan: settling, ignoring, and one scope.

Knows paths and the file system, nothing of the database or of watchfiles.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from stoat.scans.walker import has_extension, is_system_name

# A path seen changing: its size and date when last looked at, and since when they held.
Seen = tuple[int, int, float]
GONE = (-1, -1)


def is_ignored(path: str, root: str) -> bool:
    """Hidden or system names anywhere below the library's folder are not its videos."""
    relative = os.path.relpath(path, root)
    return relative.startswith("..") or any(is_system_name(part) for part in relative.split(os.sep))


@dataclass
class Settler:
    """Files wait here until their size and modification time stay the same for `settle` s.

    A file still being written keeps changing, so it keeps waiting (it is never given up on). A
    file that vanished waits as long, so that both ends of a move are read by one scan.
    """

    settle: float
    clock: Callable[[], float] = time.monotonic
    waiting: dict[str, Seen | None] = field(default_factory=dict)

    def add(self, paths: Iterable[str]) -> None:
        for path in paths:
            # Seen again: its settling starts over from the next look.
            self.waiting[path] = None

    def ready(self) -> list[str]:
        """The files that settled (or vanished) since the last call; they stop waiting."""
        now = self.clock()
        done: list[str] = []
        for path, seen in list(self.waiting.items()):
            try:
                info = os.stat(path)
                current = (info.st_size, info.st_mtime_ns)
            except OSError:
                current = GONE
            if seen is None or seen[:2] != current:
                self.waiting[path] = (*current, now)
            elif now - seen[2] >= self.settle:
                done.append(path)
        for path in done:
            del self.waiting[path]
        return sorted(done)

    def __len__(self) -> int:
        return len(self.waiting)


@dataclass(frozen=True)
class Scope:
    folder: str
    recursive: bool


def scope_of(files: Iterable[str], folders: Iterable[str], root: str, recursive: bool) -> Scope:
    """The one folder a scan must read to see every change: a file's folder alone when all are
    in one folder, else the deepest folder holding them all (with its subfolders).
    """
    parents = {os.path.dirname(path) for path in files}
    trees = set(folders)
    if not recursive:
        return Scope(root, False)
    if not trees and len(parents) == 1:
        return Scope(parents.pop(), False)
    common = os.path.commonpath([*parents, *trees]) if parents or trees else root
    inside = common == root or common.startswith(root.rstrip(os.sep) + os.sep)
    return Scope(common if inside else root, True)


def describe(files: list[str], folders: list[str], scope: Scope) -> str:
    """How the job history names a scan the watcher started."""
    if folders and not files:
        return f"watch: changes in {scope.folder}"
    count = len(files)
    return f"watch: {count} file{'s' if count != 1 else ''} in {scope.folder}"


MODIFIED = 2  # watchfiles' Change.modified: a folder's own date changing says nothing new


def sort_changes(
    changes: Iterable[tuple[int, str]],
    root: str,
    extensions: frozenset[str],
    known_folder: Callable[[str], bool],
) -> tuple[set[str], set[str]]:
    """Split changed paths into video files to settle and folders to rescan whole.

    A folder that appeared, vanished or was renamed may hold (or have held) videos; a path that
    is gone and was no video counts only when the library knows videos under it.
    """
    files: set[str] = set()
    folders: set[str] = set()
    for change, path in changes:
        if is_ignored(path, root):
            continue
        if has_extension(os.path.basename(path), extensions):
            files.add(path)
        elif change == MODIFIED:
            continue
        elif os.path.isdir(path) or (not os.path.lexists(path) and known_folder(path)):
            folders.add(path)
    return files, folders
