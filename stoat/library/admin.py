from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from stoat.core.admin import WrittenByScans
from stoat.library.libraries import (
    LibraryError,
    LibrarySpec,
    check_spec,
    remove_library,
    sync_schedule,
)
from stoat.library.models import Library, Video


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


class LibraryAdminForm(forms.ModelForm[Library]):
    class Meta:
        model = Library
        fields = ["name", "path", "recursive", "every_minutes", "cron", "watch", "poll_seconds"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        spec = LibrarySpec(
            name=data["name"],
            path=data["path"],
            recursive=data.get("recursive", False),
            every=data.get("every_minutes"),
            cron=data.get("cron") or "",
            watch=data["watch"],
            poll_seconds=data["poll_seconds"],
        )
        try:
            clean = check_spec(spec, self.instance if self.instance.pk else None)
        except LibraryError as error:
            field = {"every": "every_minutes"}.get(error.field, error.field)
            self.add_error(field if field in self.fields else None, error.message)
            return data
        data["name"], data["path"], data["cron"] = clean.name, clean.path, clean.cron
        return data


@admin.register(Library)
class LibraryAdmin(admin.ModelAdmin[Library]):
    form = LibraryAdminForm
    list_display = ("name", "path", "recursive", "every_minutes", "cron", "watch", "created_at")
    search_fields = ("name", "path")

    def save_model(self, request: HttpRequest, obj: Library, form: Any, change: bool) -> None:
        # The schedule is saved with the library, as the page and the command do it.
        with transaction.atomic():
            obj.save()
            sync_schedule(obj)

    def delete_model(self, request: HttpRequest, obj: Library) -> None:
        remove_library(obj, forget_videos=False)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Library]) -> None:
        for library in queryset:
            remove_library(library, forget_videos=False)
