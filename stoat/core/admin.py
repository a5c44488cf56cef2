"""What the admin pages of every app share."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

# Characters of a path shown in a list; the whole path is in the cell's title.
PATH_SHOWN = 60


def short_path(path: str) -> SafeString:
    """A long path cut in the middle, so its start and its file name both stay readable."""
    shown = path if len(path) <= PATH_SHOWN else f"{path[:20]}…{path[-(PATH_SHOWN - 21) :]}"
    return format_html('<span title="{}">{}</span>', path, shown)


class WrittenByScans:
    """Rows that only a scan writes: the admin shows them and never adds or edits one."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
