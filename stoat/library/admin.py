from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from stoat.core.admin import WrittenByScans
from stoat.library.models import Video


@admin.register(Video)
class VideoAdmin(WrittenByScans, admin.ModelAdmin[Video]):
    list_display = (
        "name",
        "duration",
        "width",
        "height",
        "video_codec",
        "audio_codec",
        "size",
        "missing",
        "created_at",
    )
    list_filter = ("missing", "video_codec", "audio_codec", "container")
    search_fields = ("path", "filename")
    date_hierarchy = "created_at"

    @admin.display(description="file name", ordering="name_order")
    def name(self, video: Video) -> str:
        return video.filename

    def has_delete_permission(self, request: HttpRequest, obj: Video | None = None) -> bool:
        # The library's own delete removes the file and its thumbnail too; a row alone would return.
        return False
