"""Human units for the pages: 1.2 GB, 1:02:03, 1080p, 29.97 fps, "3 min ago"."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

RESOLUTION_NAMES = [(4320, "8K"), (2160, "4K"), (1440, "1440p"), (1080, "1080p"), (720, "720p")]


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
    short_side = min(width, height)
    for lines, name in RESOLUTION_NAMES:
        if short_side >= lines:
            return name
    return f"{short_side}p"


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
def size(num_bytes: int | None) -> str:
    return "–" if num_bytes is None else str(filesizeformat(num_bytes)).replace("\xa0", " ")


@register.filter
def seconds(value: float | None) -> str:
    if value is None:
        return "–"
    if value < 60:
        return f"{value:.1f} s"
    return duration(value)


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
