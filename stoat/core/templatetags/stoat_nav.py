"""`{% nav_current "section" %}`: marks the header's link to the section the page belongs to."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()

# Each header section: its own page, and the pages (by view name or whole namespace) inside it.
SECTIONS: dict[str, tuple[str, frozenset[str]]] = {
    "library": ("library:index", frozenset({"library:index", "library:folder", "library:video"})),
    "libraries": ("libraries:list", frozenset({"libraries"})),
    "stats": ("library:stats", frozenset({"library:stats"})),
    "duplicates": ("library:duplicates", frozenset({"library:duplicates"})),
    "scans": ("scans:jobs", frozenset({"scans"})),
}


@register.simple_tag(takes_context=True)
def nav_current(context: template.Context, section: str) -> SafeString:
    """` aria-current="page"` on the section's own page, `="true"` on a page inside it (a
    video is in the Library, a scan in Scans), nothing elsewhere."""
    match = getattr(context.get("request"), "resolver_match", None)
    if match is None:
        return SafeString("")
    own, inside = SECTIONS[section]
    if match.view_name == own:
        return format_html(' aria-current="{}"', "page")
    if match.view_name in inside or match.namespace in inside:
        return format_html(' aria-current="{}"', "true")
    return SafeString("")
