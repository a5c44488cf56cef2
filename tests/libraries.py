"""Factories for library tests."""

from __future__ import annotations

from pathlib import Path

from stoat.library.libraries import LibrarySpec, save_library
from stoat.library.models import Library


def add_library(path: Path, name: str = "Videos", **fields: object) -> Library:
    path.mkdir(parents=True, exist_ok=True)
    return save_library(LibrarySpec(name=name, path=str(path), **fields))  # type: ignore[arg-type]
