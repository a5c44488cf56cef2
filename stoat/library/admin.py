from __future__ import annotations

from django.contrib import admin

from stoat.library.models import Video


@admin.register(Video)
class VideoAdmin(admin.ModelAdmin[Video]):
    list_display = (
        "filename",
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
    readonly_fields = ("path_key", "created_at", "updated_at")
    date_hierarchy = "created_at"
