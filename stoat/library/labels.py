"""Long names and paths made short enough for a card or a chart, keeping the part that tells
them apart."""

from __future__ import annotations


def cut_end(label: str, length: int) -> str:
    return label if len(label) <= length else label[: length - 1] + "…"


def path_end(path: str, length: int) -> str:
    """The last folders of a path, which tell apart folders that share a start: …/holiday/2022."""
    if len(path) <= length:
        return path
    tail = ""
    for part in reversed(path.rstrip("/").split("/")):
        longer = f"{part}/{tail}" if tail else part
        if len(longer) + 2 > length:
            break
        tail = longer
    return f"…/{tail}" if tail else "…" + path[-(length - 1) :]
