"""Human units for the pages: 1.2 GB, 1:02:03, 1080p, 29.97 fps, "3 min ago"."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.core.paginator import Page
from django.http import QueryDict
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from stoat.library import labels
from stoat.library.names import (
    RESOLUTION_NAMES,
    codec_name,
    container_kind,
    container_name,
    resolution_class,
)

register = template.Library()


@register.filter
def duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


@register.filter
def resolution(video: object) -> str:
    width = getattr(video, "width", None)
    height = getattr(video, "height", None)
    if not width or not height:
        return "–"
    return RESOLUTION_NAMES[resolution_class(width, height)]


@register.simple_tag
def codec(name: str | None) -> SafeString:
    """A codec's everyday name, FFmpeg's canonical name on hover."""
    if not name:
        return mark_safe("none")
    return format_html('<abbr title="{}">{}</abbr>', name, codec_name(name))


@register.simple_tag
def container(video: object) -> SafeString:
    """The container's everyday name (MP4, Matroska), FFmpeg's demuxer name on hover."""
    demuxer = str(getattr(video, "container", "") or "")
    if not demuxer:
        return mark_safe("–")
    kind = container_kind(demuxer, str(getattr(video, "filename", "")))
    return format_html('<abbr title="{}">{}</abbr>', demuxer, container_name(kind))


@register.filter
def dimensions(video: object) -> str:
    width = getattr(video, "width", None)
    height = getattr(video, "height", None)
    return f"{width}×{height}" if width and height else "–"


@register.filter
def fps(video: object) -> str:
    rate = getattr(video, "frame_rate", None)
    if not rate:
        return "–"
    value = float(rate)
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{text} fps"


@register.filter
def size_text(num_bytes: int | None) -> str:
    """1.2 MB as plain text, for where no HTML may go (an SVG's text, a title, an alt)."""
    if num_bytes is None:
        return "–"
    return str(filesizeformat(num_bytes)).replace("\xa0", " ")


@register.filter
def size(num_bytes: int | None) -> SafeString:
    """1.2 MB, kept on one line wherever the text wraps."""
    if num_bytes is None:
        return mark_safe("–")
    return format_html('<span class="size">{}</span>', size_text(num_bytes))


@register.filter
def seconds(value: float | None) -> str:
    if value is None:
        return "–"
    if value < 60:
        return f"{value:.1f} s"
    return duration(value)


@register.filter
def middle(text: str, length: int = 40) -> str:
    """A long path cut in its middle, so where it starts and where it ends both show."""
    if len(text) <= length:
        return text
    keep = (length - 1) // 2
    return f"{text[:keep]}…{text[-keep:]}"


@register.filter
def path_end(text: str, length: int = 28) -> str:
    """A long folder by its last names: its start (the library's root) is the same for all."""
    return labels.path_end(text, length)


@register.filter
def backticks_as_code(text: str) -> SafeString:
    """Words shared with the command line, where commands are quoted in backticks, as HTML."""
    parts = re.split(r"`([^`]*)`", text)
    # Odd parts were inside backticks; each part is escaped by format_html.
    return mark_safe(
        "".join(
            format_html("<code>{}</code>", part) if index % 2 else format_html("{}", part)
            for index, part in enumerate(parts)
        )
    )


@register.filter
def contains(text: str, part: str) -> bool:
    return part.strip().casefold() in text.casefold()


@register.filter
def time_left(value: float | None) -> str:
    """An estimate in round figures: a precise-looking one would only flicker."""
    if value is None:
        return "–"
    if value < 10:
        return "a few seconds"
    if value < 60:
        return f"about {max(10, round(value / 5) * 5)} s"
    minutes = round(value / 60)
    if minutes < 60:
        return f"about {minutes} min"
    return f"about {minutes // 60} h {minutes % 60:02d} min"


@register.filter
def rate(value: float | None) -> str:
    return (
        "–" if value is None else f"{value:,.0f} files/s" if value >= 10 else f"{value:.1f} files/s"
    )


@register.simple_tag
def when(moment: datetime | None) -> SafeString:
    """A relative time with the exact timestamp on hover."""
    if moment is None:
        return mark_safe("<span>–</span>")
    local = timezone.localtime(moment)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        local.isoformat(),
        local.strftime("%Y-%m-%d %H:%M:%S %Z"),
        naturaltime(moment),
    )


@register.simple_tag(takes_context=True)
def page_query(context: template.Context, number: int) -> str:
    """This page's query string with another page number; repeated filters stay repeated."""
    query = context["request"].GET.copy()
    query["page"] = str(number)
    return str(query.urlencode())


@register.simple_tag(takes_context=True)
def page_url(context: dict[str, Any], number: int) -> str:
    """This page's address with another page number, every other parameter kept."""
    query: QueryDict = context["request"].GET.copy()
    query["page"] = str(number)
    return "?" + query.urlencode()


@register.simple_tag(takes_context=True)
def other_parameters(context: dict[str, Any]) -> list[tuple[str, str]]:
    """The parameters besides `page`, as hidden fields of the jump-to-page form."""
    return [
        (key, value)
        for key, values in context["request"].GET.lists()
        if key != "page"
        for value in values
    ]


@register.simple_tag
def page_numbers(page: Page[Any]) -> list[int | str]:
    """The first, the last and two either side of this page; "…" where numbers are left out."""
    return list(page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1))
