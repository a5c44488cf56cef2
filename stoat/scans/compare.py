"""What changed in a folder since its last scan: the walk's files against the stored rows.

An unchanged rescan compares its files in C: the stored (path, size, mtime_ns) of the folder's
present videos as a set, the walk's files as the same plain tuples. Only the files left over
(new, changed, back from missing, names that are not UTF-8) and the rows left over (gone) cost
Python work and further queries, by the path key's index.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import filterfalse

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from stoat.library import summary
from stoat.library.models import Video, display_path, path_key
from stoat.scans.rows import select_in
from stoat.scans.store import chunks
from stoat.scans.walker import FileStat

# Rows per IN (...) list: SQLite's default limit on parameters is far above, and plans stay simple.
CHUNK = 500


@dataclass
class Changes:
    """What the rescan found: files to read (with whether a row is stored at their path), how many
    are unchanged, the path keys of unchanged files back from missing, the stored paths gone."""

    to_read: list[tuple[FileStat, bool]] = field(default_factory=list)
    unchanged: int = 0
    came_back: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)


def scope(root: str, recursive: bool) -> Q:
    """The stored rows of the folder `root` (display path), and of its subfolders if `recursive`."""
    prefix = root.rstrip("/") + "/"
    return Q(folder=root) | Q(folder__startswith=prefix) if recursive else Q(folder=root)


def present_rows(root: str, recursive: bool) -> set[FileStat]:
    """(path, size, mtime_ns) of the present videos stored for the folder, in one query."""
    rows = Video.objects.filter(scope(root, recursive), missing=False)
    sql, params = rows.values_list("path", "size", "mtime_ns").query.sql_with_params()
    found: set[FileStat] = set()
    with connection.cursor() as cursor:
        # Plain tuples from the driver, without the ORM's per-row converters.
        cursor.execute(sql, params)
        while chunk := cursor.fetchmany(5000):
            found.update(chunk)
    return found


def compare(
    entries: Sequence[FileStat],
    root: str,
    recursive: bool,
    failed_folders: Iterable[str] = (),
) -> Changes:
    """Compare the walk's `entries` under `root` (display path) with the stored rows."""
    present = present_rows(root, recursive)
    # In C: the files whose exact (path, size, mtime_ns) is stored for a present video.
    left = list(filterfalse(present.__contains__, entries))
    changes = Changes(unchanged=len(entries) - len(left))
    matched = changes.unchanged
    seen: set[str] = set()
    if left:
        keys = [path_key(path) for path, _, _ in left]
        stored: dict[str, tuple[str, int, int, bool]] = {}
        fields = ("path_key", "path", "size", "mtime_ns", "missing")
        for key, path, size, mtime_ns, missing in select_in(fields, "path_key", sorted(set(keys))):
            stored[key] = (path, size, mtime_ns, bool(missing))
        for entry, key in zip(left, keys, strict=True):
            row = stored.get(key)
            if row is None:
                changes.to_read.append((entry, False))
                continue
            seen.add(row[0])
            if not row[3]:
                matched += 1
            if (row[1], row[2]) == (entry[1], entry[2]):
                changes.unchanged += 1
                if row[3]:
                    changes.came_back.append(key)
            else:
                changes.to_read.append((entry, True))
    if matched < len(present):
        changes.gone = gone_paths(present, entries, seen, root, recursive, failed_folders)
    return changes


def gone_paths(
    present: set[FileStat],
    entries: Sequence[FileStat],
    seen: set[str],
    root: str,
    recursive: bool,
    failed_folders: Iterable[str],
) -> list[str]:
    """The stored paths of present videos the walk did not find, in order.

    Only rows really under the root count (SQLite's LIKE ignores case); under a folder that
    could not be listed, a file is not known to be gone.
    """
    prefix = root.rstrip("/") + "/"
    depth = len(prefix)
    unlisted = tuple(display_path(f).rstrip("/") + "/" for f in failed_folders)
    return sorted(
        path
        for path, _, _ in present.difference(entries)
        if path not in seen
        and path.startswith(prefix)
        and (recursive or "/" not in path[depth:])
        and not (unlisted and path.startswith(unlisted))
    )


def record(changes: Changes, job_id: int) -> None:
    """Mark the unchanged files back from missing present, and the gone ones missing."""
    if not changes.came_back and not changes.gone:
        return
    now = timezone.now()
    with transaction.atomic(), summary.one_mark():
        for chunk in chunks(sorted(changes.came_back), CHUNK):
            Video.objects.filter(path_key__in=chunk).update(missing=False, updated_at=now)
        for chunk in chunks(changes.gone, CHUNK):
            # By folder (indexed) and path: a stored path that is not UTF-8 has no key to hash.
            folders = sorted({os.path.dirname(path) for path in chunk})
            # Which scan found it gone: that scan's page lists it.
            Video.objects.filter(folder__in=folders, path__in=chunk).update(
                missing=True, missing_job=job_id
            )
