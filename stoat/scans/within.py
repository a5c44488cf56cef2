"""Whether a path lies inside a folder: the one spelling-based check (no Django, no I/O)."""

from __future__ import annotations

import os
from collections.abc import Iterable


def is_within(path: str, folders: Iterable[str]) -> bool:
    """Whether `path` is one of `folders` or lies below one, compared as spelled."""
    return any(path == f or path.startswith(f.rstrip(os.sep) + os.sep) for f in folders)
